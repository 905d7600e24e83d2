/**
 * Probe results as Cyclonus-style truth tables, one per protocol and port: rows are
 * sources, columns destinations; `.` connected, `X` blocked, `-` skipped. Pure.
 */
import type { ProbeResult } from './session.js';

export function formatMatrix(results: ProbeResult[], pods: string[]): string {
  const groups = new Map<string, ProbeResult[]>();
  for (const r of results) {
    const key = `${r.protocol}/${r.port}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: string[] = [];
  const w = Math.max(...pods.map((p) => p.length)) + 1;
  for (const [key, rs] of groups) {
    const skipped = rs.find((r) => r.skipped);
    out.push(`${key}${skipped ? ` (${skipped.skipped})` : ''}`);
    out.push(`${''.padEnd(w)}${pods.map((p) => p.padEnd(w)).join('')}`);
    for (const from of pods) {
      const cells = pods.map((to) => {
        const r = rs.find((x) => x.from === from && x.to === to);
        const c = r === undefined || r.allowed === null ? '-' : r.allowed ? '.' : 'X';
        return c.padEnd(w);
      });
      out.push(`${from.padEnd(w)}${cells.join('')}`);
    }
    out.push('');
  }
  return out.join('\n');
}

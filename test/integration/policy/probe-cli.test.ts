import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { margay, REPO_ROOT } from '../../support/cli.js';
import { needsRoot } from '../../support/root.js';

describe.skipIf(needsRoot)('margay lab probe (needs root: lab namespaces, iptables; built CLI)', () => {
  it('--json: the model and one result per (from, to, port, protocol); SCTP skipped with the reason', () => {
    const r = margay(['lab', 'probe', '--policies', join(REPO_ROOT, 'examples', 'policies', '02-allow-from-y-b.yaml'), '--protocols', 'tcp,sctp', '--json'], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { model: { pods: unknown[] }; results: { from: string; to: string; port: number; protocol: string; allowed: boolean | null; skipped?: string }[] };
    expect(out.model.pods).toHaveLength(9);
    expect(out.results).toHaveLength(9 * 9 * 2 * 2);
    const intoXa = out.results.filter((x) => x.to === 'x/a' && x.protocol === 'TCP' && x.allowed).map((x) => `${x.from}:${x.port}`);
    expect(intoXa.sort()).toEqual(['x/a:80', 'x/a:81', 'y/b:80', 'y/b:81']);
    expect(out.results.filter((x) => x.protocol === 'TCP' && x.to !== 'x/a').every((x) => x.allowed)).toBe(true);
    expect(out.results.filter((x) => x.protocol === 'SCTP').every((x) => x.allowed === null && /no SCTP sockets/.test(x.skipped ?? ''))).toBe(true);
    expect(Object.keys(out.results[0] ?? {}).sort()).toEqual(['allowed', 'from', 'port', 'protocol', 'to']);
  });
});

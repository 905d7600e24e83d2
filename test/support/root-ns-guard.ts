/**
 * Network safety net for every test file (vitest setupFiles): a test may touch the
 * kernel only inside namespaces it creates. As root, this reads margay's traces in
 * the root network namespace — its iptables chains and hooks, its routes (protocols
 * 80 and 81), its devices (pod veths `mgw…`, the VXLAN tunnels; not tunl0, which the ipip module makes in every namespace) — before and
 * after the file, and fails the file that added any, naming them. Integration and
 * interop files run one at a time, so the file named is the one that did it; unit
 * files run in parallel, so there it names a file that ran at the time.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';

const MARGAY_DEVICE = /^\d+: (mgw[^:@ ]*|vxlan\.margay|vxlan-v6\.margay)[:@]/;

function lines(argv: string[]): string[] {
  try {
    return execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).split('\n');
  } catch {
    return []; // the tool is missing here: nothing of that kind to check
  }
}

/** margay's traces in this process's (the root) network namespace, one line each. */
export function rootTraces(): Set<string> {
  const out = new Set<string>();
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    for (const l of lines([tool])) if (/MARGAY|margay:/.test(l)) out.add(`${tool}: ${l}`);
  }
  for (const fam of ['-4', '-6']) {
    for (const proto of ['80', '81']) for (const l of lines(['ip', fam, 'route', 'show', 'proto', proto, 'table', 'all'])) if (l.trim()) out.add(`ip ${fam} route: ${l.trim()}`);
  }
  for (const l of lines(['ip', '-o', 'link', 'show'])) {
    const m = MARGAY_DEVICE.exec(l);
    if (m) out.add(`link: ${m[1] as string}`);
  }
  return out;
}

const asRoot = process.getuid?.() === 0;
let before = new Set<string>();

beforeAll(() => {
  if (asRoot) before = rootTraces();
});

afterAll(() => {
  if (!asRoot) return;
  const added = [...rootTraces()].filter((t) => !before.has(t));
  if (added.length > 0) {
    throw new Error(`network safety: this test file left margay traces in the root network namespace (tests must work in namespaces they create):\n  ${added.slice(0, 20).join('\n  ')}`);
  }
});

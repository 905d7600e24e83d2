import { describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { PolicyPass } from '../../../../agent/node/policy-pass.js';
import { AgentMetrics } from '../../../../agent/health/agent-metrics.js';
import { RouteTrace } from '../../../../agent/node/route-trace.js';
import { IpamView } from '../../../../agent/node/ipam-view.js';
import { emptyObjects, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Exec } from '../../../../policy/apply/exec.js';
import type { LoopTimers } from '../../../../agent/dataplane/loop.js';

const HOOK = '-m comment --comment "margay:hook" -j MARGAY-FORWARD';

/**
 * A fake kernel for the filter tables: `iptables-restore --noflush` input is
 * folded into per-family rule lists (:CHAIN, -A, -I X 1, -D, -F, -X), and
 * iptables-save prints them back. Enough to follow margay's own transactions.
 */
function fakeKernel(): { exec: Exec; calls: string[]; chains: Map<string, string[]>[] } {
  const calls: string[] = [];
  const fams = [new Map<string, string[]>(), new Map<string, string[]>()];
  for (const f of fams) for (const c of ['INPUT', 'FORWARD', 'OUTPUT']) f.set(c, []);
  const restore = (f: Map<string, string[]>, input: string): void => {
    for (const line of input.split('\n')) {
      const [op, chain = '', ...rest] = line.split(' ');
      const spec = rest.join(' ');
      if (line.startsWith(':')) f.set(line.slice(1).split(' ')[0] as string, []);
      else if (op === '-A') f.get(chain)?.push(spec);
      else if (op === '-I') f.get(chain)?.unshift(rest.slice(1).join(' '));
      else if (op === '-D') {
        const list = f.get(chain) ?? [];
        const i = list.indexOf(spec);
        if (i >= 0) list.splice(i, 1);
      } else if (op === '-F') f.set(chain, []);
      else if (op === '-X') f.delete(chain);
    }
  };
  const save = (f: Map<string, string[]>): string => {
    const lines = ['*filter'];
    for (const c of f.keys()) lines.push(`:${c} - [0:0]`);
    for (const [c, rules] of f) for (const r of rules) lines.push(`-A ${c} ${r}`);
    return [...lines, 'COMMIT', ''].join('\n');
  };
  const exec: Exec = {
    run(argv, input = '') {
      calls.push(argv[0] as string);
      const fam = argv[0]?.startsWith('ip6') ? fams[1] : fams[0];
      if (argv[0]?.endsWith('tables-save')) return Promise.resolve({ stdout: save(fam as Map<string, string[]>), stderr: '' });
      if (argv[0]?.endsWith('tables-restore')) restore(fam as Map<string, string[]>, input);
      return Promise.resolve({ stdout: '', stderr: '' });
    },
  };
  return { exec, calls, chains: fams };
}

function passWith(exec: Exec, metrics = new AgentMetrics()): { pass: PolicyPass; resync: () => void } {
  let tick: (() => void) | undefined;
  const timers: LoopTimers = { setInterval: (fn) => { tick = fn; return 1; }, clearInterval: () => undefined };
  const log = pino({ level: 'silent' });
  const view = new IpamView('n1');
  view.read = true;
  const snapshot: Snapshot = { revision: 1, objects: emptyObjects() };
  const pass = new PolicyPass({ node: 'n1', log, metrics, trace: new RouteTrace(false, log), snapshot: () => snapshot, view, cni: () => undefined, exec, timers });
  pass.start(60_000, (err) => { throw err; });
  return { pass, resync: () => tick?.() };
}

describe('PolicyPass: the periodic resync reads the kernel again', () => {
  it('a hook deleted behind margay\'s back (iptables -F FORWARD) is re-added by the next resync pass; a kicked pass stays incremental', async () => {
    const k = fakeKernel();
    const { pass, resync } = passWith(k.exec);
    try {
      pass.kick();
      await vi.waitFor(() => expect(pass.synced).toBe(true));
      expect(k.chains[0]?.get('FORWARD')).toEqual([HOOK]);
      expect(k.calls.filter((c) => c === 'iptables-save')).toHaveLength(1);

      k.chains[0]?.set('FORWARD', []); // a firewall reload flushed FORWARD
      pass.kick(); // an input change: incremental, the kernel is not read
      await vi.waitFor(() => expect(pass.status().applies).toBe(2));
      expect(k.calls.filter((c) => c === 'iptables-save')).toHaveLength(1);
      expect(k.chains[0]?.get('FORWARD')).toEqual([]);

      resync();
      await vi.waitFor(() => expect(pass.status().applies).toBe(3));
      expect(k.calls.filter((c) => c === 'iptables-save')).toHaveLength(2);
      expect(k.chains[0]?.get('FORWARD')).toEqual([HOOK]);
      expect(pass.synced).toBe(true);
    } finally {
      pass.stop();
    }
  });
});

describe('PolicyPass: margay_policy_sync_seconds means "input change → rules applied"', () => {
  const count = (m: AgentMetrics): number => Number(/^margay_policy_sync_seconds_count (\d+)$/m.exec(m.render())?.[1] ?? 0);
  it('a resync tick no kick asked for adds no sample; a kicked change adds one', async () => {
    const metrics = new AgentMetrics();
    const { pass, resync } = passWith(fakeKernel().exec, metrics);
    try {
      pass.kick();
      await vi.waitFor(() => expect(pass.status().applies).toBe(1));
      expect(count(metrics)).toBe(1);
      resync(); // the periodic resync: no input changed
      await vi.waitFor(() => expect(pass.status().applies).toBe(2));
      expect(count(metrics)).toBe(1);
      pass.kick(); // an input change
      await vi.waitFor(() => expect(pass.status().applies).toBe(3));
      expect(count(metrics)).toBe(2);
    } finally {
      pass.stop();
    }
  });
});

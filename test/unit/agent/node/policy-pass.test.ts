import { describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { PolicyPass } from '../../../../agent/node/policy-pass.js';
import { AgentMetrics } from '../../../../agent/health/agent-metrics.js';
import { RouteTrace } from '../../../../agent/node/route-trace.js';
import { IpamView } from '../../../../agent/node/ipam-view.js';
import { emptyObjects, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import { objectKey, type Resource, type ResourceKind } from '../../../../agent/datastore/resources.js';
import type { Handle } from '../../../../agent/ipam/types.js';
import { ExecFailure, type Exec } from '../../../../policy/apply/exec.js';
import type { LoopTimers } from '../../../../agent/dataplane/loop.js';

const HOOK = '-m comment --comment "margay:hook" -j MARGAY-FORWARD';

/**
 * A fake kernel for the filter tables: `iptables-restore --noflush` input is
 * folded into per-family rule lists (:CHAIN, -A, -I X 1, -D, -F, -X), and
 * iptables-save prints them back. Enough to follow margay's own transactions.
 */
function fakeKernel(opts: { noIpv6?: boolean } = {}): { exec: Exec; calls: string[]; chains: Map<string, string[]>[] } {
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
      if (opts.noIpv6 && argv[0]?.startsWith('ip6')) return Promise.reject(new ExecFailure(argv, 1, `${argv[0]} v1.8.9 (legacy): Cannot initialize: Address family not supported by protocol\n`));
      const fam = argv[0]?.startsWith('ip6') ? fams[1] : fams[0];
      if (argv[0]?.endsWith('tables-save')) return Promise.resolve({ stdout: save(fam as Map<string, string[]>), stderr: '' });
      if (argv[0]?.endsWith('tables-restore')) restore(fam as Map<string, string[]>, input);
      return Promise.resolve({ stdout: '', stderr: '' });
    },
  };
  return { exec, calls, chains: fams };
}

interface Passing {
  pass: PolicyPass;
  resync: () => void;
  view: IpamView;
  /** replaces the snapshot's objects of one kind (a new map, as ObjectCache.snapshot makes for a changed kind) */
  change: (kind: ResourceKind, objs: Resource[]) => void;
  setLinks: (l: ReadonlySet<string> | undefined) => void;
}

function passWith(exec: Exec, metrics = new AgentMetrics()): Passing {
  let tick: (() => void) | undefined;
  const timers: LoopTimers = { setInterval: (fn) => { tick = fn; return 1; }, clearInterval: () => undefined };
  const log = pino({ level: 'silent' });
  const view = new IpamView('n1');
  view.read = true;
  let snapshot: Snapshot = { revision: 1, objects: emptyObjects() };
  let links: ReadonlySet<string> | undefined;
  const pass = new PolicyPass({ node: 'n1', log, metrics, trace: new RouteTrace(false, log), snapshot: () => snapshot, view, cni: () => undefined, exec, timers, links: () => links });
  pass.start(60_000, (err) => { throw err; });
  const change = (kind: ResourceKind, objs: Resource[]): void => {
    const objects = new Map(snapshot.objects);
    objects.set(kind, new Map(objs.map((o) => [objectKey(o.metadata), o])));
    snapshot = { revision: snapshot.revision + 1, objects };
  };
  return { pass, resync: () => tick?.(), view, change, setLinks: (l) => { links = l; } };
}

const pod = (name: string, ip: string, labels: Record<string, string> = {}): Resource =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { nodeName: 'n2' }, status: { podIP: ip } }) as Resource;

describe('PolicyPass: the periodic resync reads the kernel again', () => {
  it('a hook deleted behind margay\'s back (iptables -F FORWARD) is re-added by the next resync pass; a kicked pass stays incremental', async () => {
    const k = fakeKernel();
    const { pass, resync, change } = passWith(k.exec);
    try {
      pass.kick();
      await vi.waitFor(() => expect(pass.synced).toBe(true));
      expect(k.chains[0]?.get('FORWARD')).toEqual([HOOK]);
      expect(k.calls.filter((c) => c === 'iptables-save')).toHaveLength(1);

      k.chains[0]?.set('FORWARD', []); // a firewall reload flushed FORWARD
      change('Pod', [pod('a', '10.0.0.1')]);
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
    const { pass, resync, change } = passWith(fakeKernel().exec, metrics);
    try {
      pass.kick();
      await vi.waitFor(() => expect(pass.status().applies).toBe(1));
      expect(count(metrics)).toBe(1);
      resync(); // the periodic resync: no input changed
      await vi.waitFor(() => expect(pass.status().applies).toBe(2));
      expect(count(metrics)).toBe(1);
      change('Pod', [pod('a', '10.0.0.1')]);
      pass.kick(); // an input change
      await vi.waitFor(() => expect(pass.status().applies).toBe(3));
      expect(count(metrics)).toBe(2);
      pass.kick(); // a kick whose change policy does not read: skipped, no sample
      await vi.waitFor(() => expect(pass.skipped).toBe(1));
      expect(count(metrics)).toBe(2);
      expect(pass.status().applies).toBe(3);
    } finally {
      pass.stop();
    }
  });
});

describe('PolicyPass: a pass whose inputs did not change since the last successful one does nothing', () => {
  const handle = (name: string, address: string): Handle => ({
    handle: `k8s-pod-network.${name}`, addresses: [{ family: 4, address, block: '10.0.0.0/26', pool: 'p' }],
    attrs: { node: 'n2', pod: { namespace: 'default', name }, containerId: name },
  });
  const settle = async (pass: PolicyPass, runs: number, skips: number): Promise<void> => {
    await vi.waitFor(() => expect(pass.status().applies + pass.skipped).toBe(runs + skips));
    expect(pass.status().applies).toBe(runs);
    expect(pass.skipped).toBe(skips);
  };

  it('the same snapshot maps, handles and links: no exec; a changed kind, handle or link runs a pass; a resync tick always runs', async () => {
    const k = fakeKernel();
    const { pass, resync, change, view, setLinks } = passWith(k.exec);
    try {
      change('Pod', [pod('a', '10.0.0.1')]);
      view.handles = [handle('a', '10.0.0.1')];
      pass.kick();
      await settle(pass, 1, 0);
      const calls = k.calls.length;
      pass.kick(); // nothing changed
      await settle(pass, 1, 1);
      expect(k.calls.length).toBe(calls);
      change('Node', []); // a kind policy does not read
      view.handles = [handle('a', '10.0.0.1')]; // a re-list: new records, same values
      pass.kick();
      await settle(pass, 1, 2);
      expect(k.calls.length).toBe(calls);

      change('Pod', [pod('a', '10.0.0.1', { app: 'x' })]); // a pod changed: a new object
      pass.kick();
      await settle(pass, 2, 2);
      view.handles = [handle('a', '10.0.0.2')];
      pass.kick();
      await settle(pass, 3, 2);
      setLinks(new Set(['eth0']));
      pass.kick();
      await settle(pass, 4, 2);
      setLinks(new Set(['eth0']));
      pass.kick(); // the same names in a new set
      await settle(pass, 4, 3);
      change('NetworkPolicy', []);
      pass.kick();
      await settle(pass, 5, 3);
      change('Namespace', []);
      pass.kick();
      await settle(pass, 6, 3);

      const saves = k.calls.filter((c) => c === 'iptables-save').length;
      resync(); // nothing changed, but a resync reads the kernel again
      await settle(pass, 7, 3);
      expect(k.calls.filter((c) => c === 'iptables-save').length).toBe(saves + 1);
    } finally {
      pass.stop();
    }
  });

  it('after a failed pass the same inputs run again (the retry is not skipped)', async () => {
    const k = fakeKernel();
    let failing = false;
    const exec: Exec = {
      run: (argv, input) => (failing && argv[0]?.endsWith('tables-restore') ? Promise.reject(new Error('iptables-restore: resource busy')) : k.exec.run(argv, input)),
    };
    const { pass, change } = passWith(exec);
    try {
      pass.kick();
      await vi.waitFor(() => expect(pass.synced).toBe(true));
      // a local pod and a policy selecting it: chains to write
      change('Pod', [{ ...pod('a', '10.0.0.1'), spec: { nodeName: 'n1' } } as Resource]);
      change('NetworkPolicy', [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'default' }, spec: { podSelector: {} } } as Resource]);
      failing = true;
      pass.kick();
      await vi.waitFor(() => expect(pass.status().failures).toBe(1));
      expect(pass.synced).toBe(false);
      failing = false;
      pass.kick(); // the same inputs as the failed pass
      await vi.waitFor(() => expect(pass.synced).toBe(true));
      expect(pass.skipped).toBe(0);
    } finally {
      pass.stop();
    }
  });
});

describe('policy pass: the apply\'s problems', () => {
  it('a kernel without IPv6 (ip6tables: Address family not supported): IPv4 applied, the pass ok, and the problem listed for margay status', async () => {
    const k = fakeKernel({ noIpv6: true });
    const { pass } = passWith(k.exec);
    pass.kick();
    await vi.waitFor(() => expect(pass.synced).toBe(true));
    expect(k.calls).toContain('iptables-restore');
    expect(pass.problemList.join('\n')).toMatch(/^policy: IPv6 .*Address family not supported/m);
    pass.stop();
  });
});

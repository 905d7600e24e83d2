/**
 * margay_route_programming_seconds means "input change → routes converged": the
 * periodic resync tick and the safety-net full pass after a fast-path write (passes
 * no input change asked for) add no sample; a kicked change adds one; a fast write
 * adds one, not two. RoutesPass runs on a recording Rtnl, a fake iptables and an
 * injected resync timer.
 */
import { describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { RoutesPass } from '../../../../agent/node/routes-pass.js';
import { AgentMetrics } from '../../../../agent/health/agent-metrics.js';
import { RouteTrace } from '../../../../agent/node/route-trace.js';
import { IpamView } from '../../../../agent/node/ipam-view.js';
import { ObjectCache } from '../../../../agent/datastore/snapshot.js';
import type { Rtnl, RouteWrite } from '../../../../agent/dataplane/kernel/rtnl.js';
import type { LoopTimers } from '../../../../agent/dataplane/loop.js';
import type { NodeBgp } from '../../../../agent/node/bgp.js';

function setup(): { pass: RoutesPass; metrics: AgentMetrics; resync: () => void; learned: Map<string, string[]>; writes: RouteWrite[][] } {
  const cache = new ObjectCache();
  for (const [name, addr] of [['n1', '172.30.0.11/24'], ['n2', '172.30.0.12/24']] as const) {
    cache.set({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: {}, annotations: { 'margay.io/bgp-ipv4-address': addr } } });
  }
  const snapshot = cache.snapshot();
  const writes: RouteWrite[][] = [];
  const nl: Rtnl = {
    links: () => [{ index: 2, name: 'eth0', flags: 1, mtu: 1500 }], // IFF_UP
    linkByName: () => undefined, addLink: () => undefined, setLink: () => undefined, deleteLink: () => undefined,
    addrs: () => [], addAddr: () => undefined, deleteAddr: () => undefined, routes: () => [], neighs: () => [], writeNeighs: () => [], close: () => undefined,
    writeRoutes: (ws) => { writes.push([...ws]); return []; },
  };
  let tick: (() => void) | undefined;
  const timers: LoopTimers = { setInterval: (fn) => { tick = fn; return 1; }, clearInterval: () => undefined };
  const log = pino({ level: 'silent' });
  const view = new IpamView('n1');
  view.read = true;
  const metrics = new AgentMetrics();
  const learned = new Map<string, string[]>();
  const bgp = { running: false, synced: () => ({ synced: true, waiting: [] }) } as unknown as NodeBgp;
  const pass = new RoutesPass({
    o: { node: 'n1', uplink: 'eth0', fastWarm: false, logs: { agent: log, bgp: log, dataplane: log, policy: log, cni: log } },
    metrics, trace: new RouteTrace(false, log), bgp, bgpOff: true, view, snapshot: () => snapshot, rtnl: () => nl,
    own: () => [], learned: () => learned, ensureTunnelAddresses: () => Promise.resolve(), stopped: () => false,
    exec: () => Promise.resolve({ code: 1, stdout: '', stderr: '' }), timers,
  });
  pass.start((err) => { throw err; });
  return { pass, metrics, resync: () => tick?.(), learned, writes };
}

const count = (m: AgentMetrics): number => Number(/^margay_route_programming_seconds_count (\d+)$/m.exec(m.render())?.[1] ?? 0);
const passes = (m: AgentMetrics): number => m.registry.value('margay_applies_total', { component: 'dataplane' }) ?? 0;

describe('RoutesPass: margay_route_programming_seconds counts input changes only', () => {
  it('a resync tick with no kick leaves _count unchanged; a kicked change adds one', async () => {
    const { pass, metrics, resync } = setup();
    try {
      pass.kick();
      await vi.waitFor(() => expect(passes(metrics)).toBe(1));
      expect(pass.failure).toBeUndefined();
      expect(count(metrics)).toBe(1);
      resync(); // the periodic resync: no input changed
      await vi.waitFor(() => expect(passes(metrics)).toBe(2));
      expect(count(metrics)).toBe(1);
      pass.kick(); // an input change
      await vi.waitFor(() => expect(passes(metrics)).toBe(3));
      expect(count(metrics)).toBe(2);
    } finally {
      pass.stop();
    }
  });

  it('a fast-path write adds one sample; the safety-net full pass after it adds none', async () => {
    const { pass, metrics, learned, writes } = setup();
    try {
      pass.kick();
      await vi.waitFor(() => expect(passes(metrics)).toBe(1));
      expect(count(metrics)).toBe(1);
      learned.set('10.0.1.0/26', ['172.30.0.12']);
      pass.writeFast(['10.0.1.0/26']);
      expect(writes.flat().map((w) => w.route.dst)).toContain('10.0.1.0/26');
      expect(count(metrics)).toBe(2); // the fast write itself
      await vi.waitFor(() => expect(passes(metrics)).toBe(2)); // the safety net (50 ms later)
      expect(count(metrics)).toBe(2);
    } finally {
      pass.stop();
    }
  });
});

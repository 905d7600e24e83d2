/**
 * After a multi-agent restart the gate opens by the bound while a mesh peer is still
 * coming back: that peer's node's blocks stay in the plan, via the peer, until the
 * peer is in sync or HOLD_WAITING_MS has passed — nodes that did not restart keep
 * them as stale for 120 s, a restarted one must not delete them at 10 s.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { HOLD_WAITING_MS, RoutesPass } from '../../../../agent/node/routes-pass.js';
import { AgentMetrics } from '../../../../agent/health/agent-metrics.js';
import { RouteTrace } from '../../../../agent/node/route-trace.js';
import { IpamView } from '../../../../agent/node/ipam-view.js';
import { ObjectCache } from '../../../../agent/datastore/snapshot.js';
import type { Rtnl } from '../../../../agent/dataplane/kernel/rtnl.js';
import type { LoopTimers } from '../../../../agent/dataplane/loop.js';
import type { NodeBgp } from '../../../../agent/node/bgp.js';

const N2 = '172.30.0.12';
const N3 = '172.30.0.13';

type Block = IpamView['blocks'][number];
const block = (cidr: string, node: string): Block => ({ cidr, pool: 'p', affinity: `host:${node}`, allocations: [], attributes: {} });

function setup(o: { own?: Block[]; learned?: [string, string[]][]; waiting?: string[] } = {}): { pass: RoutesPass; metrics: AgentMetrics; waiting: string[] } {
  const cache = new ObjectCache();
  for (const [name, addr] of [['n1', '172.30.0.11/24'], ['n2', `${N2}/24`], ['n3', `${N3}/24`]] as const) {
    cache.set({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: {}, annotations: { 'margay.io/bgp-ipv4-address': addr } } });
  }
  const snapshot = cache.snapshot();
  const nl: Rtnl = {
    links: () => [{ index: 2, name: 'eth0', flags: 1, mtu: 1500 }],
    linkByName: () => undefined, addLink: () => undefined, setLink: () => undefined, deleteLink: () => undefined,
    addrs: () => [], addAddr: () => undefined, deleteAddr: () => undefined, routes: () => [], neighs: () => [], writeNeighs: () => [], close: () => undefined,
    writeRoutes: () => [],
  };
  const timers: LoopTimers = { setInterval: () => 1, clearInterval: () => undefined };
  const log = pino({ level: 'silent' });
  const view = new IpamView('n1');
  view.read = true;
  view.blocks = [block('10.244.2.0/26', 'n2'), block('10.244.3.0/26', 'n3'), ...(o.own ?? [])];
  const learned = new Map<string, string[]>(o.learned ?? [['10.244.2.0/26', [N2]]]); // n2 came back; n3 never connects
  const waiting = o.waiting ?? [N3];
  const bgp = {
    running: true, synced: () => ({ synced: waiting.length === 0, waiting: [...waiting] }), keptForwarding: () => undefined, warm: () => undefined,
    peerNodes: () => new Map([[N2, 'n2'], [N3, 'n3']]),
  } as unknown as NodeBgp;
  const metrics = new AgentMetrics();
  const pass = new RoutesPass({
    o: { node: 'n1', uplink: 'eth0', fastWarm: false, syncBoundMs: 10_000, logs: { agent: log, bgp: log, dataplane: log, policy: log, cni: log } },
    metrics, trace: new RouteTrace(false, log), bgp, bgpOff: false, view, snapshot: () => snapshot, rtnl: () => nl,
    own: () => o.own ?? [], learned: () => learned, ensureTunnelAddresses: () => Promise.resolve(), stopped: () => false,
    exec: () => Promise.resolve({ code: 1, stdout: '', stderr: '' }), timers,
  });
  pass.start((err) => { throw err; });
  return { pass, metrics, waiting };
}

const passes = (m: AgentMetrics): number => m.registry.value('margay_applies_total', { component: 'dataplane' }) ?? 0;
const planned = (pass: RoutesPass): string[] => (pass.lastReport?.plan.routes ?? []).map((r) => r.dst).sort();

describe('RoutesPass: a mesh peer not back within the bound keeps its node\'s blocks for a while', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('two peers, one never connecting: its block is still in the plan at 11 s, gone after the hold', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const { pass, metrics } = setup();
    try {
      pass.kick();
      await new Promise((r) => setTimeout(r, 20));
      expect(pass.gateOpen).toBe(false);
      vi.setSystemTime(1_011_000); // the bound has passed, n3 still not Established
      pass.kick();
      await vi.waitFor(() => expect(passes(metrics)).toBe(1));
      expect(pass.gateOpen).toBe(true);
      expect(planned(pass)).toEqual(['10.244.2.0/26', '10.244.3.0/26']);
      vi.setSystemTime(1_011_000 + HOLD_WAITING_MS + 1);
      pass.kick();
      await vi.waitFor(() => expect(passes(metrics)).toBe(2));
      expect(planned(pass)).toEqual(['10.244.2.0/26']);
    } finally {
      pass.stop();
    }
  });

  it('the hold ends when the peer is in sync: then only what it sent counts', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const { pass, metrics, waiting } = setup();
    try {
      vi.setSystemTime(1_000_000);
      pass.kick();
      await new Promise((r) => setTimeout(r, 20));
      vi.setSystemTime(1_011_000);
      pass.kick();
      await vi.waitFor(() => expect(passes(metrics)).toBe(1));
      expect(planned(pass)).toContain('10.244.3.0/26');
      waiting.length = 0; // n3 Established with its End-of-RIB, which did not carry its block
      pass.kick();
      await vi.waitFor(() => expect(passes(metrics)).toBe(2));
      expect(planned(pass)).toEqual(['10.244.2.0/26']);
    } finally {
      pass.stop();
    }
  });
});

describe('RoutesPass: a learned route inside this node\'s own block', () => {
  it('is not programmed and is named in the status problems (the node\'s own pod routes win)', async () => {
    const { pass, metrics } = setup({ own: [block('10.244.1.0/26', 'n1')], learned: [['10.244.1.5/32', ['172.30.0.1']], ['10.244.2.0/26', [N2]]], waiting: [] });
    try {
      pass.kick();
      await vi.waitFor(() => expect(passes(metrics)).toBe(1));
      expect(planned(pass)).not.toContain('10.244.1.5/32');
      expect(pass.unmapped).toEqual([expect.stringMatching(/^route 10\.244\.1\.5\/32 via 172\.30\.0\.1: inside this node's own block 10\.244\.1\.0\/26, not programmed/)]);
    } finally {
      pass.stop();
    }
  });
});

/**
 * The routes pass's gate (graceful restart, fail static): the sync bound is timed
 * from when the speaker starts, not from when the agent was built — a restarting
 * agent whose API server answered slowly must still give its peers the whole bound
 * to resync before routes it has not learned again are deleted.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { RoutesPass } from '../../../../agent/node/routes-pass.js';
import { AgentMetrics } from '../../../../agent/health/agent-metrics.js';
import { RouteTrace } from '../../../../agent/node/route-trace.js';
import { IpamView } from '../../../../agent/node/ipam-view.js';
import type { NodeBgp } from '../../../../agent/node/bgp.js';

interface FakeBgp { running: boolean; synced: () => { synced: boolean; waiting: string[] }; keptForwarding: () => void }

function setup(bound = 10_000): { pass: RoutesPass; bgp: FakeBgp; gate: () => boolean } {
  const log = pino({ level: 'silent' });
  const view = new IpamView('n1');
  view.read = true;
  const bgp: FakeBgp = { running: false, synced: () => ({ synced: false, waiting: ['10.0.0.2'] }), keptForwarding: () => undefined };
  const pass = new RoutesPass({
    o: { node: 'n1', uplink: 'eth0', fastWarm: false, syncBoundMs: bound, logs: { agent: log, bgp: log, dataplane: log, policy: log, cni: log } },
    metrics: new AgentMetrics(), trace: new RouteTrace(false, log), bgp: bgp as unknown as NodeBgp, bgpOff: false, view,
    snapshot: () => undefined, rtnl: () => undefined, own: () => [], learned: () => new Map(), ensureTunnelAddresses: () => Promise.resolve(), stopped: () => false,
  });
  // the private gate, the decision itself (run() needs a kernel and a snapshot around it)
  const gate = (): boolean => (pass as unknown as { gate(): boolean }).gate();
  return { pass, bgp, gate };
}

describe('RoutesPass gate: the sync bound starts with the speaker', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('agent built 12 s ago, BGP just started, not synced: the gate stays shut until 10 s after the start', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const { pass, bgp, gate } = setup();
    vi.setSystemTime(1_012_000); // datastore.start() took 12 s
    bgp.running = true;
    expect(gate()).toBe(false);
    expect(pass.gateOpen).toBe(false);
    vi.setSystemTime(1_021_000);
    expect(gate()).toBe(false);
    vi.setSystemTime(1_022_000);
    expect(gate()).toBe(true);
    expect(pass.gateOpen).toBe(true);
  });

  it('synced opens it at once', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const { bgp, gate } = setup();
    bgp.running = true;
    expect(gate()).toBe(false);
    bgp.synced = () => ({ synced: true, waiting: [] });
    expect(gate()).toBe(true);
  });

  it('no speaker yet: the clock starts at the first gated pass and restarts when the speaker starts', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const { bgp, gate } = setup();
    vi.setSystemTime(1_030_000);
    expect(gate()).toBe(false); // first pass 30 s after the agent was built: not open by the bound
    vi.setSystemTime(1_035_000);
    bgp.running = true; // the speaker starts 5 s later: a fresh bound
    expect(gate()).toBe(false);
    vi.setSystemTime(1_044_000);
    expect(gate()).toBe(false);
    vi.setSystemTime(1_045_000);
    expect(gate()).toBe(true);
  });

  it('a speaker that never starts: the bound from the first gated pass still opens the gate', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const { gate } = setup();
    expect(gate()).toBe(false);
    vi.setSystemTime(1_010_000);
    expect(gate()).toBe(true);
  });
});

/**
 * The agent as a restarting speaker (RFC 4724 §4.1): when the kernel kept routes of a
 * previous run, its OPEN has R=1 and F=1 and the speaker defers advertising; on a
 * first boot R=0 and F=0 (no forwarding state to claim) until the dataplane programs
 * routes (preserveForwarding), after which later OPENs carry F=1.
 */
import { describe, expect, it } from 'vitest';
import { AgentSpeakerCore } from '../../../../agent/node/bgp-core.js';
import { keptRoutes } from '../../../../agent/node/bgp.js';
import type { PeerAction } from '../../../../bgp/session/driver.js';
import type { PeerConfig } from '../../../../bgp/speaker/index.js';
import type { RouteMsg } from '../../../../agent/dataplane/netlink/route.js';

const peer: PeerConfig = { address: '10.0.0.2', asn: 64512, passive: false, gracefulRestart: true, families: ['ipv4'], port: 179 };

interface GrCap { restarted: boolean; families: { forwardingPreserved: boolean }[] }

/** starts the core, confirms the outgoing connection, returns the GR capability of the OPEN sent */
function openOf(c: AgentSpeakerCore, actions: PeerAction[], now = 0): GrCap | undefined {
  const connect = actions.find((a) => a.action.type === 'connect');
  if (!connect || connect.action.type !== 'connect') throw new Error('no connect action');
  const out = c.handle(peer.address, { type: 'TcpConnectionConfirmed', direction: 'out', conn: connect.action.conn }, now);
  const open = out.find((a) => a.action.type === 'send' && a.action.message.type === 'OPEN');
  if (!open || open.action.type !== 'send' || open.action.message.type !== 'OPEN') throw new Error('no OPEN sent');
  return open.action.message.capabilities.find((x) => x.code === 64) as GrCap | undefined;
}

const core = (restarting: boolean): AgentSpeakerCore => {
  const c = new AgentSpeakerCore({ asn: 64512, routerId: '10.0.0.1', restartTime: 120, restarting, onRoutes: () => undefined });
  c.setPeers([peer]);
  c.setOriginated(['10.244.0.0/26']);
  return c;
};

describe('the agent speaker core: restarting or first boot', () => {
  it('restarting: OPEN with R=1 and F=1, the deferral timer started, advertising deferred', () => {
    const c = core(true);
    const start = c.start(0);
    expect(start.some((a) => a.action.type === 'startTimer' && a.action.name === 'Deferral')).toBe(true);
    expect(c.deferring).toBe(true);
    const gr = openOf(c, start);
    expect(gr?.restarted).toBe(true);
    expect(gr?.families.length).toBeGreaterThan(0);
    expect(gr?.families.every((f) => f.forwardingPreserved)).toBe(true);
  });

  it('first boot: OPEN with R=0 and F=0, no deferral; F=1 on later OPENs once routes are programmed', () => {
    const c = core(false);
    const start = c.start(0);
    expect(start.some((a) => a.action.type === 'startTimer' && a.action.name === 'Deferral')).toBe(false);
    expect(c.deferring).toBe(false);
    const gr = openOf(c, start);
    expect(gr?.restarted).toBe(false);
    expect(gr?.families.length).toBeGreaterThan(0);
    expect(gr?.families.every((f) => !f.forwardingPreserved)).toBe(true);
    c.preserveForwarding();
    // the session drops; the next connection's OPEN says forwarding state is kept
    const down = c.handle(peer.address, { type: 'ManualStop' }, 1);
    const again = c.handle(peer.address, { type: 'ManualStart' }, 2);
    const gr2 = openOf(c, [...down, ...again], 3);
    expect(gr2?.restarted).toBe(false);
    expect(gr2?.families.length).toBeGreaterThan(0);
    expect(gr2?.families.every((f) => f.forwardingPreserved)).toBe(true);
  });
});

describe('keptRoutes: a restart is the kernel holding routes of margay\'s protocol', () => {
  const route = (protocol: number): RouteMsg => ({ family: 4, dst: '10.244.1.0/26', table: 254, protocol, scope: 0, type: 'unicast', nexthops: [] });
  it('protocol 80 in either family → true; none, other protocols or a family that cannot be dumped → false', () => {
    expect(keptRoutes({ routes: (f) => (f === 4 ? [route(2), route(80)] : []) })).toBe(true);
    expect(keptRoutes({ routes: (f) => { if (f === 4) throw new Error('EAFNOSUPPORT'); return [{ ...route(80), family: 6 }]; } })).toBe(true);
    expect(keptRoutes({ routes: () => [route(2), route(81), route(186)] })).toBe(false);
    expect(keptRoutes({ routes: () => { throw new Error('no IPv6'); } })).toBe(false);
  });
});

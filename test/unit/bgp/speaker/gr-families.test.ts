import { describe, expect, it } from 'vitest';
import { addPeer, createSpeaker, handle, incoming, messageEvent, speakerStatus, type Result, type Speaker } from '../../../../bgp/speaker/index.js';
import type { Capability, UpdateMessage } from '../../../../bgp/wire/types.js';

const GR = '192.0.2.1';
const OTHER = '192.0.2.2';
const ME = '10.0.0.1';

function open(s: Speaker, addr: string, asn: number, extra: Capability[]): number {
  const conn = incoming(s, addr, ME, 0).conn!;
  handle(s, addr, messageEvent(conn, { type: 'OPEN', version: 4, myAs: asn, holdTime: 90, bgpId: addr, capabilities: [
    { code: 65, name: 'FOUR_OCTET_AS', asn }, { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 1, name: 'MULTIPROTOCOL', afi: 2, safi: 1 }, ...extra,
  ] }), 0);
  handle(s, addr, messageEvent(conn, { type: 'KEEPALIVE' }), 0);
  expect(s.peers.get(addr)!.fsm.state).toBe('Established');
  return conn;
}

/**
 * A graceful-restart peer whose capability lists `families`, holding one IPv4 and one IPv6 route; and a second peer they were sent to.
 * `rejectV6`: the peer also announces fd00:9::/64, which its import filter rejects (counted in `received`, not installed).
 */
function setup(families: { afi: number; safi: number; forwardingPreserved: boolean }[], rejectV6 = false): { s: Speaker; conn: number } {
  const { state: s } = createSpeaker({ asn: 65000, routerId: ME });
  const filter = rejectV6 ? { importPrefixes: ['203.0.113.0/24', 'fd00:1::/48'] } : {};
  addPeer(s, { address: GR, asn: 65001, passive: true, gracefulRestart: true, families: ['ipv4', 'ipv6'], ...filter }, 0);
  addPeer(s, { address: OTHER, asn: 65002, passive: true, families: ['ipv4', 'ipv6'], nextHop6: '2001:db8::100' }, 0);
  const conn = open(s, GR, 65001, [{ code: 64, name: 'GRACEFUL_RESTART', restarted: false, notification: false, restartTime: 120, families }]);
  open(s, OTHER, 65002, []);
  const as = { origin: 'IGP' as const, asPath: [{ type: 'AS_SEQUENCE' as const, asns: [65001] }] };
  const u: UpdateMessage = { type: 'UPDATE', withdrawn: [], attributes: { ...as, nextHop: GR, mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'],
    nlri: [{ afi: 2, addr: 'fd00:1::', len: 64 }, ...(rejectV6 ? [{ afi: 2 as const, addr: 'fd00:9::', len: 64 }] : [])] } },
    nlri: [{ afi: 1, addr: '203.0.113.0', len: 24 }] };
  handle(s, GR, messageEvent(conn, u), 1);
  expect(s.loc.routes.size).toBe(2);
  expect(s.peers.get(OTHER)!.out.sent.size).toBe(2);
  expect(speakerStatus(s).peers.find((p) => p.address === GR)?.received).toBe(rejectV6 ? 3 : 2);
  return { s, conn };
}

const timers = (r: Result): string[] => r.actions.flatMap(({ action: a }) => (a.type === 'startTimer' ? [a.name] : []));
const withdrawnTo = (r: Result, peer: string): string[] => r.actions.flatMap(({ peer: p, action: a }) => {
  if (p !== peer || a.type !== 'send' || a.message.type !== 'UPDATE') return [];
  const m = a.message;
  return [...m.withdrawn, ...(m.attributes.mpUnreach?.withdrawn ?? [])].map((x) => `${x.addr}/${x.len}`);
});

describe('graceful restart keeps only the families of the peer\'s capability (RFC 4724 §4.2)', () => {
  it('helper-only capability (no AFI/SAFI): every route goes at once, no restart timer', () => {
    const { s, conn } = setup([]);
    const r = handle(s, GR, { type: 'TcpConnectionFails', conn }, 2);
    expect(r.routes.map((c) => `${c.kind} ${c.prefix}`).sort()).toEqual(['remove 203.0.113.0/24', 'remove fd00:1::/64']);
    expect(timers(r)).not.toContain('GrRestart');
    expect(speakerStatus(s).peers.find((p) => p.address === GR)).toMatchObject({ stale: 0, accepted: 0 });
    expect(s.loc.routes.size).toBe(0);
    expect(withdrawnTo(r, OTHER).sort()).toEqual(['203.0.113.0/24', 'fd00:1::/64']);
  });

  it('capability listing IPv4 only: IPv6 routes go at once, IPv4 ones stay stale under the restart timer', () => {
    const { s, conn } = setup([{ afi: 1, safi: 1, forwardingPreserved: true }]);
    const r = handle(s, GR, { type: 'TcpConnectionFails', conn }, 2);
    expect(r.routes.map((c) => `${c.kind} ${c.prefix}`)).toEqual(['remove fd00:1::/64']);
    expect(timers(r)).toContain('GrRestart');
    expect(speakerStatus(s).peers.find((p) => p.address === GR)).toMatchObject({ stale: 1, accepted: 1 });
    expect(s.loc.routes.size).toBe(1);
    expect(withdrawnTo(r, OTHER)).toEqual(['fd00:1::/64']);
  });

  it('capability listing IPv4 only: an IPv6 prefix the import filter rejected is no longer counted as received', () => {
    const { s, conn } = setup([{ afi: 1, safi: 1, forwardingPreserved: true }], true);
    const r = handle(s, GR, { type: 'TcpConnectionFails', conn }, 2);
    expect(r.routes.map((c) => `${c.kind} ${c.prefix}`)).toEqual(['remove fd00:1::/64']);
    expect(speakerStatus(s).peers.find((p) => p.address === GR)).toMatchObject({ stale: 1, accepted: 1, received: 1 });
  });

  it('capability listing both families: both kept stale, nothing withdrawn', () => {
    const { s, conn } = setup([{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 2, safi: 1, forwardingPreserved: true }]);
    const r = handle(s, GR, { type: 'TcpConnectionFails', conn }, 2);
    expect(r.routes).toEqual([]);
    expect(timers(r)).toContain('GrRestart');
    expect(speakerStatus(s).peers.find((p) => p.address === GR)?.stale).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { addPeer, createSpeaker, handle, incoming, messageEvent, originate, speakerStatus, type Result, type Speaker } from '../../../../bgp/speaker/index.js';
import type { UpdateMessage } from '../../../../bgp/wire/types.js';
import { statusView } from '../../../../bgp/session/core-views.js';

const ME = '10.0.0.1';
const ME6 = '2001:db8::100';
const P = '10.0.0.2';
const Q = '10.0.0.3';

function open(s: Speaker, addr: string, asn: number, local = ME): number {
  const conn = incoming(s, addr, local, 0).conn!;
  handle(s, addr, messageEvent(conn, { type: 'OPEN', version: 4, myAs: asn, holdTime: 90, bgpId: addr, capabilities: [
    { code: 65, name: 'FOUR_OCTET_AS', asn }, { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 1, name: 'MULTIPROTOCOL', afi: 2, safi: 1 },
  ] }), 0);
  handle(s, addr, messageEvent(conn, { type: 'KEEPALIVE' }), 0);
  expect(s.peers.get(addr)!.fsm.state).toBe('Established');
  return conn;
}

/** eBGP peer P (the one that sends) and Q (would get whatever P's routes make best). */
function setup(): { s: Speaker; conn: number } {
  const { state: s } = createSpeaker({ asn: 65000, routerId: ME });
  addPeer(s, { address: P, asn: 65001, passive: true, families: ['ipv4', 'ipv6'], nextHop6: ME6 }, 0);
  addPeer(s, { address: Q, asn: 65002, passive: true, families: ['ipv4', 'ipv6'], nextHop6: ME6 }, 0);
  const conn = open(s, P, 65001);
  open(s, Q, 65002);
  return { s, conn };
}

const attrs = (nextHop: string): UpdateMessage['attributes'] => ({ origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }], nextHop });
const v4 = (nextHop: string): UpdateMessage => ({ type: 'UPDATE', withdrawn: [], attributes: attrs(nextHop), nlri: [{ afi: 1, addr: '203.0.113.0', len: 24 }] });
const mp6 = (nextHop: string): UpdateMessage => ({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: { origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }],
  mpReach: { afi: 2, safi: 1, nextHops: [nextHop], nlri: [{ afi: 2, addr: 'fd00:1::', len: 64 }] } } });
const sends = (r: Result) => r.actions.filter(({ action: a }) => a.type === 'send');

describe('a route whose next hop is our own address (RFC 4271 §5.1.3, §6.3)', () => {
  it('NEXT_HOP = the session\'s local address: not installed, not advertised, no RouteChange, no reset; counted as received', () => {
    const { s, conn } = setup();
    const r = handle(s, P, messageEvent(conn, v4(ME)), 1);
    expect(r.routes).toEqual([]);
    expect(sends(r)).toEqual([]);
    expect(s.loc.routes.size).toBe(0);
    expect(s.peers.get(P)!.fsm.state).toBe('Established');
    expect(speakerStatus(s).peers.find((p) => p.address === P)).toMatchObject({ received: 1, accepted: 0, ownNextHop: 1 });
    // what `margay bgp status --json` shows: the count on P, none on Q
    const view = statusView(s, new Map());
    expect(view.peers.find((p) => p.address === P)).toMatchObject({ received: 1, accepted: 0, ownNextHop: 1 });
    expect(view.peers.find((p) => p.address === Q)).not.toHaveProperty('ownNextHop');
  });

  it('MP_REACH next hop = our own IPv6 address: not installed either', () => {
    const { s, conn } = setup();
    const u: UpdateMessage = { type: 'UPDATE', withdrawn: [], nlri: [], attributes: { origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }],
      mpReach: { afi: 2, safi: 1, nextHops: [ME6], nlri: [{ afi: 2, addr: 'fd00:1::', len: 64 }] } } };
    const r = handle(s, P, messageEvent(conn, u), 1);
    expect(r.routes).toEqual([]);
    expect(s.loc.routes.size).toBe(0);
  });

  it('a usable route replaced by one through ourselves is withdrawn; a later usable one is accepted again', () => {
    const { s, conn } = setup();
    expect(handle(s, P, messageEvent(conn, v4(P)), 1).routes.map((c) => c.kind)).toEqual(['add']);
    const r = handle(s, P, messageEvent(conn, v4(ME)), 2);
    expect(r.routes.map((c) => `${c.kind} ${c.prefix}`)).toEqual(['remove 203.0.113.0/24']);
    expect(sends(r).some(({ peer, action: a }) => peer === Q && a.type === 'send' && a.message.type === 'UPDATE' && a.message.withdrawn.length === 1)).toBe(true);
    const back = handle(s, P, messageEvent(conn, v4(P)), 3);
    expect(back.routes.map((c) => c.kind)).toEqual(['add']);
    expect(speakerStatus(s).peers.find((p) => p.address === P)).toMatchObject({ received: 1, accepted: 1, ownNextHop: 0 });
  });

  it('a withdrawal of a prefix ignored for our own next hop takes it out of the count', () => {
    const { s, conn } = setup();
    handle(s, P, messageEvent(conn, v4(ME)), 1);
    expect(speakerStatus(s).peers.find((p) => p.address === P)).toMatchObject({ received: 1, ownNextHop: 1 });
    const r = handle(s, P, messageEvent(conn, { type: 'UPDATE', withdrawn: [{ afi: 1, addr: '203.0.113.0', len: 24 }], attributes: {}, nlri: [] }), 2);
    expect(r.routes).toEqual([]);
    expect(speakerStatus(s).peers.find((p) => p.address === P)).toMatchObject({ received: 0, accepted: 0, ownNextHop: 0 });
  });

  it('a session drop forgets the prefixes ignored for our own next hop, and the new session starts from none', () => {
    const { s, conn } = setup();
    handle(s, P, messageEvent(conn, v4(ME)), 1);
    handle(s, P, { type: 'TcpConnectionFails', conn }, 2);
    expect(s.peers.get(P)!.fsm.state).not.toBe('Established');
    expect(speakerStatus(s).peers.find((p) => p.address === P)).toMatchObject({ received: 0, ownNextHop: 0 });
    const again = open(s, P, 65001);
    const r = handle(s, P, messageEvent(again, v4(P)), 3);
    expect(r.routes.map((c) => c.kind)).toEqual(['add']);
    expect(speakerStatus(s).peers.find((p) => p.address === P)).toMatchObject({ received: 1, accepted: 1, ownNextHop: 0 });
  });

  it('a next-hop-self address configured in upper case / zero-padded still matches the decoded (RFC 5952) next hop', () => {
    const { state: s } = createSpeaker({ asn: 65000, routerId: ME });
    addPeer(s, { address: P, asn: 65001, passive: true, families: ['ipv4', 'ipv6'], nextHop6: '2001:DB8:0:0::0100' }, 0);
    const conn = open(s, P, 65001);
    const r = handle(s, P, messageEvent(conn, mp6('2001:db8::100')), 1);
    expect(r.routes).toEqual([]);
    expect(speakerStatus(s).peers.find((p) => p.address === P)).toMatchObject({ received: 1, accepted: 0, ownNextHop: 1 });
  });

  it('a session local address handed in non-canonical IPv6 text still matches', () => {
    const { state: s } = createSpeaker({ asn: 65000, routerId: ME });
    addPeer(s, { address: P, asn: 65001, passive: true, families: ['ipv4', 'ipv6'] }, 0);
    const conn = open(s, P, 65001, '2001:0DB8::0001');
    const r = handle(s, P, messageEvent(conn, mp6('2001:db8::1')), 1);
    expect(r.routes).toEqual([]);
    expect(speakerStatus(s).peers.find((p) => p.address === P)).toMatchObject({ ownNextHop: 1 });
    // a next hop that is not ours is still taken
    expect(handle(s, P, messageEvent(conn, mp6('2001:db8::2')), 2).routes.map((c) => c.kind)).toEqual(['add']);
  });

  it('our own originated routes are unaffected', () => {
    const { s } = setup();
    const r = originate(s, [{ prefix: '192.0.2.0/24' }, { prefix: '198.51.100.0/24', nextHop: ME }], 1);
    expect(r.routes.map((c) => c.kind)).toEqual(['add', 'add']);
  });
});

import { describe, expect, it } from 'vitest';
import { addPeer, createSpeaker, handle, incoming, messageEvent, originate, type Result, type Speaker } from '../../../../bgp/speaker/index.js';

const PEER = '192.0.2.1';

/** An Established eBGP peer that negotiated IPv4 unicast only (it offered route refresh). */
function established(): { s: Speaker; conn: number } {
  const { state: s } = createSpeaker({ asn: 65000, routerId: '10.0.0.1' });
  addPeer(s, { address: PEER, asn: 65001, passive: true, families: ['ipv4'] }, 0);
  const conn = incoming(s, PEER, '10.0.0.1', 0).conn!;
  handle(s, PEER, messageEvent(conn, { type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '1.1.1.1', capabilities: [
    { code: 65, name: 'FOUR_OCTET_AS', asn: 65001 }, { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 2, name: 'ROUTE_REFRESH' },
  ] }), 0);
  handle(s, PEER, messageEvent(conn, { type: 'KEEPALIVE' }), 0);
  expect(s.peers.get(PEER)!.fsm.state).toBe('Established');
  return { s, conn };
}

const sentNlri = (r: Result): number =>
  r.actions.reduce((n, { action: a }) => n + (a.type === 'send' && a.message.type === 'UPDATE' ? a.message.nlri.length : 0), 0);

describe('ROUTE-REFRESH (RFC 2918 §4, RFC 7313)', () => {
  it('a refresh for the negotiated family re-sends that family', () => {
    const { s, conn } = established();
    expect(sentNlri(originate(s, [{ prefix: '192.0.2.0/24' }, { prefix: '198.51.100.0/24' }], 1))).toBe(2);
    expect(sentNlri(handle(s, PEER, messageEvent(conn, { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 }), 2))).toBe(2);
  });

  it('a refresh for an AFI/SAFI not negotiated with the peer is ignored (nothing re-sent, session kept)', () => {
    const { s, conn } = established();
    originate(s, [{ prefix: '192.0.2.0/24' }, { prefix: '198.51.100.0/24' }], 1);
    // IPv4 multicast, L2VPN EVPN (families margay does not know), IPv6 unicast (known, not negotiated)
    for (const [afi, safi] of [[1, 2], [25, 70], [2, 1]] as const) {
      const r = handle(s, PEER, messageEvent(conn, { type: 'ROUTE-REFRESH', afi, safi, subtype: 0 }), 2);
      expect(r.actions.filter(({ action: a }) => a.type === 'send'), `refresh ${afi}/${safi}`).toEqual([]);
      expect(r.routes).toEqual([]);
      expect(s.peers.get(PEER)!.fsm.state).toBe('Established');
    }
    // what was sent is still recorded as sent: a later refresh of the real family still re-sends it
    expect(s.peers.get(PEER)!.out.sent.size).toBe(2);
  });
});

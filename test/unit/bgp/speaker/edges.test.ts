import { describe, expect, it } from 'vitest';
import { addPeer, createSpeaker, handle, incoming, messageEvent, removePeer, speakerStatus } from '../../../../bgp/speaker/index.js';
import type { Speaker } from '../../../../bgp/speaker/index.js';
import type { UpdateMessage } from '../../../../bgp/wire/types.js';

const PEER = '192.0.2.1';

function established(): { s: Speaker; conn: number } {
  const { state: s } = createSpeaker({ asn: 65000, routerId: '10.0.0.1' });
  addPeer(s, { address: PEER, asn: 65001, passive: true, families: ['ipv4', 'ipv6'] }, 0);
  const r = incoming(s, PEER, '10.0.0.1', 0);
  const conn = r.conn!;
  handle(s, PEER, messageEvent(conn, { type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '1.1.1.1', capabilities: [
    { code: 65, name: 'FOUR_OCTET_AS', asn: 65001 }, { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 1, name: 'MULTIPROTOCOL', afi: 2, safi: 1 },
  ] }), 0);
  handle(s, PEER, messageEvent(conn, { type: 'KEEPALIVE' }), 0);
  expect(s.peers.get(PEER)!.fsm.state).toBe('Established');
  return { s, conn };
}

const update = (over: Partial<UpdateMessage>): UpdateMessage => ({ type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [], ...over });

describe('speaker edge cases', () => {
  it('an announcement without a next hop is not used', () => {
    const { s, conn } = established();
    const r = handle(s, PEER, messageEvent(conn, update({ attributes: { origin: 'IGP', asPath: [] }, nlri: [{ afi: 1, addr: '10.1.0.0', len: 16 }] })), 1);
    expect(r.routes).toEqual([]);
    expect(s.loc.routes.size).toBe(0);
  });

  it('an AS loop is treated as a withdrawal of the prefix', () => {
    const { s, conn } = established();
    const nlri = [{ afi: 1 as const, addr: '10.1.0.0', len: 16 }];
    handle(s, PEER, messageEvent(conn, update({ attributes: { origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }], nextHop: PEER }, nlri })), 1);
    expect(s.loc.routes.size).toBe(1);
    const r = handle(s, PEER, messageEvent(conn, update({ attributes: { origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 65000] }], nextHop: PEER }, nlri })), 2);
    expect(r.routes).toEqual([{ prefix: '10.1.0.0/16', kind: 'remove', nextHops: [] }]);
  });

  it('IPv6 via MP_REACH with a link-local next hop reports the global one', () => {
    const { s, conn } = established();
    const r = handle(s, PEER, messageEvent(conn, update({ attributes: { origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ afi: 2, addr: 'fd00:1::', len: 64 }] } } })), 1);
    expect(r.routes).toMatchObject([{ prefix: 'fd00:1::/64', kind: 'add', nextHops: ['2001:db8::1'] }]);
    expect(speakerStatus(s).peers[0]).toMatchObject({ accepted: 1, state: 'Established' });
  });

  it('ADD-PATH: several paths of one prefix from one peer, withdrawn by path id', () => {
    const { state: s } = createSpeaker({ asn: 65000, routerId: '10.0.0.1' });
    addPeer(s, { address: PEER, asn: 65001, passive: true, addPath: true }, 0);
    const conn = incoming(s, PEER, '10.0.0.1', 0).conn!;
    const r0 = handle(s, PEER, messageEvent(conn, { type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '1.1.1.1', capabilities: [
      { code: 65, name: 'FOUR_OCTET_AS', asn: 65001 }, { code: 69, name: 'ADD_PATH', families: [{ afi: 1, safi: 1, sendReceive: 3 }] },
    ] }), 0);
    const neg = r0.actions.find((a) => a.action.type === 'negotiated');
    expect(neg?.action.type === 'negotiated' && [...neg.action.negotiated.codecIn.addPath]).toEqual(['1/1']);
    handle(s, PEER, messageEvent(conn, { type: 'KEEPALIVE' }), 0);
    const attrs = (med: number, nh: string) => ({ origin: 'IGP' as const, asPath: [{ type: 'AS_SEQUENCE' as const, asns: [65001] }], nextHop: nh, med });
    handle(s, PEER, messageEvent(conn, update({ attributes: attrs(20, '192.0.2.20'), nlri: [{ afi: 1, addr: '10.9.0.0', len: 16, pathId: 2 }] })), 1);
    const r1 = handle(s, PEER, messageEvent(conn, update({ attributes: attrs(10, '192.0.2.10'), nlri: [{ afi: 1, addr: '10.9.0.0', len: 16, pathId: 1 }] })), 1);
    expect(r1.routes).toMatchObject([{ kind: 'change', nextHops: ['192.0.2.10'], reason: 'med' }]);
    const r2 = handle(s, PEER, messageEvent(conn, update({ withdrawn: [{ afi: 1, addr: '10.9.0.0', len: 16, pathId: 1 }] })), 2);
    expect(r2.routes).toMatchObject([{ kind: 'change', nextHops: ['192.0.2.20'] }]);
    expect(speakerStatus(s).peers[0]?.accepted).toBe(1);
  });

  it('a removed and re-added peer never reuses a connection number', () => {
    const { s, conn } = established();
    removePeer(s, PEER, 5);
    addPeer(s, { address: PEER, asn: 65001, passive: true }, 6);
    const r = incoming(s, PEER, '10.0.0.1', 7);
    expect(r.conn).toBeGreaterThan(conn);
  });

  it('an unknown address gets no connection; an unknown peer id is ignored', () => {
    const { s } = established();
    expect(incoming(s, '203.0.113.9', '10.0.0.1', 0).conn).toBeUndefined();
    expect(handle(s, 'nobody', { type: 'HoldTimerExpires' }, 0).actions).toEqual([]);
  });
});

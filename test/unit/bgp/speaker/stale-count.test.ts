import { describe, expect, it } from 'vitest';
import { addPeer, createSpeaker, handle, incoming, messageEvent, speakerStatus, type Speaker } from '../../../../bgp/speaker/index.js';
import type { OpenMessage, UpdateMessage } from '../../../../bgp/wire/types.js';
import { Ipv4Prefix } from '../../../../bgp/wire/prefix.js';

const PEER = '192.0.2.1';
const OPEN: OpenMessage = {
  type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '1.1.1.1', capabilities: [
    { code: 65, name: 'FOUR_OCTET_AS', asn: 65001 }, { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 },
    { code: 64, name: 'GRACEFUL_RESTART', restarted: false, notification: false, restartTime: 30, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
  ],
};
const announce = (...nlri: UpdateMessage['nlri']): UpdateMessage => ({
  type: 'UPDATE', withdrawn: [], attributes: { origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }], nextHop: PEER }, nlri,
});

/** A new connection from the peer up to Established; its conn id and the timers started on the way. */
function connect(s: Speaker, now = 0): { conn: number; timers: string[] } {
  const conn = incoming(s, PEER, '10.0.0.100', now).conn!;
  const timers: string[] = [];
  for (const m of [OPEN, { type: 'KEEPALIVE' } as const]) {
    for (const { action: a } of handle(s, PEER, messageEvent(conn, m), now).actions) if (a.type === 'startTimer') timers.push(a.name);
  }
  expect(s.peers.get(PEER)!.fsm.state).toBe('Established');
  return { conn, timers };
}

describe('stale count after a session drop (clearRoutes derives it from the released paths)', () => {
  it('stale routes held, the peer back, then a NOTIFICATION before End-of-RIB: nothing held, stale 0, the next session starts clean', () => {
    const { state: s } = createSpeaker({ asn: 65000, routerId: '10.0.0.100' });
    addPeer(s, { address: PEER, asn: 65001, passive: true, gracefulRestart: true }, 0);
    let { conn } = connect(s);
    // text and numeric keys, as the decoder gives either
    handle(s, PEER, messageEvent(conn, announce({ afi: 1, addr: '10.0.0.0', len: 24 }, new Ipv4Prefix(0x0a000100, 24, undefined), new Ipv4Prefix(0x0a010000, 16, undefined))), 0);
    handle(s, PEER, { type: 'TcpConnectionFails', conn }, 1);
    const peer = () => speakerStatus(s).peers[0]!;
    expect(peer().stale).toBe(3);
    const back = connect(s);
    conn = back.conn;
    expect(peer().stale).toBe(3); // forwarding preserved: kept until End-of-RIB
    expect(back.timers).toContain('GrStale');
    handle(s, PEER, messageEvent(conn, announce(new Ipv4Prefix(0x0a000000, 24, undefined))), 2); // one re-announced: fresh
    expect(peer().stale).toBe(2);
    const r = handle(s, PEER, messageEvent(conn, { type: 'NOTIFICATION', code: 6, subcode: 2, data: new Uint8Array() }), 3);
    expect(r.routes.map((c) => [c.prefix, c.kind]).sort()).toEqual([['10.0.0.0/24', 'remove'], ['10.0.1.0/24', 'remove'], ['10.1.0.0/16', 'remove']]);
    const rib = s.peers.get(PEER)!.in;
    expect([rib.count, rib.prefixes, rib.staleCount, s.loc.routes.size]).toEqual([0, 0, 0, 0]);
    // the next session finds no stale routes: no stale timer, nothing to sweep
    expect(connect(s, 10).timers).not.toContain('GrStale');
    expect(peer().stale).toBe(0);
  });
});

/**
 * Import checks on received UPDATEs (a read-only hunt's findings): a bad NEXT_HOP
 * beside MP_REACH keeps the IPv6 route (RFC 4760 §3), MP_* of a SAFI not negotiated
 * is ignored (RFC 4760 §6), confederation segments are refused (RFC 5065 §5, margay
 * has no confederations), and an eBGP path must start with the peer's AS (RFC 4271 §6.3).
 */
import { describe, expect, it } from 'vitest';
import { addPeer, createSpeaker, handle, incoming, messageEvent } from '../../../../bgp/speaker/index.js';
import type { Speaker } from '../../../../bgp/speaker/index.js';
import { decodeMessage } from '../../../../bgp/wire/index.js';
import type { AsPathSegment, UpdateMessage } from '../../../../bgp/wire/types.js';
import { attr, frame, updateBody } from '../wire/helpers.js';

const EBGP = '192.0.2.1';
const IBGP = '192.0.2.9';

function established(address: string, asn: number): { s: Speaker; conn: number } {
  const { state: s } = createSpeaker({ asn: 65000, routerId: '10.0.0.1' });
  addPeer(s, { address, asn, passive: true, families: ['ipv4', 'ipv6'] }, 0);
  const conn = incoming(s, address, '10.0.0.1', 0).conn!;
  handle(s, address, messageEvent(conn, { type: 'OPEN', version: 4, myAs: asn, holdTime: 90, bgpId: address, capabilities: [
    { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 1, name: 'MULTIPROTOCOL', afi: 2, safi: 1 }, { code: 65, name: 'FOUR_OCTET_AS', asn },
  ] }), 0);
  handle(s, address, messageEvent(conn, { type: 'KEEPALIVE' }), 0);
  expect(s.peers.get(address)!.fsm.state).toBe('Established');
  return { s, conn };
}

const seq = (...asns: number[]): AsPathSegment => ({ type: 'AS_SEQUENCE', asns });
const V4 = [{ afi: 1 as const, addr: '10.1.0.0', len: 16 }];
const announce = (asPath: AsPathSegment[], nextHop: string, extra: Partial<UpdateMessage['attributes']> = {}): UpdateMessage =>
  ({ type: 'UPDATE', withdrawn: [], nlri: V4, attributes: { origin: 'IGP', asPath, nextHop, ...extra } });
const routes = (s: Speaker) => [...s.loc.routes].map(([k]) => String(k)).sort();

describe('RFC 4760 §3: NEXT_HOP beside MP_REACH only', () => {
  it.each(['00000000', 'e0000001', '0102030405'])('NEXT_HOP %s: the IPv6 route is kept, not withdrawn', (nh) => {
    const { s, conn } = established(EBGP, 65001);
    const mp = attr(0x80, 14, `0002 01 10 ${'20010db8'.padEnd(30, '0')}02 00 40 fd00000100000000`);
    const good = decodeMessage(frame(2, updateBody('', mp + attr(0x40, 1, '00') + attr(0x40, 2, '02 01 0000fde9'), '')));
    expect(good.ok).toBe(true);
    if (!good.ok) return;
    handle(s, EBGP, messageEvent(conn, good.message), 1);
    expect(routes(s)).toEqual(['fd00:1::/64']);
    const r = decodeMessage(frame(2, updateBody('', mp + attr(0x40, 1, '00') + attr(0x40, 2, '02 01 0000fde9') + attr(0x40, 3, nh), '')));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    handle(s, EBGP, messageEvent(conn, r.message), 2);
    expect(routes(s)).toEqual(['fd00:1::/64']);
  });
});

describe('RFC 4760 §6: MP_REACH / MP_UNREACH of a SAFI not negotiated', () => {
  it('MP_UNREACH SAFI 2 leaves the unicast route; MP_REACH SAFI 2 adds nothing', () => {
    const { s, conn } = established(EBGP, 65001);
    handle(s, EBGP, messageEvent(conn, announce([seq(65001)], EBGP)), 1);
    expect(routes(s)).toEqual(['10.1.0.0/16']);
    handle(s, EBGP, messageEvent(conn, { type: 'UPDATE', withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 1, safi: 2, withdrawn: V4 } } }), 2);
    expect(routes(s)).toEqual(['10.1.0.0/16']);
    handle(s, EBGP, messageEvent(conn, { type: 'UPDATE', withdrawn: [], nlri: [], attributes: { origin: 'IGP', asPath: [seq(65001)],
      mpReach: { afi: 1, safi: 2, nextHops: [EBGP], nlri: [{ afi: 1, addr: '198.51.100.0', len: 24 }] } } }), 3);
    handle(s, EBGP, messageEvent(conn, { type: 'UPDATE', withdrawn: [], nlri: [], attributes: { origin: 'IGP', asPath: [seq(65001)],
      mpReach: { afi: 2, safi: 2, nextHops: ['2001:db8::2'], nlri: [{ afi: 2, addr: 'fd00:2::', len: 64 }] } } }), 4);
    expect(routes(s)).toEqual(['10.1.0.0/16']);
  });
});

describe('RFC 5065 §5 / RFC 7606 §7.2: confederation segments (margay has no confederations)', () => {
  it.each([
    ['eBGP', EBGP, 65001, {}],
    ['iBGP', IBGP, 65000, { localPref: 100 }],
  ] as const)('from %s: a path with AS_CONFED_SEQUENCE or AS_CONFED_SET is treated as withdrawn', (_n, peer, asn, extra) => {
    const { s, conn } = established(peer, asn);
    handle(s, peer, messageEvent(conn, announce([seq(65001)], peer, extra)), 1);
    expect(routes(s)).toEqual(['10.1.0.0/16']);
    handle(s, peer, messageEvent(conn, announce([{ type: 'AS_CONFED_SEQUENCE', asns: [65010] }, seq(65001)], peer, extra)), 2);
    expect(routes(s)).toEqual([]);
    handle(s, peer, messageEvent(conn, announce([seq(65001), { type: 'AS_CONFED_SET', asns: [65010] }], peer, extra)), 3);
    expect(routes(s)).toEqual([]);
  });
});

describe('RFC 4271 §6.3: an eBGP path starts with the peer AS', () => {
  it.each([
    ['an empty AS_PATH', []],
    ['a path starting with another AS', [seq(65077)]],
    ['a path starting with an AS_SET', [{ type: 'AS_SET' as const, asns: [65001] }]],
  ])('%s is treated as withdrawn', (_n, asPath) => {
    const { s, conn } = established(EBGP, 65001);
    handle(s, EBGP, messageEvent(conn, announce([seq(65001, 65077)], EBGP)), 1);
    expect(routes(s)).toEqual(['10.1.0.0/16']);
    handle(s, EBGP, messageEvent(conn, announce(asPath, EBGP)), 2);
    expect(routes(s)).toEqual([]);
  });

  it('iBGP: an empty AS_PATH is fine (a route from inside the AS)', () => {
    const { s, conn } = established(IBGP, 65000);
    handle(s, IBGP, messageEvent(conn, announce([], IBGP, { localPref: 100 })), 1);
    expect(routes(s)).toEqual(['10.1.0.0/16']);
  });
});

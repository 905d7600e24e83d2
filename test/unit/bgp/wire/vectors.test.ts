/**
 * Every message and attribute against byte vectors written by hand from the RFCs:
 * decode gives the value, and encoding that value gives the same bytes back.
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, isEndOfRib, type Message, type CodecOptions } from '../../../../bgp/wire/index.js';
import { AS2, AS4, ADDPATH, attr, cap, frame, openBody, updateBody } from './helpers.js';

function roundTrip(bytes: Buffer, want: Message, opts: CodecOptions = AS4): void {
  const r = decodeMessage(bytes, opts);
  if (!r.ok) throw new Error(`decode failed: ${r.error.message}`);
  expect(r.message).toEqual(want);
  expect(encodeMessage(want, opts).toString('hex')).toBe(bytes.toString('hex'));
}

describe('KEEPALIVE (RFC 4271 §4.4)', () => {
  it('is the 19-octet header alone', () => {
    const b = frame(4, '');
    expect(b.toString('hex')).toBe(`${'ff'.repeat(16)}001304`);
    roundTrip(b, { type: 'KEEPALIVE' });
  });
});

describe('OPEN (RFC 4271 §4.2) and capabilities (RFC 5492)', () => {
  it('decodes version, AS, hold time, identifier and every capability margay speaks', () => {
    const body = openBody('04 fde8 00b4 c0000201', [ // version 4, AS 65000, hold 180, id 192.0.2.1
      cap(1, '0001 00 01'), // MP IPv4 unicast (RFC 4760)
      cap(1, '0002 00 01'), // MP IPv6 unicast
      cap(2, ''), // route refresh (RFC 2918)
      cap(5, '0001 0001 0002'), // extended next hop: IPv4 unicast over IPv6 (RFC 8950)
      cap(64, '8078 0001 01 80 0002 01 00'), // graceful restart R=1 time 120; v4 F=1, v6 F=0 (RFC 4724)
      cap(65, 'fa56ea01'), // 4-octet AS 4200000001 (RFC 6793)
      cap(69, '0001 01 03 0002 01 01'), // ADD-PATH v4 send/receive, v6 receive (RFC 7911)
      cap(70, ''), // enhanced route refresh (RFC 7313)
      cap(73, '04 686f7374 04 74657374'), // FQDN (unknown to margay: kept)
      cap(128, ''), // old Cisco route refresh (unknown: kept)
      cap(64, '4000'), // a second GR instance: N bit, no families
    ]);
    expect(body.subarray(0, 12).toString('hex')).toBe('04fde800b4c0000201480246');
    roundTrip(frame(1, body), {
      type: 'OPEN', version: 4, myAs: 65000, holdTime: 180, bgpId: '192.0.2.1',
      capabilities: [
        { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 },
        { code: 1, name: 'MULTIPROTOCOL', afi: 2, safi: 1 },
        { code: 2, name: 'ROUTE_REFRESH' },
        { code: 5, name: 'EXTENDED_NEXT_HOP', tuples: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
        {
          code: 64, name: 'GRACEFUL_RESTART', restarted: true, notification: false, restartTime: 120,
          families: [{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 2, safi: 1, forwardingPreserved: false }],
        },
        { code: 65, name: 'FOUR_OCTET_AS', asn: 4200000001 },
        { code: 69, name: 'ADD_PATH', families: [{ afi: 1, safi: 1, sendReceive: 3 }, { afi: 2, safi: 1, sendReceive: 1 }] },
        { code: 70, name: 'ENHANCED_ROUTE_REFRESH' },
        { code: 73, name: 'UNKNOWN', hex: '04686f73740474657374' },
        { code: 128, name: 'UNKNOWN', hex: '' },
        { code: 64, name: 'GRACEFUL_RESTART', restarted: false, notification: true, restartTime: 0, families: [] },
      ],
    });
  });

  it('takes capabilities spread over several parameters, and an OPEN without any', () => {
    const r = decodeMessage(frame(1, '04 fde8 005a 0a000001 0c 02 06 01 04 0001 00 01 02 02 02 00'));
    expect(r.ok && r.message.type === 'OPEN' && r.message.capabilities.map((c) => c.name)).toEqual(['MULTIPROTOCOL', 'ROUTE_REFRESH']);
    roundTrip(frame(1, '04 fde8 0000 0a000001 00'), { type: 'OPEN', version: 4, myAs: 65000, holdTime: 0, bgpId: '10.0.0.1', capabilities: [] });
  });

  it('decodes the RFC 9072 extended optional parameters length', () => {
    const r = decodeMessage(frame(1, '04 fde8 005a 0a000001 ff ff 0009 02 0006 01 04 0001 00 01'));
    expect(r.ok && r.message.type === 'OPEN' && r.message.capabilities).toEqual([{ code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }]);
  });

  it('writes AS_TRANS in My Autonomous System for a 4-octet ASN', () => {
    const b = encodeMessage({ type: 'OPEN', version: 4, myAs: 4200000001, holdTime: 90, bgpId: '10.0.0.1', capabilities: [{ code: 65, name: 'FOUR_OCTET_AS', asn: 4200000001 }] });
    expect(b.subarray(19).toString('hex')).toBe('045ba0005a0a000001080206' + '4104fa56ea01');
  });
});

describe('UPDATE (RFC 4271 §4.3) with every path attribute', () => {
  it('IPv4: withdrawn, all well-known and optional attributes, NLRI', () => {
    const attrs = [
      attr(0x40, 1, '00'), // ORIGIN IGP
      attr(0x40, 2, '02 02 0000fde8 fa56ea01  01 01 0000fde9'), // AS_PATH seq(65000 4200000001) set(65001)
      attr(0x40, 3, 'c0000201'), // NEXT_HOP 192.0.2.1
      attr(0x80, 4, '00000064'), // MULTI_EXIT_DISC 100
      attr(0x40, 5, '000000c8'), // LOCAL_PREF 200
      attr(0x40, 6, ''), // ATOMIC_AGGREGATE
      attr(0xc0, 7, '0000fde8 c0000202'), // AGGREGATOR 65000 192.0.2.2
      attr(0xc0, 8, 'fde80001 ffffff01 ffffff02'), // COMMUNITIES 65000:1 NO_EXPORT NO_ADVERTISE
      attr(0x80, 9, '0a000009'), // ORIGINATOR_ID 10.0.0.9
      attr(0x80, 10, '0a000001 0a000002'), // CLUSTER_LIST
      attr(0xc0, 16, '0002fde800000064'), // EXTENDED_COMMUNITIES rt 65000:100
      attr(0xc0, 32, 'fa56ea01 00000001 00000002'), // LARGE_COMMUNITY 4200000001:1:2
      attr(0xe0, 99, '010203'), // unknown optional transitive, Partial set
      attr(0x80, 100, ''), // unknown optional non-transitive, empty
    ].join('');
    const body = updateBody('18 0a0001', attrs, '10 0a00  18 0a0002'); // withdraw 10.0.1.0/24; NLRI 10.0.0.0/16 10.0.2.0/24
    roundTrip(frame(2, body), {
      type: 'UPDATE',
      withdrawn: [{ afi: 1, addr: '10.0.1.0', len: 24 }],
      attributes: {
        origin: 'IGP',
        asPath: [{ type: 'AS_SEQUENCE', asns: [65000, 4200000001] }, { type: 'AS_SET', asns: [65001] }],
        nextHop: '192.0.2.1', med: 100, localPref: 200, atomicAggregate: true,
        aggregator: { asn: 65000, address: '192.0.2.2' },
        communities: [0xfde80001, 0xffffff01, 0xffffff02],
        originatorId: '10.0.0.9', clusterList: ['10.0.0.1', '10.0.0.2'],
        extendedCommunities: [{ type: 0, subtype: 2, hex: '0002fde800000064' }],
        largeCommunities: [{ global: 4200000001, local1: 1, local2: 2 }],
        unknown: [{ code: 99, flags: 0xe0, hex: '010203' }, { code: 100, flags: 0x80, hex: '' }],
      },
      nlri: [{ afi: 1, addr: '10.0.0.0', len: 16 }, { afi: 1, addr: '10.0.2.0', len: 24 }],
    });
  });

  it('2-octet AS session: AS_PATH, AGGREGATOR with AS_TRANS, AS4_PATH and AS4_AGGREGATOR (RFC 6793)', () => {
    const attrs = [
      attr(0x40, 1, '02'), // ORIGIN INCOMPLETE
      attr(0x40, 2, '02 02 fde8 5ba0'), // AS_PATH seq(65000 23456) in 2-octet ASNs
      attr(0x40, 3, '0a000001'),
      attr(0xc0, 7, '5ba0 0a000002'), // AGGREGATOR AS_TRANS 10.0.0.2
      attr(0xc0, 17, '02 01 fa56ea01'), // AS4_PATH seq(4200000001)
      attr(0xc0, 18, 'fa56ea01 0a000002'), // AS4_AGGREGATOR
    ].join('');
    roundTrip(frame(2, updateBody('', attrs, '20 c0a80001')), {
      type: 'UPDATE', withdrawn: [],
      attributes: {
        origin: 'INCOMPLETE', asPath: [{ type: 'AS_SEQUENCE', asns: [65000, 23456] }], nextHop: '10.0.0.1',
        aggregator: { asn: 23456, address: '10.0.0.2' },
        as4Path: [{ type: 'AS_SEQUENCE', asns: [4200000001] }],
        as4Aggregator: { asn: 4200000001, address: '10.0.0.2' },
      },
      nlri: [{ afi: 1, addr: '192.168.0.1', len: 32 }],
    }, AS2);
  });

  it('confederation segments (RFC 5065)', () => {
    const attrs = attr(0x40, 1, '01') + attr(0x40, 2, '03 01 0000fde8  04 01 0000fde9');
    roundTrip(frame(2, updateBody('', attrs, '')), {
      type: 'UPDATE', withdrawn: [], nlri: [],
      attributes: { origin: 'EGP', asPath: [{ type: 'AS_CONFED_SEQUENCE', asns: [65000] }, { type: 'AS_CONFED_SET', asns: [65001] }] },
    });
  });

  it('MP_REACH_NLRI IPv6 with global and link-local next hops; MP_UNREACH_NLRI (RFC 4760, RFC 2545)', () => {
    const attrs = [
      // AFI 2, SAFI 1, next hop length 32: 2001:db8::1 and fe80::1, reserved, 2001:db8::/64, 2001:db8:1::/48
      attr(0x80, 14, '0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00  40 20010db800000000  30 20010db80001'),
      attr(0x80, 15, '0002 01  40 20010db800010000  08 fd'), // withdraw 2001:db8:1::/64, fd00::/8
      attr(0x40, 1, '00'),
      attr(0x40, 2, ''),
    ].join('');
    roundTrip(frame(2, updateBody('', attrs, '')), {
      type: 'UPDATE', withdrawn: [], nlri: [],
      attributes: {
        mpReach: {
          afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'],
          nlri: [{ afi: 2, addr: '2001:db8::', len: 64 }, { afi: 2, addr: '2001:db8:1::', len: 48 }],
        },
        mpUnreach: { afi: 2, safi: 1, withdrawn: [{ afi: 2, addr: '2001:db8:1::', len: 64 }, { afi: 2, addr: 'fd00::', len: 8 }] },
        origin: 'IGP', asPath: [],
      },
    });
  });

  it('RFC 8950: IPv4 NLRI in MP_REACH with an IPv6 next hop', () => {
    const attrs = attr(0x80, 14, '0001 01 10 20010db8000000000000000000000002 00  18 0a0a0a') + attr(0x40, 1, '00') + attr(0x40, 2, '');
    roundTrip(frame(2, updateBody('', attrs, '')), {
      type: 'UPDATE', withdrawn: [], nlri: [],
      attributes: { mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::2'], nlri: [{ afi: 1, addr: '10.10.10.0', len: 24 }] }, origin: 'IGP', asPath: [] },
    });
  });

  it('ADD-PATH path identifiers in withdrawn, NLRI and MP_REACH (RFC 7911)', () => {
    const attrs = attr(0x80, 14, '0002 01 10 20010db8000000000000000000000001 00  00000003 20 20010db8')
      + attr(0x40, 1, '00') + attr(0x40, 2, '') + attr(0x40, 3, '0a000001');
    roundTrip(frame(2, updateBody('00000007 18 0a0001', attrs, '00000001 18 0a0002  00000002 18 0a0002')), {
      type: 'UPDATE',
      withdrawn: [{ afi: 1, addr: '10.0.1.0', len: 24, pathId: 7 }],
      attributes: {
        mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ afi: 2, addr: '2001:db8::', len: 32, pathId: 3 }] },
        origin: 'IGP', asPath: [], nextHop: '10.0.0.1',
      },
      nlri: [{ afi: 1, addr: '10.0.2.0', len: 24, pathId: 1 }, { afi: 1, addr: '10.0.2.0', len: 24, pathId: 2 }],
    }, ADDPATH);
  });

  it('uses the extended length when an attribute exceeds 255 octets', () => {
    const communities = Array.from({ length: 70 }, (_, i) => 0xfde80000 + i);
    const m: Message = { type: 'UPDATE', withdrawn: [], nlri: [], attributes: { communities } };
    const b = encodeMessage(m);
    expect(b.subarray(23, 27).toString('hex')).toBe('d0080118'); // flags optional|transitive|extended, code 8, length 280
    const r = decodeMessage(b);
    expect(r.ok && r.message).toEqual(m);
  });

  it('clears host bits a peer left set in a prefix', () => {
    const w = decodeMessage(frame(2, '0004 17 0a0001 0000')); // 10.0.1.0/23 → 10.0.0.0/23
    expect(w.ok && w.message.type === 'UPDATE' && w.message.withdrawn).toEqual([{ afi: 1, addr: '10.0.0.0', len: 23 }]);
  });
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  it('IPv4: an empty UPDATE', () => {
    const r = decodeMessage(frame(2, '0000 0000'));
    expect(r.ok && isEndOfRib(r.message)).toEqual({ afi: 1, safi: 1 });
  });
  it('IPv6: an UPDATE with only an empty MP_UNREACH_NLRI', () => {
    const r = decodeMessage(frame(2, '0000 0006 80 0f 03 0002 01'));
    expect(r.ok && isEndOfRib(r.message)).toEqual({ afi: 2, safi: 1 });
  });
  it('an UPDATE with a withdrawal is not one', () => {
    const r = decodeMessage(frame(2, '0002 08 0a 0000'));
    expect(r.ok && isEndOfRib(r.message)).toBe(undefined);
  });
});

describe('NOTIFICATION (RFC 4271 §4.5) and ROUTE-REFRESH (RFC 2918, RFC 7313)', () => {
  it('NOTIFICATION with data', () => {
    roundTrip(frame(3, '06 02 05 68656c6c6f'), { type: 'NOTIFICATION', code: 6, subcode: 2, data: Uint8Array.of(5, 0x68, 0x65, 0x6c, 0x6c, 0x6f) });
  });
  it('NOTIFICATION without data', () => {
    roundTrip(frame(3, '04 00'), { type: 'NOTIFICATION', code: 4, subcode: 0, data: new Uint8Array(0) });
  });
  it.each([[0, 'normal'], [1, 'BoRR'], [2, 'EoRR']])('ROUTE-REFRESH subtype %i (%s)', (subtype) => {
    roundTrip(frame(5, `0002 0${subtype} 01`), { type: 'ROUTE-REFRESH', afi: 2, subtype, safi: 1 });
  });
});

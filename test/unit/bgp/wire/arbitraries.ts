/** fast-check generators of valid messages, for round-trip properties and fuzz seeds. */
import fc from 'fast-check';
import {
  ATTRIBUTE_TABLE, parsePrefix, type AsPathSegment, type Capability, type Message, type PathAttributes, type Prefix,
} from '../../../../bgp/wire/index.js';

const byte = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const hexBytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b).toString('hex'));

export const ipv4 = fc.tuple(byte, byte, byte, byte).map((b) => b.join('.'));
export const ipv4NonZero = ipv4.filter((s) => s !== '0.0.0.0');
/** a next hop the codec accepts: not 0.0.0.0, multicast or class E */
export const ipv4Unicast = fc.tuple(fc.integer({ min: 0, max: 223 }), byte, byte, fc.integer({ min: 1, max: 255 })).map((b) => b.join('.'));
const v6Groups = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
export const ipv6 = v6Groups.map((g) => parsePrefix(`${g.map((x) => x.toString(16)).join(':')}/128`)!.addr);

export function prefix4(pathIds: boolean): fc.Arbitrary<Prefix> {
  return fc.tuple(ipv4, fc.integer({ min: 0, max: 32 }), u32).map(([a, len, id]) => parsePrefix(`${a}/${len}`, pathIds ? id : undefined)!);
}

export function prefix6(pathIds: boolean): fc.Arbitrary<Prefix> {
  return fc.tuple(v6Groups, fc.integer({ min: 0, max: 128 }), u32)
    .map(([g, len, id]) => parsePrefix(`${g.map((x) => x.toString(16)).join(':')}/${len}`, pathIds ? id : undefined)!);
}

const segment = (asn: fc.Arbitrary<number>): fc.Arbitrary<AsPathSegment> => fc.record({
  type: fc.constantFrom('AS_SEQUENCE', 'AS_SET', 'AS_CONFED_SEQUENCE', 'AS_CONFED_SET'),
  asns: fc.array(asn, { minLength: 1, maxLength: 8 }),
});

export interface GenOptions { as4: boolean; addPath: boolean }

/** AS numbers as a path or aggregator carries them: never 0 (RFC 7607 §2 makes that malformed) */
const asn16 = fc.integer({ min: 1, max: 0xffff });
const asn32 = fc.integer({ min: 1, max: 0xffffffff });

export function attributes(o: GenOptions, withNlri: boolean): fc.Arbitrary<PathAttributes> {
  const asn = o.as4 ? asn32 : asn16;
  const unknownCodes = fc.uniqueArray(fc.integer({ min: 1, max: 255 }).filter((c) => ATTRIBUTE_TABLE[c] === undefined), { maxLength: 3 });
  return fc.record({
    origin: fc.constantFrom('IGP', 'EGP', 'INCOMPLETE'),
    asPath: fc.array(segment(asn), { maxLength: 3 }),
    nextHop: ipv4Unicast,
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true),
    aggregator: fc.record({ asn, address: ipv4 }),
    communities: fc.array(u32, { minLength: 1, maxLength: 6 }),
    originatorId: ipv4,
    clusterList: fc.array(ipv4, { minLength: 1, maxLength: 4 }),
    extendedCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => ({ type: b[0]!, subtype: b[1]!, hex: Buffer.from(b).toString('hex') })), { minLength: 1, maxLength: 4 }),
    largeCommunities: fc.array(fc.record({ global: u32, local1: u32, local2: u32 }), { minLength: 1, maxLength: 4 }),
    as4Path: fc.array(segment(asn32).filter((s) => s.type === 'AS_SEQUENCE' || s.type === 'AS_SET'), { minLength: 1, maxLength: 2 }),
    as4Aggregator: fc.record({ asn: asn32, address: ipv4 }),
    mpReach: fc.record({
      afi: fc.constant(2), safi: fc.constant(1),
      nextHops: fc.oneof(fc.tuple(ipv6), fc.tuple(ipv6, ipv6)),
      nlri: fc.array(prefix6(o.addPath), { maxLength: 6 }),
    }),
    mpUnreach: fc.record({ afi: fc.constant(2), safi: fc.constant(1), withdrawn: fc.array(prefix6(o.addPath), { maxLength: 6 }) }),
    unknown: unknownCodes.chain((codes) => fc.tuple(...codes.sort((x, y) => x - y).map((code) => fc.record({
      code: fc.constant(code), flags: fc.constantFrom(0x80, 0xc0, 0xe0, 0xa0), hex: hexBytes(16),
    })))).filter((u) => u.length > 0),
  }, { requiredKeys: withNlri ? ['origin', 'asPath', 'nextHop'] : [] }) as fc.Arbitrary<PathAttributes>;
}

export function update(o: GenOptions): fc.Arbitrary<Message> {
  return fc.tuple(fc.array(prefix4(o.addPath), { maxLength: 8 }), fc.array(prefix4(o.addPath), { maxLength: 8 }))
    .chain(([withdrawn, nlri]) => attributes(o, true).map((attributes): Message => ({ type: 'UPDATE', withdrawn, attributes, nlri })));
}

const capability: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ code: fc.constant(1 as const), name: fc.constant('MULTIPROTOCOL' as const), afi: u16, safi: byte }),
  fc.constant({ code: 2 as const, name: 'ROUTE_REFRESH' as const }),
  fc.record({ code: fc.constant(5 as const), name: fc.constant('EXTENDED_NEXT_HOP' as const), tuples: fc.array(fc.record({ afi: u16, safi: u16, nextHopAfi: u16 }), { maxLength: 3 }) }),
  fc.record({
    code: fc.constant(64 as const), name: fc.constant('GRACEFUL_RESTART' as const), restarted: fc.boolean(), notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }), families: fc.array(fc.record({ afi: u16, safi: byte, forwardingPreserved: fc.boolean() }), { maxLength: 3 }),
  }),
  fc.record({ code: fc.constant(65 as const), name: fc.constant('FOUR_OCTET_AS' as const), asn: u32 }),
  fc.record({ code: fc.constant(69 as const), name: fc.constant('ADD_PATH' as const), families: fc.array(fc.record({ afi: u16, safi: byte, sendReceive: fc.constantFrom(1 as const, 2 as const, 3 as const) }), { maxLength: 3 }) }),
  fc.constant({ code: 70 as const, name: 'ENHANCED_ROUTE_REFRESH' as const }),
  fc.record({ code: fc.constantFrom(3, 6, 71, 73, 128, 200), name: fc.constant('UNKNOWN' as const), hex: hexBytes(20) }),
);

export const open: fc.Arbitrary<Message> = fc.record({
  type: fc.constant('OPEN' as const), version: fc.constant(4), myAs: u16,
  holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })), bgpId: ipv4NonZero,
  capabilities: fc.array(capability, { maxLength: 12 }),
});

export const notification: fc.Arbitrary<Message> = fc.record({
  type: fc.constant('NOTIFICATION' as const), code: byte, subcode: byte, data: fc.uint8Array({ maxLength: 64 }),
});

export const routeRefresh: fc.Arbitrary<Message> = fc.record({ type: fc.constant('ROUTE-REFRESH' as const), afi: u16, subtype: byte, safi: byte });

export function anyMessage(o: GenOptions): fc.Arbitrary<Message> {
  return fc.oneof({ arbitrary: update(o), weight: 5 }, open, notification, routeRefresh, fc.constant<Message>({ type: 'KEEPALIVE' }));
}

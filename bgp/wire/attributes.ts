/**
 * Path attributes as a table (after BIRD's bgp_attr_table): one row per type code
 * with its name, the Optional/Transitive flags it must carry, the RFC 7606 action
 * when it is malformed, and its decode and encode. Decoders throw a WireError (the
 * update decoder turns it into the row's action); encoders write the value only.
 */
import {
  type CodecOptions, type ExtendedCommunity, type LargeCommunity, type PathAttributes, type Origin,
} from './types.js';
import { formatIpv4, parseIpv4 } from './address.js';
import { readU16, readU32, toHex, fromHex } from './cursor.js';
import { decodeAsPath, encodeAsPath } from './as-path.js';
import { decodeMpReach, decodeMpUnreach, encodeMpReach, encodeMpUnreach } from './mp.js';
import { wireError, type ErrorAction, type WireError } from './errors.js';
import * as K from './constants.js';
import type { Writer } from './writer.js';

export interface AttributeRow {
  code: number;
  name: string;
  /** the Optional and Transitive bits this attribute must carry (RFC 4271 §5) */
  flags: number;
  /** RFC 7606 §7: what a malformed instance costs */
  onMalformed: ErrorAction;
  /** sets the attribute's field(s) on `into`; false: not decodable here, keep as unknown */
  decode(b: Uint8Array, start: number, end: number, opts: CodecOptions, into: PathAttributes): boolean | void;
  present(a: PathAttributes): boolean;
  encode(a: PathAttributes, opts: CodecOptions, w: Writer): void;
}

const WK = K.FLAG_TRANSITIVE; // well-known: optional 0, transitive 1
const OPT = K.FLAG_OPTIONAL; // optional non-transitive
const OPT_T = K.FLAG_OPTIONAL | K.FLAG_TRANSITIVE;

function lengthError(name: string, len: number): WireError {
  return wireError(K.ERR_UPDATE, K.UPD_ATTR_LENGTH, `${name}: bad length ${len}`);
}

function fixed(name: string, len: number, want: number): void {
  if (len !== want) throw lengthError(name, len);
}

function nonZeroMultiple(name: string, len: number, unit: number): void {
  if (len === 0 || len % unit !== 0) throw lengthError(name, len);
}

function writeIpv4(w: Writer, s: string): void {
  const v = parseIpv4(s);
  if (v === undefined) throw new RangeError(`bad IPv4 address "${s}"`);
  w.u32(v);
}

const ORIGINS: readonly Origin[] = ['IGP', 'EGP', 'INCOMPLETE'];

const u32Row = (code: number, name: string, flags: number, key: 'med' | 'localPref'): AttributeRow => ({
  code, name, flags, onMalformed: 'treat-as-withdraw',
  decode(b, s, e, _o, a) { fixed(name, e - s, 4); a[key] = readU32(b, s); },
  present: (a) => a[key] !== undefined,
  encode(a, _o, w) { w.u32(a[key] as number); },
});

const aggregatorRow = (code: number, name: string, key: 'aggregator' | 'as4Aggregator', as4Only: boolean): AttributeRow => ({
  code, name, flags: OPT_T, onMalformed: 'attribute-discard',
  decode(b, s, e, o, a) {
    const width = as4Only || o.as4 ? 4 : 2;
    fixed(name, e - s, width + 4);
    const asn = width === 4 ? readU32(b, s) : readU16(b, s);
    if (asn === 0) throw wireError(K.ERR_UPDATE, K.UPD_OPTIONAL_ATTR, `${name}: AS 0 (RFC 7607)`);
    a[key] = { asn, address: formatIpv4(b, s + width) };
  },
  present: (a) => a[key] !== undefined,
  encode(a, o, w) {
    const g = a[key]!;
    if (as4Only || o.as4) w.u32(g.asn); else w.u16(g.asn > 0xffff ? 23456 : g.asn);
    writeIpv4(w, g.address);
  },
});

const ROWS: AttributeRow[] = [
  {
    code: K.ATTR_ORIGIN, name: 'ORIGIN', flags: WK, onMalformed: 'treat-as-withdraw',
    decode(b, s, e, _o, a) {
      fixed('ORIGIN', e - s, 1);
      const o = ORIGINS[b[s] as number];
      if (o === undefined) throw wireError(K.ERR_UPDATE, K.UPD_INVALID_ORIGIN, `ORIGIN: undefined value ${b[s]}`);
      a.origin = o;
    },
    present: (a) => a.origin !== undefined,
    encode(a, _o, w) { w.u8(ORIGINS.indexOf(a.origin!)); },
  },
  {
    code: K.ATTR_AS_PATH, name: 'AS_PATH', flags: WK, onMalformed: 'treat-as-withdraw',
    decode(b, s, e, o, a) { a.asPath = decodeAsPath(b, s, e, o.as4 ? 4 : 2); },
    present: (a) => a.asPath !== undefined,
    encode(a, o, w) { encodeAsPath(a.asPath!, o.as4 ? 4 : 2, w); },
  },
  {
    code: K.ATTR_NEXT_HOP, name: 'NEXT_HOP', flags: WK, onMalformed: 'treat-as-withdraw',
    decode(b, s, e, _o, a) {
      fixed('NEXT_HOP', e - s, 4);
      // RFC 4271 §6.3: syntactically incorrect — unspecified, multicast or class E (incl. broadcast)
      if (readU32(b, s) === 0 || (b[s] as number) >= 224) {
        throw wireError(K.ERR_UPDATE, K.UPD_INVALID_NEXT_HOP, `NEXT_HOP: ${formatIpv4(b, s)} is not a unicast address`);
      }
      a.nextHop = formatIpv4(b, s);
    },
    present: (a) => a.nextHop !== undefined,
    encode(a, _o, w) { writeIpv4(w, a.nextHop!); },
  },
  u32Row(K.ATTR_MED, 'MULTI_EXIT_DISC', OPT, 'med'),
  u32Row(K.ATTR_LOCAL_PREF, 'LOCAL_PREF', WK, 'localPref'),
  {
    code: K.ATTR_ATOMIC_AGGREGATE, name: 'ATOMIC_AGGREGATE', flags: WK, onMalformed: 'attribute-discard',
    decode(_b, s, e, _o, a) { fixed('ATOMIC_AGGREGATE', e - s, 0); a.atomicAggregate = true; },
    present: (a) => a.atomicAggregate === true,
    encode() {},
  },
  aggregatorRow(K.ATTR_AGGREGATOR, 'AGGREGATOR', 'aggregator', false),
  {
    code: K.ATTR_COMMUNITIES, name: 'COMMUNITIES', flags: OPT_T, onMalformed: 'treat-as-withdraw',
    decode(b, s, e, _o, a) {
      nonZeroMultiple('COMMUNITIES', e - s, 4);
      const out = new Array<number>((e - s) >>> 2);
      for (let i = 0, p = s; p < e; i++, p += 4) out[i] = readU32(b, p);
      a.communities = out;
    },
    present: (a) => a.communities !== undefined && a.communities.length > 0,
    encode(a, _o, w) { for (const c of a.communities!) w.u32(c); },
  },
  {
    code: K.ATTR_ORIGINATOR_ID, name: 'ORIGINATOR_ID', flags: OPT, onMalformed: 'treat-as-withdraw',
    decode(b, s, e, _o, a) { fixed('ORIGINATOR_ID', e - s, 4); a.originatorId = formatIpv4(b, s); },
    present: (a) => a.originatorId !== undefined,
    encode(a, _o, w) { writeIpv4(w, a.originatorId!); },
  },
  {
    code: K.ATTR_CLUSTER_LIST, name: 'CLUSTER_LIST', flags: OPT, onMalformed: 'treat-as-withdraw',
    decode(b, s, e, _o, a) {
      nonZeroMultiple('CLUSTER_LIST', e - s, 4);
      const out: string[] = [];
      for (let p = s; p < e; p += 4) out.push(formatIpv4(b, p));
      a.clusterList = out;
    },
    present: (a) => a.clusterList !== undefined && a.clusterList.length > 0,
    encode(a, _o, w) { for (const c of a.clusterList!) writeIpv4(w, c); },
  },
  {
    code: K.ATTR_MP_REACH, name: 'MP_REACH_NLRI', flags: OPT, onMalformed: 'session-reset',
    decode(b, s, e, o, a) {
      const m = decodeMpReach(b, s, e, o);
      if (m === undefined) return false;
      a.mpReach = m;
    },
    present: (a) => a.mpReach !== undefined,
    encode(a, o, w) { encodeMpReach(a.mpReach!, o, w); },
  },
  {
    code: K.ATTR_MP_UNREACH, name: 'MP_UNREACH_NLRI', flags: OPT, onMalformed: 'session-reset',
    decode(b, s, e, o, a) {
      const m = decodeMpUnreach(b, s, e, o);
      if (m === undefined) return false;
      a.mpUnreach = m;
    },
    present: (a) => a.mpUnreach !== undefined,
    encode(a, o, w) { encodeMpUnreach(a.mpUnreach!, o, w); },
  },
  {
    code: K.ATTR_EXT_COMMUNITIES, name: 'EXTENDED_COMMUNITIES', flags: OPT_T, onMalformed: 'treat-as-withdraw',
    decode(b, s, e, _o, a) {
      nonZeroMultiple('EXTENDED_COMMUNITIES', e - s, 8);
      const out: ExtendedCommunity[] = [];
      for (let p = s; p < e; p += 8) out.push({ type: b[p] as number, subtype: b[p + 1] as number, hex: toHex(b.subarray(p, p + 8)) });
      a.extendedCommunities = out;
    },
    present: (a) => a.extendedCommunities !== undefined && a.extendedCommunities.length > 0,
    encode(a, _o, w) {
      for (const c of a.extendedCommunities!) {
        const v = fromHex(c.hex);
        if (v === undefined || v.length !== 8) throw new RangeError(`bad extended community "${c.hex}"`);
        w.bytes(v);
      }
    },
  },
  {
    code: K.ATTR_AS4_PATH, name: 'AS4_PATH', flags: OPT_T, onMalformed: 'attribute-discard',
    decode(b, s, e, _o, a) { a.as4Path = decodeAsPath(b, s, e, 4); },
    present: (a) => a.as4Path !== undefined,
    encode(a, _o, w) { encodeAsPath(a.as4Path!, 4, w); },
  },
  aggregatorRow(K.ATTR_AS4_AGGREGATOR, 'AS4_AGGREGATOR', 'as4Aggregator', true),
  {
    code: K.ATTR_LARGE_COMMUNITY, name: 'LARGE_COMMUNITY', flags: OPT_T, onMalformed: 'treat-as-withdraw',
    decode(b, s, e, _o, a) {
      nonZeroMultiple('LARGE_COMMUNITY', e - s, 12);
      const out: LargeCommunity[] = [];
      for (let p = s; p < e; p += 12) out.push({ global: readU32(b, p), local1: readU32(b, p + 4), local2: readU32(b, p + 8) });
      a.largeCommunities = out;
    },
    present: (a) => a.largeCommunities !== undefined && a.largeCommunities.length > 0,
    encode(a, _o, w) { for (const c of a.largeCommunities!) { w.u32(c.global); w.u32(c.local1); w.u32(c.local2); } },
  },
];

/** Row by type code (a 256-entry array: one index per attribute). */
export const ATTRIBUTE_TABLE: readonly (AttributeRow | undefined)[] = (() => {
  const t: (AttributeRow | undefined)[] = new Array(256).fill(undefined);
  for (const r of ROWS) t[r.code] = r;
  return t;
})();

export function attributeName(code: number): string {
  return ATTRIBUTE_TABLE[code]?.name ?? `UNKNOWN_${code}`;
}

/**
 * Writes every attribute present in `a`: MP_REACH_NLRI and MP_UNREACH_NLRI first
 * (RFC 7606 §5.1), then the others and the kept unknown ones by ascending code.
 * Each is framed with its flags, using the extended length only when needed.
 */
export function encodeAttributes(a: PathAttributes, opts: CodecOptions, w: Writer, skip?: ReadonlySet<number>): void {
  const order: (AttributeRow | { code: number; flags: number; hex: string })[] = [];
  for (const r of ROWS) if (r.present(a) && !skip?.has(r.code)) order.push(r);
  for (const u of a.unknown ?? []) if (ATTRIBUTE_TABLE[u.code] === undefined || !ATTRIBUTE_TABLE[u.code]!.present(a)) order.push(u);
  const rank = (c: number) => (c === K.ATTR_MP_REACH ? -2 : c === K.ATTR_MP_UNREACH ? -1 : c);
  order.sort((x, y) => rank(x.code) - rank(y.code));
  for (const r of order) {
    const start = w.pos;
    w.ensure(4);
    w.pos += 4; // flags, code, 2-octet length (shrunk below when it fits one)
    if ('encode' in r) r.encode(a, opts, w);
    else w.bytes(fromHex(r.hex) ?? new Uint8Array(0));
    const len = w.pos - start - 4;
    const flags = 'encode' in r ? r.flags : r.flags & 0xe0; // the low four bits are unused (RFC 4271 §4.3)
    if (len > 0xffff) throw new RangeError(`${attributeName(r.code)} is longer than 65535 octets`);
    w.buf[start + 1] = r.code;
    if (len <= 255) {
      w.buf[start] = flags & ~K.FLAG_EXTENDED;
      w.buf[start + 2] = len;
      w.buf.copyWithin(start + 3, start + 4, w.pos);
      w.pos -= 1;
    } else {
      w.buf[start] = flags | K.FLAG_EXTENDED;
      w.patchU16(start + 2, len);
    }
  }
}

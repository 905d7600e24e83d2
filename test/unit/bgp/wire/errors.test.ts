/**
 * Error cases, one row per rule of RFC 4271 §6.1–6.3 as revised by RFC 7606: the
 * NOTIFICATION code / subcode / data and the action the receiver must take.
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, splitFrames, type ErrorAction } from '../../../../bgp/wire/index.js';
import { AS2, attr, frame, hex, updateBody } from './helpers.js';

const ORIGIN = attr(0x40, 1, '00');
const AS_PATH = attr(0x40, 2, '02 01 0000fde8');
const NEXT_HOP = attr(0x40, 3, '0a000001');
const BASE = ORIGIN + AS_PATH + NEXT_HOP;
const NLRI = '18 0a0001 18 0a0002';

interface Row {
  rule: string;
  bytes: Buffer;
  code: number;
  subcode: number;
  action: ErrorAction;
  /** expected NOTIFICATION data, hex; undefined: not checked */
  data?: string;
}

const header = (len: number, type: number) => Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([len >> 8, len & 0xff, type])]);

const rows: Row[] = [
  // ---- §6.1 Message Header Error ----
  { rule: '6.1 marker not all ones → Connection Not Synchronized', bytes: Buffer.concat([Buffer.alloc(15, 0xff), hex('fe 0013 04')]), code: 1, subcode: 1, action: 'session-reset', data: '' },
  { rule: '6.1 length < 19 → Bad Message Length, data = the length', bytes: Buffer.concat([header(18, 4)]), code: 1, subcode: 2, action: 'session-reset', data: '0012' },
  { rule: '6.1 length > 4096 → Bad Message Length', bytes: header(4097, 2), code: 1, subcode: 2, action: 'session-reset', data: '1001' },
  { rule: '6.1 KEEPALIVE longer than 19 → Bad Message Length', bytes: frame(4, '00'), code: 1, subcode: 2, action: 'session-reset', data: '0014' },
  { rule: '6.1 OPEN shorter than 29 → Bad Message Length', bytes: frame(1, '04 fde8 00b4 0a000001'), code: 1, subcode: 2, action: 'session-reset', data: '001c' },
  { rule: '6.1 UPDATE shorter than 23 → Bad Message Length', bytes: frame(2, '0000'), code: 1, subcode: 2, action: 'session-reset', data: '0015' },
  { rule: '6.1 NOTIFICATION shorter than 21 → Bad Message Length', bytes: frame(3, '06'), code: 1, subcode: 2, action: 'session-reset', data: '0014' },
  { rule: '6.1 unknown type → Bad Message Type, data = the type', bytes: frame(9, ''), code: 1, subcode: 3, action: 'session-reset', data: '09' },
  // ---- §6.2 OPEN Message Error ----
  { rule: '6.2 version 3 → Unsupported Version Number, data = 4', bytes: frame(1, '03 fde8 00b4 0a000001 00'), code: 2, subcode: 1, action: 'session-reset', data: '0004' },
  { rule: '6.2 hold time 1 → Unacceptable Hold Time', bytes: frame(1, '04 fde8 0001 0a000001 00'), code: 2, subcode: 6, action: 'session-reset' },
  { rule: '6.2 hold time 2 → Unacceptable Hold Time', bytes: frame(1, '04 fde8 0002 0a000001 00'), code: 2, subcode: 6, action: 'session-reset' },
  { rule: '6.2 BGP Identifier 0.0.0.0 → Bad BGP Identifier', bytes: frame(1, '04 fde8 00b4 00000000 00'), code: 2, subcode: 3, action: 'session-reset' },
  { rule: '6.2 optional parameter type 1 → Unsupported Optional Parameter', bytes: frame(1, '04 fde8 00b4 0a000001 04 01 02 0000'), code: 2, subcode: 4, action: 'session-reset' },
  { rule: '6.2 optional parameters length overruns', bytes: frame(1, '04 fde8 00b4 0a000001 08 02 06 0104 0001'), code: 2, subcode: 0, action: 'session-reset' },
  { rule: 'RFC 5492 malformed 4-octet AS capability', bytes: frame(1, '04 fde8 00b4 0a000001 05 02 03 41 01 00'), code: 2, subcode: 0, action: 'session-reset' },
  // ---- §6.3 UPDATE Message Error, with RFC 7606 actions ----
  { rule: '6.3 withdrawn length overruns → Malformed Attribute List', bytes: frame(2, '00ff 0000'), code: 3, subcode: 1, action: 'session-reset' },
  { rule: '6.3 total attribute length overruns → Malformed Attribute List', bytes: frame(2, '0000 00ff 400101 00'), code: 3, subcode: 1, action: 'session-reset' },
  { rule: '6.3 NLRI prefix length 33 → Invalid Network Field', bytes: frame(2, updateBody('', BASE, '21 0a000001 00')), code: 3, subcode: 10, action: 'session-reset' },
  { rule: '6.3 withdrawn prefix overruns → Invalid Network Field', bytes: frame(2, updateBody('18 0a00', '', '')), code: 3, subcode: 10, action: 'session-reset' },
  { rule: '6.3 unrecognized well-known → session reset, data = the attribute', bytes: frame(2, updateBody('', BASE + attr(0x40, 77, 'aa'), NLRI)), code: 3, subcode: 2, action: 'session-reset', data: '404d01aa' },
  { rule: '7606 §3 d missing ORIGIN → treat-as-withdraw, data = type code', bytes: frame(2, updateBody('', AS_PATH + NEXT_HOP, NLRI)), code: 3, subcode: 3, action: 'treat-as-withdraw', data: '01' },
  { rule: '7606 §3 d missing AS_PATH', bytes: frame(2, updateBody('', ORIGIN + NEXT_HOP, NLRI)), code: 3, subcode: 3, action: 'treat-as-withdraw', data: '02' },
  { rule: '7606 §3 d missing NEXT_HOP with IPv4 NLRI', bytes: frame(2, updateBody('', ORIGIN + AS_PATH, NLRI)), code: 3, subcode: 3, action: 'treat-as-withdraw', data: '03' },
  { rule: '7606 §3 c ORIGIN flagged optional → Attribute Flags Error, treat-as-withdraw', bytes: frame(2, updateBody('', attr(0xc0, 1, '00') + AS_PATH + NEXT_HOP, NLRI)), code: 3, subcode: 4, action: 'treat-as-withdraw', data: 'c0010100' },
  { rule: '7606 §7.1 ORIGIN length 2 → Attribute Length Error', bytes: frame(2, updateBody('', attr(0x40, 1, '0000') + AS_PATH + NEXT_HOP, NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw', data: '4001020000' },
  { rule: '7606 §7.1 ORIGIN value 3 → Invalid ORIGIN', bytes: frame(2, updateBody('', attr(0x40, 1, '03') + AS_PATH + NEXT_HOP, NLRI)), code: 3, subcode: 6, action: 'treat-as-withdraw', data: '40010103' },
  { rule: '7606 §7.2 AS_PATH segment type 5 → Malformed AS_PATH', bytes: frame(2, updateBody('', ORIGIN + attr(0x40, 2, '05 01 0000fde8') + NEXT_HOP, NLRI)), code: 3, subcode: 11, action: 'treat-as-withdraw' },
  { rule: '7606 §7.2 AS_PATH segment overrun', bytes: frame(2, updateBody('', ORIGIN + attr(0x40, 2, '02 02 0000fde8') + NEXT_HOP, NLRI)), code: 3, subcode: 11, action: 'treat-as-withdraw' },
  { rule: '7606 §7.2 AS_PATH zero-length segment', bytes: frame(2, updateBody('', ORIGIN + attr(0x40, 2, '02 00') + NEXT_HOP, NLRI)), code: 3, subcode: 11, action: 'treat-as-withdraw' },
  { rule: '7606 §7.3 NEXT_HOP length 5', bytes: frame(2, updateBody('', ORIGIN + AS_PATH + attr(0x40, 3, '0a00000100'), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: '6.3 NEXT_HOP 0.0.0.0 → Invalid NEXT_HOP, data = the attribute', bytes: frame(2, updateBody('', ORIGIN + AS_PATH + attr(0x40, 3, '00000000'), NLRI)), code: 3, subcode: 8, action: 'treat-as-withdraw', data: '40030400000000' },
  { rule: '6.3 NEXT_HOP multicast 224.0.0.5 → Invalid NEXT_HOP', bytes: frame(2, updateBody('', ORIGIN + AS_PATH + attr(0x40, 3, 'e0000005'), NLRI)), code: 3, subcode: 8, action: 'treat-as-withdraw' },
  { rule: '7606 §7.4 MED length 3', bytes: frame(2, updateBody('', BASE + attr(0x80, 4, '000001'), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: '7606 §7.5 LOCAL_PREF length 2', bytes: frame(2, updateBody('', BASE + attr(0x40, 5, '0001'), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: '7606 §7.8 COMMUNITIES length 5', bytes: frame(2, updateBody('', BASE + attr(0xc0, 8, '0000000100'), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: '7606 §7.8 COMMUNITIES length 0', bytes: frame(2, updateBody('', BASE + attr(0xc0, 8, ''), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: '7606 §7.9 ORIGINATOR_ID length 3', bytes: frame(2, updateBody('', BASE + attr(0x80, 9, '0a0000'), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: '7606 §7.10 CLUSTER_LIST length 6', bytes: frame(2, updateBody('', BASE + attr(0x80, 10, '0a0000010a00'), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: '7606 §7.14 EXTENDED_COMMUNITIES length 7', bytes: frame(2, updateBody('', BASE + attr(0xc0, 16, '00020000000001'), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: 'RFC 8092 §6 LARGE_COMMUNITY length 8', bytes: frame(2, updateBody('', BASE + attr(0xc0, 32, '0000000100000002'), NLRI)), code: 3, subcode: 5, action: 'treat-as-withdraw' },
  { rule: '7606 §4 attribute overruns the attribute field → treat-as-withdraw', bytes: frame(2, updateBody('', `${BASE}c00805000000`, NLRI)), code: 3, subcode: 1, action: 'treat-as-withdraw' },
  { rule: '7606 §4 fewer than 3 octets left for an attribute header', bytes: frame(2, updateBody('', `${BASE}c008`, NLRI)), code: 3, subcode: 1, action: 'treat-as-withdraw' },
  { rule: '7606 §7.11 MP_REACH next hop length 5 → session reset', bytes: frame(2, updateBody('', ORIGIN + AS_PATH + attr(0x80, 14, '0002 01 05 0102030405 00'), '')), code: 3, subcode: 9, action: 'session-reset' },
  { rule: '7606 §5.3 MP_REACH NLRI prefix length 129 → session reset', bytes: frame(2, updateBody('', ORIGIN + AS_PATH + attr(0x80, 14, `0002 01 10 ${'20010db8'.padEnd(32, '0')} 00 81 ff`), '')), code: 3, subcode: 10, action: 'session-reset' },
  { rule: '7606 §3 g MP_REACH twice → session reset', bytes: frame(2, updateBody('', ORIGIN + AS_PATH + attr(0x80, 15, '0002 01') + attr(0x80, 15, '0002 01'), '')), code: 3, subcode: 1, action: 'session-reset' },
  // RFC 7606 §4 (last paragraph) and RFC 4760 §7: treat-as-withdraw needs MP_REACH / MP_UNREACH parsed;
  // one whose length runs past the attribute field cannot be, so the session resets (IPv4 NLRI present: not §5.2)
  { rule: '7606 §4 MP_UNREACH overruns the attribute field → Optional Attribute Error, session reset', bytes: frame(2, updateBody('', `${BASE}800f09 0002 01 20 20010db8`, NLRI)), code: 3, subcode: 9, action: 'session-reset', data: '800f090002012020010db8' },
  { rule: '7606 §4 MP_REACH overruns the attribute field → Optional Attribute Error, session reset', bytes: frame(2, updateBody('', `${BASE}800e20 0002 01 10 ${'20010db8'.padEnd(32, '0')} 00 20 20010db8`, NLRI)), code: 3, subcode: 9, action: 'session-reset' },
  { rule: '7606 §4 MP_UNREACH header cut short (2 octets left) → session reset', bytes: frame(2, updateBody('', `${BASE}800f`, NLRI)), code: 3, subcode: 9, action: 'session-reset' },
  // RFC 7606 §5.2: attributes but no reachable NLRI (no NLRI field, no MP_REACH_NLRI): any error
  // other than attribute discard resets the session, with the error's own code, subcode and data
  { rule: '7606 §5.2 only withdrawn 10/8 + MED length 3 → session reset', bytes: frame(2, updateBody('08 0a', ORIGIN + AS_PATH + attr(0x80, 4, '000001'), '')), code: 3, subcode: 5, action: 'session-reset', data: '800403000001' },
  { rule: '7606 §5.2 no prefixes at all + ORIGIN value 3 → session reset', bytes: frame(2, updateBody('', attr(0x40, 1, '03') + AS_PATH, '')), code: 3, subcode: 6, action: 'session-reset', data: '40010103' },
  { rule: '7606 §5.2 MP_UNREACH withdrawal + MED length 3 → session reset', bytes: frame(2, updateBody('', attr(0x80, 15, '0002 01 20 20010db8') + attr(0x80, 4, '000001'), '')), code: 3, subcode: 5, action: 'session-reset' },
  { rule: '7606 §5.2 MP_REACH_NLRI without prefixes + MED length 3 → session reset', bytes: frame(2, updateBody('', attr(0x80, 14, `0002 01 10 ${'20010db8'.padEnd(32, '0')} 00`) + ORIGIN + AS_PATH + attr(0x80, 4, '000001'), '')), code: 3, subcode: 5, action: 'session-reset', data: '800403000001' },
  { rule: '7606 §5.2 only withdrawn + an attribute overrunning the field → session reset', bytes: frame(2, updateBody('08 0a', `${ORIGIN}c00805000000`, '')), code: 3, subcode: 1, action: 'session-reset' },
  // ---- ROUTE-REFRESH (RFC 7313 §5) ----
  { rule: 'RFC 7313 ROUTE-REFRESH of 24 octets → Invalid Message Length, data = the message', bytes: frame(5, '0001 00 01 00'), code: 7, subcode: 1, action: 'session-reset', data: `${'ff'.repeat(16)}0018050001000100` },
];

describe('error values per RFC 4271 §6 and RFC 7606', () => {
  it.each(rows)('$rule', (row) => {
    const r = decodeMessage(row.bytes);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect({ code: r.error.code, subcode: r.error.subcode, action: r.error.action }).toEqual({ code: row.code, subcode: row.subcode, action: row.action });
    if (row.data !== undefined) expect(Buffer.from(r.error.data).toString('hex')).toBe(row.data);
    if (row.action === 'treat-as-withdraw') expect(r.message).toBeDefined();
  });
});

describe('RFC 7606 handling', () => {
  it('treat-as-withdraw still yields the prefixes as withdrawn, of every family', () => {
    const mp = attr(0x80, 14, `0002 01 10 ${'20010db8'.padEnd(32, '0')} 00 30 20010db80009`);
    const r = decodeMessage(frame(2, updateBody('18 0a0009', mp + attr(0x40, 1, '07') + AS_PATH + NEXT_HOP, NLRI)));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.action).toBe('treat-as-withdraw');
    expect(r.message?.nlri).toEqual([]);
    expect(r.message?.attributes).toEqual({});
    expect(r.message?.withdrawn.map((p) => `${p.addr}/${p.len}`).sort()).toEqual(['10.0.1.0/24', '10.0.2.0/24', '10.0.9.0/24', '2001:db8:9::/48']);
  });

  it('attribute discard: a bad AGGREGATOR or ATOMIC_AGGREGATE is dropped and the route stays', () => {
    const r = decodeMessage(frame(2, updateBody('', BASE + attr(0x40, 6, '00') + attr(0xc0, 7, '0000fde8 0a'), NLRI)));
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.type !== 'UPDATE') return;
    expect(r.message.attributes.aggregator).toBeUndefined();
    expect(r.message.attributes.atomicAggregate).toBeUndefined();
    expect(r.message.nlri).toHaveLength(2);
    expect(r.discarded?.map((e) => [e.attrCode, e.subcode, e.action])).toEqual([[6, 5, 'attribute-discard'], [7, 5, 'attribute-discard']]);
  });

  it('attribute discard: a malformed AS4_PATH is dropped (RFC 6793 §6)', () => {
    const r = decodeMessage(frame(2, updateBody('', ORIGIN + attr(0x40, 2, '02 01 fde8') + NEXT_HOP + attr(0xc0, 17, '02 02 0000fde8'), NLRI)), AS2);
    expect(r.ok && r.message.type === 'UPDATE' && r.message.attributes.as4Path).toBeUndefined();
    expect(r.ok && r.discarded?.[0]?.attrCode).toBe(17);
  });

  it('a duplicate attribute: the first is kept, the others discarded (§3 g)', () => {
    const r = decodeMessage(frame(2, updateBody('', BASE + attr(0x80, 4, '00000001') + attr(0x80, 4, '00000002'), NLRI)));
    expect(r.ok && r.message.type === 'UPDATE' && r.message.attributes.med).toBe(1);
    expect(r.ok && r.discarded?.[0]?.subcode).toBe(1);
  });

  it('keeps the strongest: a discard and a withdraw give treat-as-withdraw; add a reset and it resets', () => {
    const bad = attr(0xc0, 7, '00') + attr(0x80, 4, '00');
    const r1 = decodeMessage(frame(2, updateBody('', BASE + bad, NLRI)));
    expect(!r1.ok && [r1.error.action, r1.error.attrCode]).toEqual(['treat-as-withdraw', 4]);
    const r2 = decodeMessage(frame(2, updateBody('', BASE + bad + attr(0x40, 77, ''), NLRI)));
    expect(!r2.ok && [r2.error.action, r2.error.subcode]).toEqual(['session-reset', 2]);
  });

  it('§5.2 leaves attribute discard alone, and an UPDATE with MP_REACH_NLRI keeps treat-as-withdraw', () => {
    const d = decodeMessage(frame(2, updateBody('08 0a', ORIGIN + AS_PATH + attr(0x40, 6, '00'), '')));
    expect(d.ok && d.message.type === 'UPDATE' && d.message.withdrawn.map((p) => `${p.addr}/${p.len}`)).toEqual(['10.0.0.0/8']);
    expect(d.ok && d.discarded?.map((e) => e.action)).toEqual(['attribute-discard']);
    const mp = attr(0x80, 14, `0002 01 10 ${'20010db8'.padEnd(32, '0')} 00 30 20010db80009`);
    const w = decodeMessage(frame(2, updateBody('', mp + ORIGIN + AS_PATH + attr(0x80, 4, '000001'), '')));
    expect(!w.ok && [w.error.action, w.error.subcode]).toEqual(['treat-as-withdraw', 5]);
    expect(!w.ok && w.message?.withdrawn.map((p) => `${p.addr}/${p.len}`)).toEqual(['2001:db8:9::/48']);
  });

  it('an unknown optional attribute is kept, a non-transitive one too (for display), flags without Extended Length', () => {
    const r = decodeMessage(frame(2, updateBody('', BASE + attr(0xd0, 200, '01'), NLRI)));
    expect(r.ok && r.message.type === 'UPDATE' && r.message.attributes.unknown).toEqual([{ code: 200, flags: 0xc0, hex: '01' }]);
  });
});

describe('splitFrames', () => {
  it('returns complete frames, the incomplete rest, and stops at a framing error', () => {
    const ka = frame(4, '');
    const two = Buffer.concat([ka, ka, ka.subarray(0, 10)]);
    const r = splitFrames(two);
    expect(r.frames).toHaveLength(2);
    expect(r.rest).toHaveLength(10);
    expect(r.error).toBeUndefined();
    const bad = splitFrames(Buffer.concat([ka, hex('00'.repeat(19))]));
    expect(bad.frames).toHaveLength(1);
    expect(bad.error?.subcode).toBe(1);
    const long = splitFrames(Buffer.concat([ka, header(5000, 2)]));
    expect([long.frames.length, long.error?.subcode, Buffer.from(long.error?.data ?? []).toString('hex')]).toEqual([1, 2, '1388']);
  });

  it('knows a partial header is bad from its marker alone', () => {
    expect(splitFrames(hex('ff ff 00')).error?.subcode).toBe(1);
    expect(splitFrames(hex('ff ff ff')).error).toBeUndefined();
  });
});

/**
 * Receive-side rules found by a read-only hunt over crafted UPDATEs: NEXT_HOP in an
 * MP-only UPDATE (RFC 4760 §3), AS 0 (RFC 7607 §2), LOCAL_PREF from an external
 * neighbour (RFC 7606 §7.5), and flag conflicts (RFC 7606 §3 c).
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, type CodecOptions } from '../../../../bgp/wire/index.js';
import { AS2, attr, frame, updateBody } from './helpers.js';

const ORIGIN = attr(0x40, 1, '00');
const AS_PATH = attr(0x40, 2, '02 01 0000fde9');
const NEXT_HOP = attr(0x40, 3, '0a000001');
const BASE = ORIGIN + AS_PATH + NEXT_HOP;
const NLRI = '18 0a0001';
const MP6 = attr(0x80, 14, `0002 01 10 ${'20010db8'.padEnd(32, '0')} 00 40 fd00000100000000`);
const EBGP: CodecOptions = { as4: true, addPath: new Set(), ibgp: false };
const IBGP: CodecOptions = { as4: true, addPath: new Set(), ibgp: true };

describe('RFC 4760 §3: NEXT_HOP in an UPDATE whose only NLRI is in MP_REACH is ignored', () => {
  it.each([
    ['0.0.0.0', attr(0x40, 3, '00000000')],
    ['224.0.0.1', attr(0x40, 3, 'e0000001')],
    ['length 5', attr(0x40, 3, '0102030405')],
    ['flagged optional', attr(0xc0, 3, '0a000001')],
  ])('NEXT_HOP %s: the UPDATE decodes, the IPv6 route stays, the attribute is discarded', (_n, nh) => {
    const r = decodeMessage(frame(2, updateBody('', MP6 + ORIGIN + AS_PATH + nh, '')));
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.type !== 'UPDATE') return;
    expect(r.message.attributes.mpReach?.nlri.map((p) => `${p.addr}/${p.len}`)).toEqual(['fd00:1::/64']);
    expect(r.message.attributes.nextHop).toBeUndefined();
    expect((r.discarded ?? []).map((e) => [e.attrCode, e.action])).toEqual([[3, 'attribute-discard']]);
  });

  it('a withdraw-only UPDATE carrying a bad NEXT_HOP does not reset the session', () => {
    const r = decodeMessage(frame(2, updateBody('18 0a0009', ORIGIN + AS_PATH + attr(0x40, 3, '00000000'), '')));
    expect(r.ok).toBe(true);
  });

  it('with IPv4 NLRI a bad NEXT_HOP is still treat-as-withdraw (3/8)', () => {
    const r = decodeMessage(frame(2, updateBody('', MP6 + ORIGIN + AS_PATH + attr(0x40, 3, '00000000'), NLRI)));
    expect(!r.ok && [r.error.subcode, r.error.action]).toEqual([8, 'treat-as-withdraw']);
  });

  it('a good NEXT_HOP in an MP-only UPDATE is still read (round trips)', () => {
    const r = decodeMessage(frame(2, updateBody('', MP6 + BASE, '')));
    expect(r.ok && r.message.type === 'UPDATE' && r.message.attributes.nextHop).toBe('10.0.0.1');
  });
});

describe('RFC 7607 §2: AS 0', () => {
  it('AS 0 in AS_PATH → Malformed AS_PATH, treat-as-withdraw', () => {
    const r = decodeMessage(frame(2, updateBody('', ORIGIN + attr(0x40, 2, '02 02 0000fde9 00000000') + NEXT_HOP, NLRI)));
    expect(!r.ok && [r.error.code, r.error.subcode, r.error.action]).toEqual([3, 11, 'treat-as-withdraw']);
  });

  it('AS 0 in a 2-octet AS_PATH too', () => {
    const r = decodeMessage(frame(2, updateBody('', ORIGIN + attr(0x40, 2, '01 02 fde9 0000') + NEXT_HOP, NLRI)), AS2);
    expect(!r.ok && [r.error.subcode, r.error.action]).toEqual([11, 'treat-as-withdraw']);
  });

  it('AS 0 in AS4_PATH → attribute discard (RFC 6793 §6)', () => {
    const r = decodeMessage(frame(2, updateBody('', ORIGIN + attr(0x40, 2, '02 02 fde9 5ba0') + NEXT_HOP + attr(0xc0, 17, '02 02 0000fde9 00000000'), NLRI)), AS2);
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.type !== 'UPDATE') return;
    expect(r.message.attributes.as4Path).toBeUndefined();
    expect((r.discarded ?? []).map((e) => [e.attrCode, e.action])).toEqual([[17, 'attribute-discard']]);
  });

  it('AS 0 in AGGREGATOR / AS4_AGGREGATOR → attribute discard', () => {
    const r = decodeMessage(frame(2, updateBody('', BASE + attr(0xc0, 7, '00000000 0a000001'), NLRI)));
    expect(r.ok && r.message.type === 'UPDATE' && r.message.attributes.aggregator).toBeUndefined();
    expect(r.ok && (r.discarded ?? []).map((e) => [e.attrCode, e.action])).toEqual([[7, 'attribute-discard']]);
    const r4 = decodeMessage(frame(2, updateBody('', ORIGIN + attr(0x40, 2, '02 01 fde9') + NEXT_HOP + attr(0xc0, 18, '00000000 0a000001'), NLRI)), AS2);
    expect(r4.ok && (r4.discarded ?? []).map((e) => [e.attrCode, e.action])).toEqual([[18, 'attribute-discard']]);
  });
});

describe('RFC 7606 §7.5: LOCAL_PREF from an external neighbour is discarded', () => {
  const badLp = attr(0x40, 5, '0000000064');
  it('eBGP session: a malformed LOCAL_PREF does not withdraw the route', () => {
    const r = decodeMessage(frame(2, updateBody('', BASE + badLp, NLRI)), EBGP);
    expect(r.ok).toBe(true);
    expect(r.ok && r.message.type === 'UPDATE' && r.message.nlri).toHaveLength(1);
  });

  it('eBGP session: a good LOCAL_PREF is not decoded either', () => {
    const r = decodeMessage(frame(2, updateBody('', BASE + attr(0x40, 5, '00000064'), NLRI)), EBGP);
    expect(r.ok && r.message.type === 'UPDATE' && r.message.attributes.localPref).toBeUndefined();
    expect(r.ok && r.message.type === 'UPDATE' && r.message.attributes.unknown).toBeUndefined();
  });

  it('iBGP session (and no session facts): a malformed LOCAL_PREF is treat-as-withdraw', () => {
    for (const o of [IBGP, undefined]) {
      const r = decodeMessage(frame(2, updateBody('', BASE + badLp, NLRI)), o);
      expect(!r.ok && [r.error.subcode, r.error.action]).toEqual([5, 'treat-as-withdraw']);
    }
  });
});

describe('RFC 7606 §3 c: a flags conflict is treat-as-withdraw (§7.6 / §7.7 say nothing about flags)', () => {
  it.each([
    ['AGGREGATOR flagged well-known', attr(0x40, 7, '0000fde9 0a000002'), 7],
    ['ATOMIC_AGGREGATE flagged optional', attr(0xc0, 6, ''), 6],
  ])('%s → 3/4 treat-as-withdraw', (_n, a, code) => {
    const r = decodeMessage(frame(2, updateBody('', BASE + a, NLRI)));
    expect(!r.ok && [r.error.subcode, r.error.action, r.error.attrCode]).toEqual([4, 'treat-as-withdraw', code]);
  });
});

/** Text forms: addresses (RFC 5952), prefixes, communities (RFC 1997, RFC 8092), extended communities, AS paths. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalAddress, formatAsPath, formatCommunity, formatExtendedCommunity, formatIpv6, formatLargeCommunity, formatPrefix, parseCommunity,
  parseIpv4, parseIpv6, parseLargeCommunity, parsePrefix, notificationName, asPathLength,
} from '../../../../bgp/wire/index.js';

describe('IPv6 text (RFC 5952)', () => {
  it.each([
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // the first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['0:0:0:0:0:0:0:0', '::'],
    ['fe80::', 'fe80::'],
    ['::1', '::1'],
    ['2001:DB8::A', '2001:db8::a'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ])('%s → %s', (input, want) => {
    const b = parseIpv6(input);
    expect(b).toBeDefined();
    expect(formatIpv6(b!, 0)).toBe(want);
  });
  it('rejects malformed text', () => {
    for (const bad of ['1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '']) expect(parseIpv6(bad)).toBeUndefined();
  });
  it('canonicalAddress: IPv6 in RFC 5952 form, IPv4 and non-addresses unchanged', () => {
    expect(['2001:DB8:0:0::0100', 'FD00:0::1', '10.0.0.1', 'fe80::1%eth0', 'x'].map(canonicalAddress))
      .toEqual(['2001:db8::100', 'fd00::1', '10.0.0.1', 'fe80::1%eth0', 'x']);
  });
  it('format ∘ parse is the identity on canonical text', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      const text = formatIpv6(b, 0);
      expect(Buffer.from(parseIpv6(text)!).equals(Buffer.from(b))).toBe(true);
    }));
  });
});

describe('IPv4 text and prefixes', () => {
  it('parses dotted quads strictly', () => {
    expect(parseIpv4('10.0.0.1')).toBe(0x0a000001);
    for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.01', '10..0.1', 'a.b.c.d', '10.0.0.1.2']) expect(parseIpv4(bad)).toBeUndefined();
  });
  it('parsePrefix clears host bits and keeps the path id', () => {
    expect(parsePrefix('10.1.2.3/16')).toEqual({ afi: 1, addr: '10.1.0.0', len: 16 });
    expect(parsePrefix('2001:db8::ffff/33', 4)).toEqual({ afi: 2, addr: '2001:db8::', len: 33, pathId: 4 });
    expect(parsePrefix('0.0.0.0/0')).toEqual({ afi: 1, addr: '0.0.0.0', len: 0 });
    for (const bad of ['10.0.0.0/33', '10.0.0.0', 'fd00::/129', '10.0.0.0/x']) expect(parsePrefix(bad)).toBeUndefined();
    expect(formatPrefix({ afi: 2, addr: 'fd00::', len: 8 })).toBe('fd00::/8');
  });
});

describe('communities', () => {
  it('formats and parses RFC 1997 values and well-known names', () => {
    expect(formatCommunity(0xfde80001)).toBe('65000:1');
    expect(formatCommunity(0xffffff01)).toBe('NO_EXPORT');
    expect(formatCommunity(0xffffff02)).toBe('NO_ADVERTISE');
    expect(formatCommunity(0xffffff03)).toBe('NO_EXPORT_SUBCONFED');
    expect(parseCommunity('65000:1')).toBe(0xfde80001);
    expect(parseCommunity('no-export')).toBe(0xffffff01);
    expect(parseCommunity('NO_ADVERTISE')).toBe(0xffffff02);
    for (const bad of ['65536:1', '1:65536', 'x', '1:2:3']) expect(parseCommunity(bad)).toBeUndefined();
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (c) => { expect(parseCommunity(formatCommunity(c))).toBe(c); }));
  });
  it('formats and parses large communities "a:b:c"', () => {
    expect(formatLargeCommunity({ global: 4200000001, local1: 1, local2: 2 })).toBe('4200000001:1:2');
    expect(parseLargeCommunity('4200000001:1:2')).toEqual({ global: 4200000001, local1: 1, local2: 2 });
    expect(parseLargeCommunity('4294967296:1:2')).toBeUndefined();
    expect(parseLargeCommunity('1:2')).toBeUndefined();
  });
  it('formats route targets and origins, else the raw octets', () => {
    expect(formatExtendedCommunity({ type: 0x00, subtype: 0x02, hex: '0002fde800000064' })).toBe('rt:65000:100');
    expect(formatExtendedCommunity({ type: 0x01, subtype: 0x03, hex: '0103c00002010007' })).toBe('soo:192.0.2.1:7');
    expect(formatExtendedCommunity({ type: 0x02, subtype: 0x02, hex: '0202fa56ea010005' })).toBe('rt:4200000001:5');
    expect(formatExtendedCommunity({ type: 0x80, subtype: 0x06, hex: '8006000000000000' })).toBe('0x8006000000000000');
  });
});

describe('AS paths and NOTIFICATION names', () => {
  it('counts an AS_SET as one and confederation segments as none (RFC 4271 §9.1.2.2, RFC 5065)', () => {
    const p = [
      { type: 'AS_CONFED_SEQUENCE' as const, asns: [64512, 64513] },
      { type: 'AS_SEQUENCE' as const, asns: [65001, 65002] },
      { type: 'AS_SET' as const, asns: [1, 2, 3] },
    ];
    expect(asPathLength(p)).toBe(3);
    expect(formatAsPath(p)).toBe('(64512 64513) 65001 65002 {1,2,3}');
  });
  it('names codes and subcodes', () => {
    expect(notificationName(6, 2)).toBe('Cease / Administrative Shutdown');
    expect(notificationName(3, 0)).toBe('UPDATE Message Error / Unspecific');
    expect(notificationName(2, 99)).toBe('OPEN Message Error / subcode 99');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressError, parsePrefix, prefixContains } from '../../../../../agent/dataplane/netlink/ip.js';

/** Reference: the prefix's network address by bit arithmetic on a 32-bit integer, independently of ip.ts. */
function reference(a: number[], len: number): string {
  const n = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
  const masked = len === 0 ? 0 : Number(BigInt(n) & (((1n << BigInt(len)) - 1n) << BigInt(32 - len)));
  return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`;
}

const octets = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });

describe('IPv4 prefixes (parsePrefix / prefixContains)', () => {
  it('clears host bits exactly like integer arithmetic, for every length (property)', () => {
    fc.assert(fc.property(octets, fc.integer({ min: 0, max: 32 }), (a, len) => {
      const p = parsePrefix(`${a.join('.')}/${len}`);
      expect(`${p.address}/${p.length}`).toBe(reference(a, len));
      expect(p.family).toBe(4);
    }), { numRuns: 2000 });
  });

  it('tells whether an address lies inside (property)', () => {
    fc.assert(fc.property(octets, octets, fc.integer({ min: 0, max: 32 }), (a, b, len) => {
      const inside = reference(a, len) === reference(b, len).replace(/\/\d+$/, `/${len}`);
      expect(prefixContains(`${a.join('.')}/${len}`, b.join('.'))).toBe(inside);
      expect(prefixContains(`${a.join('.')}/${len}`, `${b.join('.')}/32`)).toBe(inside);
    }), { numRuns: 2000 });
  });

  it('a bare address is a host prefix; leading zeros in a length are still read', () => {
    expect(parsePrefix('10.1.2.3')).toEqual({ family: 4, address: '10.1.2.3', length: 32 });
    expect(parsePrefix('10.1.2.3/024')).toEqual({ family: 4, address: '10.1.2.0', length: 24 });
  });

  it('refuses what is no IPv4 prefix, naming it', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/2a', '10.0.0.256/8', '10.0.0/8', '10.0.0.0.0/8', '1e.0.0.0/8']) {
      expect(() => parsePrefix(bad), bad).toThrow(AddressError);
    }
    expect(prefixContains('10.0.0.0/8', '2001:db8::1')).toBe(false);
  });
});

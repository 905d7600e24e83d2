import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockCount, cidrOverlaps, formatCidr, freeBlocks, freeBlocksFrom, nthBlock, parseCidr, stableIndex, type Cidr } from '../../../../agent/ipam/cidr.js';

const list = (pool: string, size: number, taken: string[]) => [...freeBlocks(parseCidr(pool), size, taken.map(parseCidr))].map(formatCidr);

describe('freeBlocks', () => {
  it('skips candidates overlapped by a taken block of any size, in either direction', () => {
    expect(list('10.0.0.0/24', 26, [])).toEqual(['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26']);
    // a bigger taken block covers several candidates; a smaller one inside a candidate takes it
    expect(list('10.0.0.0/24', 28, ['10.0.0.0/26', '10.0.0.128/28', '10.0.0.240/30'])).toEqual(
      ['10.0.0.64/28', '10.0.0.80/28', '10.0.0.96/28', '10.0.0.112/28', '10.0.0.144/28', '10.0.0.160/28', '10.0.0.176/28', '10.0.0.192/28', '10.0.0.208/28', '10.0.0.224/28']);
    expect(list('10.0.0.0/24', 26, ['10.0.0.0/28', '10.0.0.200/32'])).toEqual(['10.0.0.64/26', '10.0.0.128/26']);
    // taken outside the pool or of the other family do not count; a taken block covering the pool takes all
    expect(list('10.0.0.0/25', 26, ['10.0.1.0/26', 'fd00::/120'])).toEqual(['10.0.0.0/26', '10.0.0.64/26']);
    expect(list('10.0.0.0/25', 26, ['10.0.0.0/20'])).toEqual([]);
  });

  it('is lazy over a huge IPv6 pool', () => {
    const it6 = freeBlocks(parseCidr('fd00::/48'), 122, [parseCidr('fd00::/122')]);
    expect(formatCidr(it6.next().value as Cidr)).toBe('fd00::40/122');
  });

  it('equals the brute-force answer: every candidate overlapping no taken block, in order', () => {
    fc.assert(fc.property(
      fc.integer({ min: 24, max: 30 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 511 }), fc.integer({ min: 22, max: 32 })), { maxLength: 8 }),
      (size, raw) => {
        const pool = parseCidr('10.0.0.0/24');
        const taken = raw.map(([o, p]): Cidr => ({ family: 4, base: (0x0a000000n + BigInt(o)) & ~((1n << BigInt(32 - p)) - 1n), prefix: p }));
        const want: string[] = [];
        for (let i = 0n; i < blockCount(pool, size); i++) {
          const c = nthBlock(pool, size, i);
          if (!taken.some((t) => cidrOverlaps(t, c))) want.push(formatCidr(c));
        }
        expect([...freeBlocks(pool, size, taken)].map(formatCidr)).toEqual(want);
      }), { numRuns: 200 });
  });
});

describe('freeBlocksFrom', () => {
  const from = (pool: string, size: number, taken: string[], start: bigint) => [...freeBlocksFrom(parseCidr(pool), size, taken.map(parseCidr), start)].map(formatCidr);

  it('starts at block number `start` (modulo the count) and wraps round the pool', () => {
    expect(from('10.0.0.0/24', 26, [], 2n)).toEqual(['10.0.0.128/26', '10.0.0.192/26', '10.0.0.0/26', '10.0.0.64/26']);
    expect(from('10.0.0.0/24', 26, [], 6n)).toEqual(['10.0.0.128/26', '10.0.0.192/26', '10.0.0.0/26', '10.0.0.64/26']);
    // a taken block reaching across the start point; a taken /25 covering two candidates
    expect(from('10.0.0.0/24', 26, ['10.0.0.0/25'], 1n)).toEqual(['10.0.0.128/26', '10.0.0.192/26']);
    expect(from('10.0.0.0/24', 28, ['10.0.0.64/26', '10.0.0.200/32'], 5n)).toEqual(
      ['10.0.0.128/28', '10.0.0.144/28', '10.0.0.160/28', '10.0.0.176/28', '10.0.0.208/28', '10.0.0.224/28', '10.0.0.240/28',
        '10.0.0.0/28', '10.0.0.16/28', '10.0.0.32/28', '10.0.0.48/28']);
  });

  it('is lazy over a huge IPv6 pool', () => {
    const it6 = freeBlocksFrom(parseCidr('fd00::/48'), 122, [parseCidr('fd00::1:0/122')], 1024n);
    expect(formatCidr(it6.next().value as Cidr)).toBe('fd00::1:40/122');
  });

  it('is freeBlocks rotated: the same blocks, those at or after the start first', () => {
    fc.assert(fc.property(
      fc.integer({ min: 24, max: 30 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 511 }), fc.integer({ min: 22, max: 32 })), { maxLength: 8 }),
      fc.bigInt({ min: 0n, max: 1000n }),
      (size, raw, start) => {
        const pool = parseCidr('10.0.0.0/24');
        const taken = raw.map(([o, p]): Cidr => ({ family: 4, base: (0x0a000000n + BigInt(o)) & ~((1n << BigInt(32 - p)) - 1n), prefix: p }));
        const all = [...freeBlocks(pool, size, taken)];
        const at = nthBlock(pool, size, start % blockCount(pool, size)).base;
        const want = [...all.filter((c) => c.base >= at), ...all.filter((c) => c.base < at)].map(formatCidr);
        expect([...freeBlocksFrom(pool, size, taken, start)].map(formatCidr)).toEqual(want);
      }), { numRuns: 200 });
  });
});

describe('stableIndex', () => {
  it('is the same number for the same text on every call (64-bit FNV-1a modulo the count), inside [0, count)', () => {
    expect(stableIndex('node-x', 1024n)).toBe(stableIndex('node-x', 1024n));
    // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c
    expect(stableIndex('a', 1n << 64n)).toBe(0xaf63dc4c8601ec8cn);
    expect(stableIndex('a', 1000n)).toBe(0xaf63dc4c8601ec8cn % 1000n);
    expect(stableIndex('anything', 1n)).toBe(0n);
    expect(stableIndex('anything', 0n)).toBe(0n);
  });

  it('spreads node names over the blocks of a pool', () => {
    const starts = Array.from({ length: 100 }, (_, i) => stableIndex(`node${i}`, 1024n));
    for (const s of starts) expect(s >= 0n && s < 1024n).toBe(true);
    // 100 names into 1024 blocks: about 5 shared by chance; all in one place would defeat the point
    expect(new Set(starts).size).toBeGreaterThan(85);
  });
});

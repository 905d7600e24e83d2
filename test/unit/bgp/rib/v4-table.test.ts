import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { V4Table } from '../../../../bgp/rib/v4-table.js';

// few distinct keys, many sharing their low bits (as /24 addresses do), some negative as int32
const key = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map((i) => (0x0a000000 + (i << 8)) | 0),
  fc.integer({ min: 0, max: 40 }).map((i) => (0xc0000000 + (i << 16)) | 0),
  fc.integer({ min: -5, max: 5 }),
);
const op = fc.record({ kind: fc.constantFrom('set', 'set', 'get', 'delete'), k: key, v: fc.integer() });

describe('V4Table', () => {
  it('behaves as a Map<number, V>: values, size, insertion order (after deletes, squeezes and growth)', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const t = new V4Table<number>();
      const ref = new Map<number, number>();
      for (const o of ops) {
        if (o.kind === 'set') { t.set(o.k, o.v); ref.set(o.k, o.v); } else if (o.kind === 'delete') expect(t.delete(o.k)).toBe(ref.delete(o.k));
        expect(t.get(o.k)).toBe(ref.get(o.k));
      }
      expect(t.size).toBe(ref.size);
      expect([...t.entries()]).toEqual([...ref.entries()]);
      for (const k of ref.keys()) expect(t.get(k)).toBe(ref.get(k));
    }), { numRuns: 300 });
  });

  it('keeps every key reachable through many inserts and deletes (probe runs closed on delete)', () => {
    const t = new V4Table<number>();
    const ref = new Map<number, number>();
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      const k = (x >>> 20) << 8; // 4096 distinct /24-like keys
      if (x & 1) { t.set(k, i); ref.set(k, i); } else expect(t.delete(k)).toBe(ref.delete(k));
    }
    expect(t.size).toBe(ref.size);
    for (let k = 0; k < 4096; k++) expect(t.get(k << 8)).toBe(ref.get(k << 8));
    expect(new Map(t.entries())).toEqual(ref);
  });

  it('grows twofold past the fourfold range: 140k distinct keys (the dense arrays reach 131072 and double) stay reachable, in order', () => {
    const t = new V4Table<number>();
    const n = 140_000;
    // /24-like keys from 10.0.0.0 on, with the top bit set for every other one (negative as int32)
    const keyOf = (i: number): number => ((i & 1 ? 0x80000000 : 0) + ((0x0a000000 + (i << 8)) & 0x7fffffff)) | 0;
    for (let i = 0; i < n; i++) t.set(keyOf(i), i);
    expect(t.size).toBe(n);
    let bad = 0;
    for (let i = 0; i < n; i++) if (t.get(keyOf(i)) !== i) bad++;
    expect(bad).toBe(0);
    expect(t.get(keyOf(n))).toBeUndefined();
    let i = 0;
    for (const [k, v] of t.entries()) {
      if (k !== keyOf(i) || v !== i) break;
      i++;
    }
    expect(i).toBe(n);
  });

  it('allows setting and deleting present keys while iterating', () => {
    const t = new V4Table<number>();
    for (let i = 0; i < 100; i++) t.set(i << 8, i);
    const seen: number[] = [];
    for (const [k, v] of t.entries()) {
      seen.push(v);
      if (v % 2 === 0) t.delete(k); else t.set(k, v + 1000);
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...t.entries()].map(([, v]) => v)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1 + 1000));
  });
});

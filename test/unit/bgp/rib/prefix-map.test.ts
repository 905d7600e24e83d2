import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyText, PrefixMap } from '../../../../bgp/rib/prefix-map.js';

const octet = fc.integer({ min: 0, max: 255 });
const v4 = fc.tuple(octet, octet, octet, octet, fc.integer({ min: 0, max: 32 })).map(([a, b, c, d, l]) => `${a}.${b}.${c}.${d}/${l}`);
const other = fc.constantFrom('fd00::/64', '::/0', 'p', '', '10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '010.0.0.0/8', '1.2.3/24', '1.2.3.4.5/24', '256.0.0.0/8', '1.2.3.4/2x', '1..2.3/8', '1.2.3.4/024', '1.2.3.4/0', '1.2.3.4/00', '1.2.3.04/8', '0.0.0.0/0');
const key = fc.oneof(v4, v4, other);
const op = fc.record({ kind: fc.constantFrom('set', 'set', 'delete'), key, v: fc.integer() });

describe('PrefixMap', () => {
  it('behaves as a Map keyed by the text, whatever the keys (IPv4 held as integers, the rest as text)', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const m = new PrefixMap<number>();
      const ref = new Map<string, number>();
      for (const o of ops) {
        if (o.kind === 'set') { m.set(o.key, o.v); ref.set(o.key, o.v); } else expect(m.delete(o.key)).toBe(ref.delete(o.key));
        expect(m.get(o.key)).toBe(ref.get(o.key));
      }
      expect(m.size).toBe(ref.size);
      expect(new Map(m.entries())).toEqual(ref);
      for (const k of ref.keys()) expect(m.has(k)).toBe(true);
      const c = m.counts();
      expect(c.ipv4 + c.other).toBe(ref.size);
    }), { numRuns: 300 });
  });

  it('lists IPv4 by prefix length, then the rest; select returns only what the predicate picks', () => {
    const m = new PrefixMap<number>();
    m.set('fd00::/64', 1); m.set('10.0.0.0/24', 2); m.set('10.0.0.0/8', 3); m.set('255.255.255.255/32', 4); m.set('0.0.0.0/0', 5);
    expect([...m].map(([k]) => k)).toEqual(['0.0.0.0/0', '10.0.0.0/8', '10.0.0.0/24', '255.255.255.255/32', 'fd00::/64']);
    expect([...m.select((v) => v % 2 === 0)]).toEqual([['10.0.0.0/24', 2], ['255.255.255.255/32', 4]]);
    expect(m.counts()).toEqual({ ipv4: 4, other: 1 });
    // deleting while listing
    for (const [k] of m) m.delete(k);
    expect(m.size).toBe(0);
  });
});

describe('PrefixMap with IPv4 keys given as numbers', () => {
  const num = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
    .map(([a, len]) => ({ bits: len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0, len }));
  it('a numeric key and its text are the same entry (set by one, read and deleted by the other)', () => {
    fc.assert(fc.property(fc.array(fc.record({ k: num, v: fc.integer(), byText: fc.boolean(), del: fc.boolean() }), { maxLength: 60 }), (ops) => {
      const m = new PrefixMap<number>();
      const ref = new Map<string, number>();
      for (const o of ops) {
        const text = keyText(o.k);
        expect(text).toBe(`${[o.k.bits >>> 24, (o.k.bits >>> 16) & 0xff, (o.k.bits >>> 8) & 0xff, o.k.bits & 0xff].join('.')}/${o.k.len}`);
        const key = o.byText ? text : o.k;
        if (o.del) expect(m.delete(key)).toBe(ref.delete(text)); else { m.set(key, o.v); ref.set(text, o.v); }
        expect(m.get(o.byText ? o.k : text)).toBe(ref.get(text));
      }
      expect(new Map(m.entries())).toEqual(ref);
      expect(m.counts()).toEqual({ ipv4: ref.size, other: 0 });
    }), { numRuns: 300 });
  });
});

describe('PrefixMap.selectKeys', () => {
  it('yields what select yields, IPv4 keys as numbers', () => {
    fc.assert(fc.property(fc.array(fc.tuple(key, fc.integer()), { maxLength: 40 }), (kvs) => {
      const m = new PrefixMap<number>();
      for (const [k, v] of kvs) m.set(k, v);
      const even = (v: number): boolean => v % 2 === 0;
      const got = [...m.selectKeys(even)];
      expect(got.map(([k, v]) => [keyText(k), v])).toEqual([...m.select(even)]);
      for (const [k] of got) if (typeof k !== 'string') expect(m.get(k)).toBe(m.get(keyText(k)));
    }), { numRuns: 200 });
  });
});

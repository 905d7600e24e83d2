/**
 * IPv4 prefixes decoded as numbers (CodecOptions.ipv4Numbers, the session's receive
 * path): the same prefixes as the plain decode, `bits` agreeing with the text, the
 * text made on demand, and re-encoding byte-exact.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, parsePrefix, formatPrefix, type CodecOptions, type Message, type Prefix } from '../../../../bgp/wire/index.js';
import { parseIpv4 } from '../../../../bgp/wire/address.js';
import { compilePrefixFilter } from '../../../../bgp/rib/policy.js';
import { anyMessage } from './arbitraries.js';

const RUNS = process.env.CI === 'true' ? 1000 : 200;

function prefixesOf(m: Message): Prefix[] {
  if (m.type !== 'UPDATE') return [];
  return [...m.withdrawn, ...m.nlri, ...(m.attributes.mpReach?.nlri ?? []), ...(m.attributes.mpUnreach?.withdrawn ?? [])];
}

const plain = (p: Prefix): { afi: number; addr: string; len: number; pathId: number | undefined } => ({ afi: p.afi, addr: p.addr, len: p.len, pathId: p.pathId });

describe.each([
  { name: 'plain', opts: { as4: true, addPath: new Set<string>() }, addPath: false },
  { name: 'ADD-PATH', opts: { as4: true, addPath: new Set(['1/1', '2/1']) }, addPath: true },
])('decoding IPv4 prefixes as numbers, $name', ({ opts, addPath }) => {
  it('gives the prefixes of the plain decode, with bits = the address, and re-encodes byte-exact', () => {
    const numeric: CodecOptions = { ...opts, ipv4Numbers: true };
    let seen = 0;
    fc.assert(fc.property(anyMessage({ as4: true, addPath }), (m) => {
      let b: Buffer;
      try { b = encodeMessage(m, opts); } catch { return; }
      const a = decodeMessage(b, opts);
      const n = decodeMessage(b, numeric);
      if (!a.ok || !n.ok) throw new Error('decode failed');
      const pa = prefixesOf(a.message);
      const pn = prefixesOf(n.message);
      expect(pn.map(plain)).toEqual(pa.map(plain));
      for (const p of pn) {
        if (p.afi === 1) { seen++; expect(p.bits).toBe(parseIpv4(p.addr)); } else expect(p.bits).toBeUndefined();
        expect(formatPrefix(p)).toBe(formatPrefix(parsePrefix(`${p.addr}/${p.len}`)!));
      }
      expect(encodeMessage(n.message, opts).equals(b)).toBe(true);
    }), { numRuns: RUNS });
    expect(seen).toBeGreaterThan(RUNS);
  });

  it('a prefix filter says the same for the numbers as for the text', () => {
    const f = compilePrefixFilter(['10.244.0.0/16', '192.168.0.0/24', 'fd00::/8'])!;
    const v4 = fc.tuple(fc.constantFrom(0x0af40000, 0xc0a80000, 0x0a000000), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 32 }))
      .map(([net, low, len]) => { const a = (net | low) >>> 0; return { bits: len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0, len }; });
    fc.assert(fc.property(v4, ({ bits, len }) => {
      const text = `${bits >>> 24}.${(bits >>> 16) & 0xff}.${(bits >>> 8) & 0xff}.${bits & 0xff}`;
      expect(f.ipv4(bits, len)).toBe(f(text, len));
    }), { numRuns: RUNS });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, flatJoin, formatPrefix } from '../../../../bgp/wire/index.js';
import type { Prefix } from '../../../../bgp/wire/types.js';
import { formatIpv4Number } from '../../../../bgp/wire/address.js';
import { ipv4PrefixText } from '../../../../bgp/wire/prefix.js';

const OPTS = { as4: true, addPath: new Set<string>() };

describe('prefix text built as flat strings', () => {
  it('flatJoin equals plain concatenation, short and long', () => {
    fc.assert(fc.property(fc.string(), fc.constantFrom('/', '#', ''), fc.string(), (a, sep, b) => {
      expect(flatJoin(a, sep, b)).toBe(a + sep + b);
    }));
  });

  it('decoded IPv4 NLRI and their keys read as dotted quads (every octet value, every length)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 })), { minLength: 1, maxLength: 50 }), (raw) => {
      const nlri: Prefix[] = raw.map(([a, b, c, d, len]) => {
        const v = (((a << 24) | (b << 16) | (c << 8) | d) >>> 0) & (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
        return { afi: 1, addr: [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.'), len };
      });
      const frame = encodeMessage({ type: 'UPDATE', withdrawn: [], attributes: { origin: 'IGP', asPath: [], nextHop: '192.0.2.1' }, nlri }, OPTS);
      const r = decodeMessage(frame, OPTS);
      expect(r.ok).toBe(true);
      if (!r.ok || r.message.type !== 'UPDATE') return;
      expect(r.message.nlri.map((p) => p.addr)).toEqual(nlri.map((p) => p.addr));
      expect(r.message.nlri.map(formatPrefix)).toEqual(nlri.map((p) => `${p.addr}/${p.len}`));
    }), { numRuns: 200 });
  });

  it('ipv4PrefixText (character codes) reads as the template formatter formatIpv4Number does, with /len', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (bits, len) => {
      expect(ipv4PrefixText(bits, len)).toBe(`${formatIpv4Number(bits)}/${len}`);
    }), { numRuns: 500 });
    for (const v of [0, 9, 10, 99, 100, 255]) expect(ipv4PrefixText(((v << 24) | (v << 16) | (v << 8) | v) >>> 0, v % 33)).toBe(`${v}.${v}.${v}.${v}/${v % 33}`);
  });
});

/** Properties: decode ∘ encode is the identity on every valid message, for each set of session options. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeMessage, encodeMessage, encodeUpdates, encodeWithdrawals, mergeAs4Path, reconcileAs4, toTwoOctetPeer,
  type CodecOptions, type Message, type Prefix,
} from '../../../../bgp/wire/index.js';
import { anyMessage, attributes, prefix4, prefix6 } from './arbitraries.js';

const RUNS = process.env.CI === 'true' ? 2000 : 300;

const cases: { name: string; opts: CodecOptions; gen: { as4: boolean; addPath: boolean } }[] = [
  { name: '4-octet AS', opts: { as4: true, addPath: new Set() }, gen: { as4: true, addPath: false } },
  { name: '2-octet AS', opts: { as4: false, addPath: new Set() }, gen: { as4: false, addPath: false } },
  { name: 'ADD-PATH IPv4 and IPv6', opts: { as4: true, addPath: new Set(['1/1', '2/1']) }, gen: { as4: true, addPath: true } },
];

function encodeOrSkip(m: Message, opts: CodecOptions): Buffer | undefined {
  try {
    return encodeMessage(m, opts);
  } catch (err) {
    if (err instanceof RangeError && /exceeds 4096/.test(err.message)) return undefined;
    throw err;
  }
}

describe.each(cases)('round trip, $name', ({ opts, gen }) => {
  it('decode(encode(m)) equals m', () => {
    let encoded = 0;
    fc.assert(fc.property(anyMessage(gen), (m) => {
      const b = encodeOrSkip(m, opts);
      if (b === undefined) return;
      encoded++;
      const r = decodeMessage(b, opts);
      if (!r.ok) throw new Error(`decode failed: ${r.error.message}`);
      expect(r.message).toEqual(m);
      expect(r.discarded).toBeUndefined();
      expect(encodeMessage(r.message, opts).equals(b)).toBe(true);
    }), { numRuns: RUNS });
    expect(encoded).toBeGreaterThan(RUNS / 2);
  });
});

describe('packing many prefixes into UPDATEs', () => {
  const opts: CodecOptions = { as4: true, addPath: new Set() };
  it('IPv4: every prefix once, in order, each UPDATE ≤ 4096 octets with the same attributes', () => {
    fc.assert(fc.property(attributes({ as4: true, addPath: false }, true), fc.array(prefix4(false), { minLength: 1, maxLength: 3000 }), (a0, prefixes) => {
      const { mpReach: _r, mpUnreach: _u, ...a } = a0;
      const frames = encodeUpdates(a, prefixes, opts);
      const got: Prefix[] = [];
      for (const f of frames) {
        expect(f.length).toBeLessThanOrEqual(4096);
        const r = decodeMessage(f, opts);
        if (!r.ok || r.message.type !== 'UPDATE') throw new Error('bad frame');
        expect(r.message.attributes).toEqual(a);
        got.push(...r.message.nlri);
      }
      expect(got).toEqual(prefixes);
    }), { numRuns: 30 });
  });

  it('IPv6 in MP_REACH_NLRI, and withdrawals of both families', () => {
    fc.assert(fc.property(fc.array(prefix6(false), { minLength: 1, maxLength: 2000 }), fc.array(prefix4(false), { maxLength: 2000 }), (v6, v4) => {
      const a = { origin: 'IGP' as const, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [] } };
      const got: Prefix[] = [];
      for (const f of encodeUpdates(a, v6, opts)) {
        expect(f.length).toBeLessThanOrEqual(4096);
        const r = decodeMessage(f, opts);
        if (!r.ok || r.message.type !== 'UPDATE') throw new Error('bad frame');
        got.push(...r.message.attributes.mpReach!.nlri);
      }
      expect(got).toEqual(v6);
      const gone: Prefix[] = [];
      for (const f of encodeWithdrawals([...v4, ...v6], opts)) {
        expect(f.length).toBeLessThanOrEqual(4096);
        const r = decodeMessage(f, opts);
        if (!r.ok || r.message.type !== 'UPDATE') throw new Error('bad frame');
        gone.push(...r.message.withdrawn, ...(r.message.attributes.mpUnreach?.withdrawn ?? []));
      }
      expect(gone).toEqual([...v4, ...v6]);
    }), { numRuns: 20 });
  });

  it('fills UPDATEs: 10k /24s with small attributes take 10000·4 / (4096 − overhead) frames, rounded up', () => {
    const prefixes = Array.from({ length: 10000 }, (_, i) => ({ afi: 1 as const, addr: `10.${i >> 8}.${i & 255}.0`, len: 24 }));
    const frames = encodeUpdates({ origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65000] }], nextHop: '10.0.0.1' }, prefixes, opts);
    const attrLen = 4 + 3 + 9 + 7; // origin, as_path (one 4-octet ASN), next hop
    const perFrame = Math.floor((4096 - 23 - attrLen) / 4);
    expect(frames.length).toBe(Math.ceil(10000 / perFrame));
  });
});

describe('RFC 6793 with 2-octet peers', () => {
  it('toTwoOctetPeer then reconcileAs4 gives back the 4-octet path and aggregator', () => {
    fc.assert(fc.property(attributes({ as4: true, addPath: false }, true), (a0) => {
      const { as4Path: _p, as4Aggregator: _g, ...a } = a0;
      // §4.2.3: a mappable AGGREGATOR makes the receiver ignore AS4_PATH, so the path survives only without one
      if (a.aggregator !== undefined && a.aggregator.asn <= 0xffff) delete a.aggregator;
      const sent = toTwoOctetPeer(a);
      expect(sent.asPath?.every((s) => s.asns.every((n) => n <= 0xffff))).toBe(true);
      // over the wire to a 2-octet speaker and back
      const b = encodeMessage({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: sent }, { as4: false, addPath: new Set() });
      const r = decodeMessage(b, { as4: false, addPath: new Set() });
      if (!r.ok || r.message.type !== 'UPDATE') throw new Error('decode failed');
      const back = reconcileAs4(r.message.attributes, false);
      // confederation segments holding wide ASNs cannot survive (AS4_PATH carries none), and real paths
      // hold confederation segments only in front (RFC 5065 §5.3): compare the paths that satisfy both
      const segs = a.asPath ?? [];
      const confed = segs.map((s) => s.type.startsWith('AS_CONFED'));
      const wideConfed = segs.some((s, i) => confed[i] && s.asns.some((n) => n > 0xffff));
      const confedInFront = confed.every((c, i) => !c || confed.slice(0, i).every(Boolean));
      if (!wideConfed && confedInFront) expect(back.asPath).toEqual(a.asPath);
      expect(back.aggregator).toEqual(a.aggregator);
      expect(back.as4Path).toBeUndefined();
    }), { numRuns: RUNS });
  });

  it('§4.2.3 worked example: an OLD speaker prepended itself in front of AS4_PATH', () => {
    const asPath = [{ type: 'AS_SEQUENCE' as const, asns: [65001, 23456, 23456] }];
    const as4Path = [{ type: 'AS_SEQUENCE' as const, asns: [4200000001, 4200000002] }];
    expect(mergeAs4Path(asPath, as4Path)).toEqual([{ type: 'AS_SEQUENCE', asns: [65001, 4200000001, 4200000002] }]);
  });

  it('ignores AS4_PATH longer than AS_PATH, and both AS4 attributes when AGGREGATOR is not AS_TRANS', () => {
    const asPath = [{ type: 'AS_SEQUENCE' as const, asns: [23456] }];
    const as4Path = [{ type: 'AS_SEQUENCE' as const, asns: [4200000001, 4200000002] }];
    expect(reconcileAs4({ asPath, as4Path }, false)).toEqual({ asPath });
    const agg = { asn: 65000, address: '10.0.0.1' };
    expect(reconcileAs4({ asPath, as4Path: [as4Path[0]!], aggregator: agg, as4Aggregator: { asn: 4200000001, address: '10.0.0.2' } }, false))
      .toEqual({ asPath, aggregator: agg });
    expect(reconcileAs4({ asPath, as4Path, aggregator: agg }, true)).toEqual({ asPath, aggregator: agg });
  });

  it('encodeMessage to a 2-octet peer adds AS_TRANS + AS4_PATH by itself', () => {
    const attrs = { origin: 'IGP' as const, asPath: [{ type: 'AS_SEQUENCE' as const, asns: [4200000001, 65000] }], nextHop: '10.0.0.1' };
    const b = encodeMessage({ type: 'UPDATE', withdrawn: [], nlri: [{ afi: 1, addr: '10.1.0.0', len: 16 }], attributes: attrs }, { as4: false, addPath: new Set() });
    const r = decodeMessage(b, { as4: false, addPath: new Set() });
    expect(r.ok && r.message.type === 'UPDATE' && r.message.attributes).toEqual({
      ...attrs, asPath: [{ type: 'AS_SEQUENCE', asns: [23456, 65000] }], as4Path: attrs.asPath,
    });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePaths, selectBest } from '../../../../bgp/rib/best-path.js';
import { internOut, newAdjRibOut, takeUpdates, want } from '../../../../bgp/rib/adj-rib-out.js';
import type { Path } from '../../../../bgp/rib/path.js';
import { attrs, path } from './helpers.js';

// Paths from one neighbouring AS (MED is then comparable between all of them, so the
// order is total) with small value ranges so that ties on early rules are common.
const arbPath = fc.record({
  local: fc.boolean(), ibgp: fc.boolean(), lp: fc.option(fc.integer({ min: 99, max: 101 }), { nil: undefined }),
  len: fc.integer({ min: 0, max: 2 }), origin: fc.constantFrom('IGP', 'EGP', 'INCOMPLETE' as const),
  med: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), rid: fc.integer({ min: 1, max: 4 }),
  cl: fc.integer({ min: 0, max: 2 }), addr: fc.integer({ min: 1, max: 200 }),
}).map((r): Path => path(
  { local: r.local, ibgp: r.ibgp, routerId: `10.0.0.${r.rid}`, address: `192.0.2.${r.addr}`, id: `p${r.addr}` },
  {
    origin: r.origin, asPath: [{ type: 'AS_SEQUENCE', asns: [65001, ...Array<number>(r.len).fill(65002)] }],
    ...(r.lp !== undefined ? { localPref: r.lp } : {}), ...(r.med !== undefined ? { med: r.med } : {}),
    ...(r.cl ? { clusterList: Array.from({ length: r.cl }, (_, i) => `10.9.9.${i}`) } : {}),
  },
));

describe('decision process properties', () => {
  it('comparison is antisymmetric', () => {
    fc.assert(fc.property(arbPath, arbPath, (a, b) => Math.sign(comparePaths(a, b).order) === -Math.sign(comparePaths(b, a).order)), { numRuns: 500 });
  });
  it('the best path is beaten by none and does not depend on the order of candidates', () => {
    fc.assert(fc.property(fc.array(arbPath, { minLength: 1, maxLength: 8 }), (paths) => {
      const sel = selectBest(paths)!;
      for (const p of paths) expect(comparePaths(p, sel.best).order).toBeGreaterThanOrEqual(0);
      const again = selectBest([...paths].reverse())!;
      expect(comparePaths(again.best, sel.best).order).toBe(0);
    }), { numRuns: 300 });
  });
});

// Paths from three neighbouring ASes: MED compares only within each, so pairwise comparison is not transitive
const arbMixed = fc.record({ nas: fc.integer({ min: 1, max: 3 }), med: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  ibgp: fc.boolean(), rid: fc.integer({ min: 1, max: 4 }), addr: fc.integer({ min: 1, max: 200 }) })
  .map((r): Path => path(
    { ibgp: r.ibgp, routerId: `10.0.0.${r.rid}`, address: `192.0.2.${r.addr}`, id: `p${r.addr}` },
    { asPath: [{ type: 'AS_SEQUENCE', asns: [65000 + r.nas, 65100] }], nextHops: [`192.0.2.${r.addr}`], ...(r.med !== undefined ? { med: r.med } : {}) },
  ));

describe('decision process with several neighbouring ASes (RFC 4271 §9.1.2.2 (c) as a filter)', () => {
  it('the best path and the multipath set do not depend on the order of candidates', () => {
    fc.assert(fc.property(fc.uniqueArray(arbMixed, { minLength: 1, maxLength: 7, selector: (p) => p.source.address }), fc.nat(), (paths, seed) => {
      const shuffled = [...paths];
      for (let i = shuffled.length - 1, x = seed; i > 0; i--, x = (x * 1103515245 + 12345) >>> 0) {
        const j = x % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const a = selectBest(paths, true)!;
      const b = selectBest(shuffled, true)!;
      expect(b.best).toBe(a.best);
      expect(b.reason).toBe(a.reason);
      expect(new Set(b.multipath ?? [b.best])).toEqual(new Set(a.multipath ?? [a.best]));
      // no path of the best's neighbouring AS has a lower MED
      const nas = a.best.attrs.asPath[0]!.asns[0];
      for (const p of paths) if (p.attrs.asPath[0]!.asns[0] === nas) expect(p.attrs.med ?? 0).toBeGreaterThanOrEqual(a.best.attrs.med ?? 0);
    }), { numRuns: 400 });
  });
});

describe('Adj-RIB-Out property', () => {
  it('applying every update in order leaves the peer with exactly the last desired state', () => {
    const step = fc.record({ prefix: fc.constantFrom('a', 'b', 'c', 'd'), med: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }) });
    fc.assert(fc.property(fc.array(fc.array(step, { maxLength: 6 }), { maxLength: 8 }), (batches) => {
      const out = newAdjRibOut();
      const peer = new Map<string, number | undefined>();
      const desired = new Map<string, number>();
      for (const batch of batches) {
        for (const s of batch) {
          want(out, s.prefix, s.med === null ? null : internOut(out, attrs({ med: s.med })));
          if (s.med === null) desired.delete(s.prefix); else desired.set(s.prefix, s.med);
        }
        const u = takeUpdates(out);
        for (const w of u.withdraw) { expect(peer.has(w)).toBe(true); peer.delete(w); }
        for (const [a, ks] of u.announce) for (const k of ks) { expect(peer.get(k)).not.toBe(a.med); peer.set(k, a.med); }
        expect(Object.fromEntries(peer)).toEqual(Object.fromEntries(desired));
      }
    }), { numRuns: 300 });
  });
});

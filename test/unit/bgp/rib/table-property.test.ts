import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { internPath, markStale, newAdjRibIn, type AdjRibIn } from '../../../../bgp/rib/adj-rib-in.js';
import { selectBest } from '../../../../bgp/rib/best-path.js';
import type { Path } from '../../../../bgp/rib/path.js';
import { dropPaths, newRibTable, putPath, removePath, routesOf, selectedOf, type RouteChange } from '../../../../bgp/rib/table.js';
import { attrs, peer } from './helpers.js';

const KEYS = ['10.0.0.0/24', '10.0.1.0/24', '10.0.0.0/16', 'fd00::/64'];
const op = fc.record({
  kind: fc.constantFrom('put', 'put', 'put', 'remove', 'drop', 'stale', 'sweep'),
  src: fc.integer({ min: 0, max: 2 }),
  key: fc.constantFrom(...KEYS),
  id: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
  med: fc.integer({ min: 0, max: 2 }),
  len: fc.integer({ min: 1, max: 2 }),
});

/**
 * The model: what the speaker did before the shared table — per source a Map of
 * "key" / "key#id" → path, candidates gathered source by source (no-id path first,
 * then ids by arrival), the decision run over them.
 */
describe('prefix table property: equals per-source tables plus a from-scratch decision', () => {
  it('after any put / remove / drop sequence from three sources (ADD-PATH ids mixed in), with and without multipath', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), fc.boolean(), (ops, multipath) => {
      const t = newRibTable(multipath);
      const ribs: AdjRibIn[] = [0, 1, 2].map((i) => newAdjRibIn(peer({ address: `192.0.2.${i + 1}`, id: `p${i}`, routerId: `1.1.1.${i + 1}` }), i + 1, i === 0));
      const model: Map<string, Path>[] = ribs.map(() => new Map());
      const ids: Map<string, number[]>[] = ribs.map(() => new Map());
      const replay = new Map<string, string[]>();
      const apply = (c: RouteChange | undefined | string): void => {
        if (typeof c !== 'object') return;
        if (c.kind === 'remove') replay.delete(c.prefix); else replay.set(c.prefix, c.nextHops);
      };
      for (const o of ops) {
        const rib = ribs[o.src]!;
        const mk = o.id === undefined ? o.key : `${o.key}#${o.id}`;
        if (o.kind === 'put') {
          const asns = o.len === 1 ? [65001] : [65001, 65002];
          const p = internPath(rib, attrs({ med: o.med, asPath: [{ type: 'AS_SEQUENCE', asns }], nextHops: [`192.0.2.${o.src + 1}`] }));
          apply(putPath(t, rib, o.key, o.id, p));
          if (o.id !== undefined && !model[o.src]!.has(mk)) { const l = ids[o.src]!.get(o.key) ?? []; l.push(o.id); ids[o.src]!.set(o.key, l); }
          model[o.src]!.set(mk, p);
        } else if (o.kind === 'remove') {
          apply(removePath(t, rib, o.key, o.id));
          if (model[o.src]!.delete(mk) && o.id !== undefined) ids[o.src]!.set(o.key, (ids[o.src]!.get(o.key) ?? []).filter((x) => x !== o.id));
        } else if (o.kind === 'stale') {
          markStale(rib); // graceful restart: the session went away
        } else if (o.kind === 'sweep') {
          dropPaths(t, rib, (_k, p) => p.stale, apply);
          for (const [k, p] of [...model[o.src]!]) {
            if (!p.stale) continue;
            model[o.src]!.delete(k);
            const [pk = '', id] = k.split('#');
            if (id !== undefined) ids[o.src]!.set(pk, (ids[o.src]!.get(pk) ?? []).filter((x) => x !== Number(id)));
          }
        } else {
          dropPaths(t, rib, (k) => k === o.key, apply);
          for (const k of [...model[o.src]!.keys()]) if (k.split('#')[0] === o.key) model[o.src]!.delete(k);
          ids[o.src]!.delete(o.key);
        }
      }
      for (const key of KEYS) {
        const cands: Path[] = [];
        ribs.forEach((_, i) => {
          const p = model[i]!.get(key);
          if (p) cands.push(p);
          for (const id of ids[i]!.get(key) ?? []) cands.push(model[i]!.get(`${key}#${id}`)!);
        });
        const sel = selectBest(cands, multipath);
        const slot = t.routes.get(key);
        if (!sel) { expect(slot).toBeUndefined(); expect(replay.has(key)).toBe(false); continue; }
        expect(selectedOf(slot!)).toEqual(sel.multipath ?? [sel.best]);
        expect(replay.get(key)).toEqual([...new Set((sel.multipath ?? [sel.best]).map((p) => p.attrs.nextHops[0]))]);
      }
      ribs.forEach((rib, i) => {
        expect(new Map(routesOf(t, rib))).toEqual(model[i]);
        expect(rib.count).toBe(model[i]!.size);
        expect(rib.staleCount).toBe([...model[i]!.values()].filter((p) => p.stale).length);
        // the first source keeps its own listing (as locally originated routes do): its routes without a path id
        if (rib.own) expect(rib.own).toEqual(new Map([...model[i]!].filter(([k]) => !k.includes('#'))));
        expect(rib.prefixes).toBe(new Set([...model[i]!.keys()].map((k) => k.split('#')[0])).size);
        // every interned path still in the intern table is used, with its reference count
        for (const p of rib.intern.values()) expect(p.refs).toBe([...model[i]!.values()].filter((q) => q === p).length);
      });
    }), { numRuns: 400 });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { internPath, markStale, newAdjRibIn, rebaseSource, type AdjRibIn } from '../../../../bgp/rib/adj-rib-in.js';
import { selectBest } from '../../../../bgp/rib/best-path.js';
import type { Path } from '../../../../bgp/rib/path.js';
import { keyFamily, keyText, type PrefixKey } from '../../../../bgp/rib/prefix-map.js';
import { dropPaths, mapPaths, MAX_PREFIX, newRibTable, putPath, removePath, type RouteChange } from '../../../../bgp/rib/table.js';
import { routesOf, selectedOf } from '../../../support/rib-table.js';
import { Ipv4Prefix } from '../../../../bgp/wire/prefix.js';
import { attrs, peer } from './helpers.js';

const KEYS = ['10.0.0.0/24', '10.0.1.0/24', '10.0.0.0/16', 'fd00::/64'];
/** each IPv4 key also as numbers (an `Ipv4Key`, as the session decodes it): the same entry either way */
const NUMERIC: PrefixKey[] = [new Ipv4Prefix(0x0a000000, 24, undefined), { bits: 0x0a000100, len: 24 }, new Ipv4Prefix(0x0a000000, 16, undefined)];
const op = fc.record({
  kind: fc.constantFrom('put', 'put', 'put', 'remove', 'drop', 'stale', 'sweep', 'sweep4', 'rebase', 'clear'),
  src: fc.integer({ min: 0, max: 2 }),
  key: fc.constantFrom<PrefixKey>(...KEYS, ...NUMERIC),
  id: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
  med: fc.integer({ min: 0, max: 2 }),
  len: fc.integer({ min: 1, max: 2 }),
  max: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
});

/**
 * The model: what the speaker did before the shared table — per source a Map of
 * "key" / "key#id" → path, candidates gathered source by source (no-id path first,
 * then ids by arrival), the decision run over them.
 */
describe('prefix table property: equals per-source tables plus a from-scratch decision', () => {
  it('after any put / remove / drop / stale / sweep / rebase / clear sequence from three sources (text and numeric keys, ADD-PATH ids, max-prefix), with and without multipath', () => {
    let refused = 0;
    let cleared = 0;
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), fc.boolean(), (ops, multipath) => {
      const t = newRibTable(multipath);
      const ribs: AdjRibIn[] = [0, 1, 2].map((i) => newAdjRibIn(peer({ address: `192.0.2.${i + 1}`, id: `p${i}`, routerId: `1.1.1.${i + 1}` }), i + 1));
      const model: Map<string, Path>[] = ribs.map(() => new Map());
      const ids: Map<string, number[]>[] = ribs.map(() => new Map());
      const replay = new Map<string, string[]>();
      const apply = (c: RouteChange | undefined | string): void => {
        if (typeof c !== 'object') return;
        if (c.kind === 'remove') replay.delete(c.prefix); else replay.set(c.prefix, c.nextHops);
      };
      const forget = (src: number, k: string): void => {
        model[src]!.delete(k);
        const [pk = '', id] = k.split('#');
        if (id !== undefined) ids[src]!.set(pk, (ids[src]!.get(pk) ?? []).filter((x) => x !== Number(id)));
      };
      for (const o of ops) {
        const rib = ribs[o.src]!;
        const text = keyText(o.key);
        const mk = o.id === undefined ? text : `${text}#${o.id}`;
        if (o.kind === 'put') {
          const asns = o.len === 1 ? [65001] : [65001, 65002];
          const p = internPath(rib, attrs({ med: o.med, asPath: [{ type: 'AS_SEQUENCE', asns }], nextHops: [`192.0.2.${o.src + 1}`] }));
          const c = putPath(t, rib, o.key, o.id, p, o.max);
          const isNew = !model[o.src]!.has(mk);
          if (isNew && o.max !== undefined && model[o.src]!.size >= o.max) { expect(c).toBe(MAX_PREFIX); refused++; continue; }
          apply(c);
          if (o.id !== undefined && isNew) { const l = ids[o.src]!.get(text) ?? []; l.push(o.id); ids[o.src]!.set(text, l); }
          model[o.src]!.set(mk, p);
        } else if (o.kind === 'remove') {
          apply(removePath(t, rib, o.key, o.id));
          if (model[o.src]!.has(mk)) forget(o.src, mk);
        } else if (o.kind === 'stale') {
          markStale(rib); // graceful restart: the session went away
        } else if (o.kind === 'sweep' || o.kind === 'sweep4') {
          const fam = o.kind === 'sweep4' ? 'ipv4' : undefined;
          dropPaths(t, rib, (k, p) => p.stale && (!fam || keyFamily(k) === fam), apply);
          for (const [k, p] of [...model[o.src]!]) if (p.stale && (!fam || !k.includes(':'))) forget(o.src, k);
        } else if (o.kind === 'rebase') {
          // a changed source (route-reflector client flag): every path replaced by its rebased twin
          const map = rebaseSource(rib, { ...rib.source, rrClient: !rib.source.rrClient });
          mapPaths(t, rib, map, apply);
          for (const [k, p] of [...model[o.src]!]) model[o.src]!.set(k, map(p));
        } else if (o.kind === 'clear') {
          // session down without graceful restart (the speaker's clearRoutes): nothing is left, not even a stale count
          dropPaths(t, rib, undefined, apply);
          rib.intern = new Map();
          model[o.src]!.clear();
          ids[o.src]!.clear();
          expect([rib.count, rib.prefixes, rib.staleCount]).toEqual([0, 0, 0]);
          cleared++;
        } else {
          dropPaths(t, rib, (k) => keyText(k) === text, apply);
          for (const k of [...model[o.src]!.keys()]) if (k.split('#')[0] === text) model[o.src]!.delete(k);
          ids[o.src]!.delete(text);
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
      for (const k of NUMERIC) expect(t.routes.get(k)).toBe(t.routes.get(keyText(k)));
      ribs.forEach((rib, i) => {
        expect(new Map(routesOf(t, rib))).toEqual(model[i]);
        expect(rib.count).toBe(model[i]!.size);
        expect(rib.staleCount).toBe([...model[i]!.values()].filter((p) => p.stale).length);
        expect(rib.prefixes).toBe(new Set([...model[i]!.keys()].map((k) => k.split('#')[0])).size);
        // every interned path still in the intern table is used, with its reference count
        for (const p of rib.intern.values()) expect(p.refs).toBe([...model[i]!.values()].filter((q) => q === p).length);
      });
    }), { numRuns: 400 });
    expect(refused).toBeGreaterThan(0);
    expect(cleared).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { internPath, markStale, newAdjRibIn, prefixCount, rebaseSource, type AdjRibIn } from '../../../../bgp/rib/adj-rib-in.js';
import { internOut, newAdjRibOut, takeUpdates, want } from '../../../../bgp/rib/adj-rib-out.js';
import { keyFamily } from '../../../../bgp/rib/prefix-map.js';
import {
  dropPaths, locRibFamilies, mapPaths, MAX_PREFIX, newRibTable, putPath, removePath, RibEntry, type RibTable, type RouteChange,
} from '../../../../bgp/rib/table.js';
import { bestAt, routesOf } from '../../../support/rib-table.js';
import { attrs, peer } from './helpers.js';

const sweep = (t: RibTable, rib: AdjRibIn, fam?: 'ipv4' | 'ipv6'): string[] => {
  const changed: string[] = [];
  dropPaths(t, rib, (k, p) => p.stale && (!fam || keyFamily(k) === fam), (c) => changed.push(c.prefix));
  return changed;
};

describe('Adj-RIB-In (a peer view over the prefix table)', () => {
  it('interns one path per attribute set', () => {
    const t = newRibTable();
    const rib = newAdjRibIn(peer());
    const a = internPath(rib, attrs({ med: 1 }));
    const b = internPath(rib, attrs({ med: 1 }));
    const c = internPath(rib, attrs({ med: 2 }));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    putPath(t, rib, '10.0.0.0/24', undefined, a);
    putPath(t, rib, '10.0.1.0/24', undefined, b);
    expect(t.routes.get('10.0.0.0/24')).toBe(t.routes.get('10.0.1.0/24'));
    expect(rib.count).toBe(2);
  });

  it('forgets an attribute set once no route uses it', () => {
    const t = newRibTable();
    const rib = newAdjRibIn(peer());
    for (let med = 0; med < 50; med++) putPath(t, rib, '10.0.0.0/24', undefined, internPath(rib, attrs({ med })));
    expect(rib.intern.size).toBe(1);
    const kept = internPath(rib, attrs({ med: 49 }));
    expect(routesOf(t, rib).get('10.0.0.0/24')).toBe(kept);
    putPath(t, rib, '10.0.1.0/24', undefined, kept);
    removePath(t, rib, '10.0.0.0/24', undefined);
    expect(rib.intern.size).toBe(1);
    removePath(t, rib, '10.0.1.0/24', undefined);
    expect(rib.intern.size).toBe(0);
    expect(t.routes.size).toBe(0);
  });

  it('ADD-PATH keeps several paths per prefix and counts the prefix once', () => {
    const t = newRibTable();
    const rib = newAdjRibIn(peer());
    putPath(t, rib, '10.0.0.0/24', 1, internPath(rib, attrs({ med: 1 })));
    putPath(t, rib, '10.0.0.0/24', 2, internPath(rib, attrs({ med: 2 })));
    expect([...routesOf(t, rib)].map(([k, p]) => [k, p.attrs.med])).toEqual([['10.0.0.0/24#1', 1], ['10.0.0.0/24#2', 2]]);
    expect(prefixCount(rib)).toBe(1);
    expect(rib.count).toBe(2);
    expect(bestAt(t, '10.0.0.0/24')?.attrs.med).toBe(1);
    expect(removePath(t, rib, '10.0.0.0/24', 1)).toMatchObject({ kind: 'change', reason: 'only-path' });
    expect([...routesOf(t, rib).values()].map((p) => p.attrs.med)).toEqual([2]);
    expect(prefixCount(rib)).toBe(1);
    expect(removePath(t, rib, '10.0.0.0/24', 2)).toEqual({ prefix: '10.0.0.0/24', kind: 'remove', nextHops: [] });
    expect(prefixCount(rib)).toBe(0);
  });

  it('graceful restart: all stale, re-announced ones fresh, End-of-RIB sweeps the rest per family', () => {
    const t = newRibTable();
    const rib = newAdjRibIn(peer());
    const p = internPath(rib, attrs());
    for (const k of ['10.0.0.0/24', '10.0.1.0/24', 'fd00::/64']) putPath(t, rib, k, undefined, p);
    markStale(rib);
    expect(rib.staleCount).toBe(3);
    expect(routesOf(t, rib).get('10.0.0.0/24')?.stale).toBe(true);
    // same attributes again after the restart: a new, fresh path
    const fresh = internPath(rib, attrs());
    expect(fresh.stale).toBe(false);
    putPath(t, rib, '10.0.0.0/24', undefined, fresh);
    expect(rib.staleCount).toBe(2);
    expect(sweep(t, rib, 'ipv4')).toEqual(['10.0.1.0/24']);
    expect([...routesOf(t, rib).keys()].sort()).toEqual(['10.0.0.0/24', 'fd00::/64']);
    expect(sweep(t, rib)).toEqual(['fd00::/64']);
    expect(rib.staleCount).toBe(0);
    expect(locRibFamilies(t)).toEqual({ ipv4: 1, ipv6: 0 });
    const gone: RouteChange[] = [];
    dropPaths(t, rib, undefined, (c) => gone.push(c));
    expect(gone.map((c) => [c.prefix, c.kind])).toEqual([['10.0.0.0/24', 'remove']]);
    expect([rib.count, rib.prefixes, t.routes.size]).toEqual([0, 0, 0]);
  });

  it('max-prefix refuses a new route past the limit, never a replacement', () => {
    const t = newRibTable();
    const rib = newAdjRibIn(peer());
    const a = internPath(rib, attrs({ med: 1 }));
    expect(putPath(t, rib, '10.0.0.0/24', undefined, a, 1)).toMatchObject({ kind: 'add' });
    expect(putPath(t, rib, '10.0.1.0/24', undefined, a, 1)).toBe(MAX_PREFIX);
    expect(putPath(t, rib, '10.0.0.0/24', undefined, internPath(rib, attrs({ med: 2 })), 1)).toMatchObject({ kind: 'change' });
    expect([rib.count, t.routes.size]).toEqual([1, 1]);
  });
});

describe('prefix table: candidates and the Loc-RIB', () => {
  const two = (multipath = false) => {
    const t = newRibTable(multipath);
    const ra = newAdjRibIn(peer({ address: '192.0.2.1', id: 'a', routerId: '1.1.1.1' }), 1);
    const rb = newAdjRibIn(peer({ address: '192.0.2.2', id: 'b', routerId: '2.2.2.2' }), 2);
    return { t, ra, rb };
  };

  it('reports add, change and remove with next hops, and nothing when unchanged', () => {
    const { t, ra, rb } = two();
    const a = internPath(ra, attrs({ nextHops: ['192.0.2.1'] }));
    const b = internPath(rb, attrs({ nextHops: ['192.0.2.2'], asPath: [] }));
    expect(putPath(t, ra, 'p', undefined, a)).toMatchObject({ kind: 'add', nextHops: ['192.0.2.1'], best: a });
    expect(putPath(t, ra, 'p', undefined, a)).toBeUndefined();
    expect(t.routes.get('p')).toBe(a); // one path: the entry is the path itself
    expect(putPath(t, rb, 'p', undefined, b)).toMatchObject({ kind: 'change', nextHops: ['192.0.2.2'], reason: 'as-path-length' });
    expect(t.routes.get('p')).toBeInstanceOf(RibEntry);
    expect(removePath(t, rb, 'p', undefined)).toMatchObject({ kind: 'change', best: a, reason: 'only-path' });
    expect(t.routes.get('p')).toBe(a); // back to the compact form
    expect(removePath(t, rb, 'p', undefined)).toBeUndefined(); // not held
    expect(removePath(t, ra, 'p', undefined)).toEqual({ prefix: 'p', kind: 'remove', nextHops: [] });
    expect(t.routes.size).toBe(0);
  });

  it('a worse second path changes nothing; its withdrawal neither', () => {
    const { t, ra, rb } = two();
    const a = internPath(ra, attrs({ nextHops: ['192.0.2.1'], asPath: [] }));
    putPath(t, ra, 'p', undefined, a);
    expect(putPath(t, rb, 'p', undefined, internPath(rb, attrs({ nextHops: ['192.0.2.2'] })))).toBeUndefined();
    expect(removePath(t, rb, 'p', undefined)).toBeUndefined();
    expect(bestAt(t, 'p')).toBe(a);
  });

  it('multipath reports every equal-cost next hop, in source order whatever the arrival order', () => {
    const { t, ra, rb } = two(true);
    const a = internPath(ra, attrs({ nextHops: ['192.0.2.1'] }));
    const b = internPath(rb, attrs({ nextHops: ['192.0.2.2'] }));
    putPath(t, rb, 'p', undefined, b);
    expect(putPath(t, ra, 'p', undefined, a)?.valueOf()).toMatchObject({ nextHops: ['192.0.2.1', '192.0.2.2'] });
    expect(putPath(t, ra, 'p', undefined, a)).toBeUndefined();
    expect((t.routes.get('p') as RibEntry).paths).toEqual([a, b]);
  });

  it('a peer scan re-maps its paths (new source info) and re-decides', () => {
    const { t, ra, rb } = two();
    const a = internPath(ra, attrs({ nextHops: ['192.0.2.1'] }));
    putPath(t, ra, 'p', undefined, a);
    putPath(t, ra, 'q', undefined, a);
    putPath(t, rb, 'q', undefined, internPath(rb, attrs({ nextHops: ['192.0.2.2'] })));
    const changed: RouteChange[] = [];
    mapPaths(t, ra, rebaseSource(ra, { ...ra.source, rrClient: true }), (c) => changed.push(c));
    expect(changed.map((c) => c.prefix)).toEqual(['p', 'q']);
    expect(bestAt(t, 'p')?.source.rrClient).toBe(true);
    expect(bestAt(t, 'q')?.source.rrClient).toBe(true);
    expect(ra.intern.size).toBe(1);
    expect([...ra.intern.values()][0]!.refs).toBe(2);
  });
});

describe('Adj-RIB-Out: desired vs sent', () => {
  it('drops interned attribute sets nothing sent uses once the table grows', () => {
    const out = newAdjRibOut();
    for (let med = 0; med < 3000; med++) {
      want(out, 'p', internOut(out, attrs({ med })));
      takeUpdates(out);
    }
    expect(out.intern.size).toBeLessThan(1100);
    expect(out.sent.get('p')?.med).toBe(2999);
    expect(internOut(out, attrs({ med: 2999 }))).toBe(out.sent.get('p'));
  });

  it('sends only differences, grouped by attribute set', () => {
    const out = newAdjRibOut();
    const x = internOut(out, attrs({ med: 1 }));
    const y = internOut(out, attrs({ med: 2 }));
    expect(internOut(out, attrs({ med: 1 }))).toBe(x);
    want(out, 'a', x); want(out, 'b', x); want(out, 'c', y);
    let u = takeUpdates(out);
    expect([...u.announce.entries()].map(([k, v]) => [k.med, v])).toEqual([[1, ['a', 'b']], [2, ['c']]]);
    expect(u.withdraw).toEqual([]);
    // same again: nothing; one changed, one withdrawn, one never sent withdrawn: only two
    want(out, 'a', x); want(out, 'b', y); want(out, 'c', null); want(out, 'zz', null);
    u = takeUpdates(out);
    expect([...u.announce.entries()].map(([k, v]) => [k.med, v])).toEqual([[2, ['b']]]);
    expect(u.withdraw).toEqual(['c']);
    expect([...out.sent.keys()].sort()).toEqual(['a', 'b']);
  });
});

import { describe, expect, it } from 'vitest';
import {
  clearRib, deleteRoute, internPath, markStale, newAdjRibIn, pathsFor, prefixCount, setRoute, sweepStale,
} from '../../../../bgp/rib/adj-rib-in.js';
import { internOut, newAdjRibOut, resetSent, takeUpdates, want } from '../../../../bgp/rib/adj-rib-out.js';
import { decide, newLocRib } from '../../../../bgp/rib/loc-rib.js';
import { attrs, path, peer } from './helpers.js';

describe('Adj-RIB-In', () => {
  it('interns one path per attribute set', () => {
    const rib = newAdjRibIn(peer());
    const a = internPath(rib, attrs({ med: 1 }));
    const b = internPath(rib, attrs({ med: 1 }));
    const c = internPath(rib, attrs({ med: 2 }));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    setRoute(rib, '10.0.0.0/24', undefined, a);
    setRoute(rib, '10.0.1.0/24', undefined, b);
    expect(rib.routes.get('10.0.0.0/24')).toBe(rib.routes.get('10.0.1.0/24'));
  });

  it('forgets an attribute set once no route uses it', () => {
    const rib = newAdjRibIn(peer());
    for (let med = 0; med < 50; med++) setRoute(rib, '10.0.0.0/24', undefined, internPath(rib, attrs({ med })));
    expect(rib.intern.size).toBe(1);
    const kept = internPath(rib, attrs({ med: 49 }));
    expect(rib.routes.get('10.0.0.0/24')).toBe(kept);
    setRoute(rib, '10.0.1.0/24', undefined, kept);
    deleteRoute(rib, '10.0.0.0/24', undefined);
    expect(rib.intern.size).toBe(1);
    deleteRoute(rib, '10.0.1.0/24', undefined);
    expect(rib.intern.size).toBe(0);
  });

  it('ADD-PATH keeps several paths per prefix and counts the prefix once', () => {
    const rib = newAdjRibIn(peer());
    setRoute(rib, '10.0.0.0/24', 1, internPath(rib, attrs({ med: 1 })));
    setRoute(rib, '10.0.0.0/24', 2, internPath(rib, attrs({ med: 2 })));
    const out: ReturnType<typeof internPath>[] = [];
    pathsFor(rib, '10.0.0.0/24', out);
    expect(out.map((p) => p.attrs.med)).toEqual([1, 2]);
    expect(prefixCount(rib)).toBe(1);
    deleteRoute(rib, '10.0.0.0/24', 1);
    out.length = 0;
    pathsFor(rib, '10.0.0.0/24', out);
    expect(out.map((p) => p.attrs.med)).toEqual([2]);
  });

  it('graceful restart: all stale, re-announced ones fresh, End-of-RIB sweeps the rest per family', () => {
    const rib = newAdjRibIn(peer());
    const p = internPath(rib, attrs());
    for (const k of ['10.0.0.0/24', '10.0.1.0/24', 'fd00::/64']) setRoute(rib, k, undefined, p);
    markStale(rib);
    expect(rib.staleCount).toBe(3);
    expect(rib.routes.get('10.0.0.0/24')?.stale).toBe(true);
    // same attributes again after the restart: a new, fresh path
    const fresh = internPath(rib, attrs());
    expect(fresh.stale).toBe(false);
    setRoute(rib, '10.0.0.0/24', undefined, fresh);
    expect(rib.staleCount).toBe(2);
    expect(sweepStale(rib, 'ipv4')).toEqual(['10.0.1.0/24']);
    expect([...rib.routes.keys()].sort()).toEqual(['10.0.0.0/24', 'fd00::/64']);
    expect(sweepStale(rib)).toEqual(['fd00::/64']);
    expect(rib.staleCount).toBe(0);
    expect(clearRib(rib)).toEqual(['10.0.0.0/24']);
  });
});

describe('Loc-RIB', () => {
  it('reports add, change and remove with next hops, and nothing when unchanged', () => {
    const loc = newLocRib();
    const a = path({ address: '192.0.2.1' }, { nextHops: ['192.0.2.1'] });
    const b = path({ address: '192.0.2.2', id: 'b' }, { nextHops: ['192.0.2.2'], asPath: [] });
    expect(decide(loc, 'p', [a])).toMatchObject({ kind: 'add', nextHops: ['192.0.2.1'], best: a });
    expect(decide(loc, 'p', [a])).toBeUndefined();
    expect(decide(loc, 'p', [a, b])).toMatchObject({ kind: 'change', nextHops: ['192.0.2.2'], reason: 'as-path-length' });
    expect(decide(loc, 'p', [])).toEqual({ prefix: 'p', kind: 'remove', nextHops: [] });
    expect(loc.routes.size).toBe(0);
  });
  it('multipath reports every equal-cost next hop', () => {
    const loc = newLocRib(true);
    const a = path({ address: '192.0.2.1', routerId: '1.1.1.1' }, { nextHops: ['192.0.2.1'] });
    const b = path({ address: '192.0.2.2', id: 'b', routerId: '2.2.2.2' }, { nextHops: ['192.0.2.2'] });
    expect(decide(loc, 'p', [b, a])?.nextHops).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(decide(loc, 'p', [a, b])).toBeUndefined();
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
    // route refresh: everything again
    resetSent(out);
    u = takeUpdates(out);
    expect([...u.announce.values()].flat().sort()).toEqual(['a', 'b']);
  });
});

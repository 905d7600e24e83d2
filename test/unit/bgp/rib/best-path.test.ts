import { describe, expect, it } from 'vitest';
import { comparePaths, neighborAs, pathLength, selectBest, type BestReason } from '../../../../bgp/rib/best-path.js';
import { path } from './helpers.js';

const seq = (...asns: number[]) => ({ type: 'AS_SEQUENCE' as const, asns });

// Each row: a path that must win over b, and the rule that must decide it. Every earlier
// rule is a tie between a and b, so the row fails if that rule is skipped or misordered.
const rows: [string, ReturnType<typeof path>, ReturnType<typeof path>, BestReason][] = [
  ['locally originated first', path({ local: true, address: '' }, { asPath: [seq(1, 2, 3)] }), path({}, { asPath: [] }), 'local-origin'],
  ['higher LOCAL_PREF', path({ ibgp: true }, { localPref: 200, asPath: [seq(1, 2)] }), path({ ibgp: true }, { localPref: 150 }), 'local-pref'],
  ['absent LOCAL_PREF counts as 100', path({}, { asPath: [seq(1, 2)] }), path({}, { localPref: 99 }), 'local-pref'],
  ['shorter AS_PATH', path({ address: '192.0.2.9' }, { asPath: [seq(1)] }), path({}, { asPath: [seq(1, 2)] }), 'as-path-length'],
  ['AS_SET counts one', path({ address: '192.0.2.9' }, { asPath: [seq(1), { type: 'AS_SET', asns: [5, 6, 7] }] }), path({}, { asPath: [seq(1, 2, 3)] }), 'as-path-length'],
  ['confederation segments count zero', path({ address: '192.0.2.9' }, { asPath: [{ type: 'AS_CONFED_SEQUENCE', asns: [9, 9, 9] }, seq(1)] }), path({}, { asPath: [seq(1, 2)] }), 'as-path-length'],
  ['lower ORIGIN', path({ address: '192.0.2.9' }, { origin: 'EGP' }), path({}, { origin: 'INCOMPLETE' }), 'origin'],
  ['lower MED from the same neighbour AS', path({ address: '192.0.2.9' }, { med: 10 }), path({}, { med: 20 }), 'med'],
  ['absent MED is 0', path({ address: '192.0.2.9' }, {}), path({}, { med: 1 }), 'med'],
  ['eBGP over iBGP', path({ address: '192.0.2.9' }, {}), path({ ibgp: true }, {}), 'ebgp-over-ibgp'],
  ['lower router id', path({ address: '192.0.2.9', routerId: '1.1.1.1' }), path({ routerId: '2.2.2.2' }), 'router-id'],
  ['router ids compare as numbers', path({ address: '192.0.2.9', routerId: '9.0.0.1' }), path({ routerId: '10.0.0.1' }), 'router-id'],
  ['ORIGINATOR_ID stands in for the router id', path({ address: '192.0.2.9', ibgp: true, routerId: '9.9.9.9' }, { originatorId: '1.1.1.1' }),
    path({ ibgp: true, routerId: '2.2.2.2' }), 'router-id'],
  ['shorter CLUSTER_LIST', path({ address: '192.0.2.9', ibgp: true }, { clusterList: ['5.5.5.5'] }),
    path({ ibgp: true }, { clusterList: ['5.5.5.5', '6.6.6.6'] }), 'cluster-list-length'],
  ['lower peer address', path({ address: '192.0.2.1' }), path({ address: '192.0.2.10', id: 'x' }), 'peer-address'],
];

describe('decision process (RFC 4271 §9.1.2.2, RFC 4456 §9): one tie-breaker each', () => {
  it.each(rows)('%s', (_name, a, b, reason) => {
    expect(comparePaths(a, b)).toMatchObject({ reason });
    expect(comparePaths(a, b).order).toBeLessThan(0);
    expect(comparePaths(b, a).order).toBeGreaterThan(0);
    expect(selectBest([b, a])).toMatchObject({ best: a, reason });
    expect(selectBest([a, b])?.best).toBe(a);
  });

  it('MED is not compared between different neighbour ASes', () => {
    const a = path({ address: '192.0.2.9' }, { med: 50, asPath: [seq(65002)] });
    const b = path({}, { med: 10, asPath: [seq(65003)] });
    expect(comparePaths(a, b).reason).not.toBe('med');
    expect(comparePaths(a, b).reason).toBe('peer-address');
  });

  it('MED filters within each neighbour AS before the later rules: the best does not depend on the candidate order', () => {
    // pairwise, A < B (router id), B < C (router id), C < A (MED, same AS): no total order. RFC 4271 §9.1.2.2 (c) drops
    // A (MED 10 > its AS's lowest, 0) from the whole set first; B then beats C on the router id
    const A = path({ address: '192.0.2.1', id: 'A', routerId: '1.1.1.1' }, { asPath: [seq(65001, 65100)], med: 10, nextHops: ['192.0.2.1'] });
    const B = path({ address: '192.0.2.2', id: 'B', routerId: '2.2.2.2' }, { asPath: [seq(65002, 65100)], nextHops: ['192.0.2.2'] });
    const C = path({ address: '192.0.2.3', id: 'C', routerId: '3.3.3.3' }, { asPath: [seq(65001, 65100)], med: 0, nextHops: ['192.0.2.3'] });
    const orders = [[A, B, C], [A, C, B], [B, A, C], [B, C, A], [C, A, B], [C, B, A]];
    for (const o of orders) {
      const sel = selectBest(o)!;
      expect(sel.best, o.map((p) => p.source.id).join('')).toBe(B);
      expect(sel.reason).toBe('router-id'); // the closest rival, C, lost on the router id
      // multipath: the equal-cost set is B and C; A lost on MED to C and is not in it
      const multi = selectBest(o, true)!.multipath!;
      expect(multi[0]).toBe(B);
      expect(new Set(multi)).toEqual(new Set([B, C]));
    }
  });

  it('a path dropped by MED counts as lost on MED when naming the rule that beat the closest rival', () => {
    // A and B share a router id (two sessions to one router): pairwise they would differ only on the peer address,
    // but A left the race at MED (against C, of its own AS); the closest rival is C, beaten on the router id
    const A = path({ address: '192.0.2.1', id: 'A', routerId: '2.2.2.2' }, { asPath: [seq(65001)], med: 10 });
    const B = path({ address: '192.0.2.2', id: 'B', routerId: '2.2.2.2' }, { asPath: [seq(65002)] });
    const C = path({ address: '192.0.2.3', id: 'C', routerId: '3.3.3.3' }, { asPath: [seq(65001)], med: 0 });
    for (const o of [[A, B, C], [C, B, A], [B, A, C]]) expect(selectBest(o)).toMatchObject({ best: B, reason: 'router-id' });
  });

  it('path length and neighbour AS helpers', () => {
    expect(pathLength([seq(1, 2), { type: 'AS_SET', asns: [3, 4] }, { type: 'AS_CONFED_SET', asns: [5] }])).toBe(3);
    expect(neighborAs([{ type: 'AS_CONFED_SEQUENCE', asns: [7] }, seq(9, 10)])).toBe(9);
    expect(neighborAs([])).toBe(0);
  });

  it('multipath: the equal-cost set stops before the router id', () => {
    const a = path({ address: '192.0.2.1', routerId: '1.1.1.1' }, { nextHops: ['192.0.2.1'] });
    const b = path({ address: '192.0.2.2', id: 'b', routerId: '2.2.2.2' }, { nextHops: ['192.0.2.2'] });
    const c = path({ address: '192.0.2.3', id: 'c', routerId: '3.3.3.3' }, { nextHops: ['192.0.2.3'], med: 5 });
    const sel = selectBest([c, b, a], true);
    expect(sel?.best).toBe(a);
    expect(sel?.multipath).toEqual([a, b]);
    expect(selectBest([c, b, a], false)?.multipath).toBeUndefined();
  });

  it('reports the rule that beat the closest rival', () => {
    const best = path({ address: '192.0.2.1' });
    const farRival = path({ address: '192.0.2.5', id: 'f' }, { localPref: 50 });
    const nearRival = path({ address: '192.0.2.7', id: 'n' });
    expect(selectBest([farRival, best, nearRival])?.reason).toBe('peer-address');
    expect(selectBest([best])?.reason).toBe('only-path');
  });
});

import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { partitionPools } from '../../../../agent/ipam/pool.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { IpPool } from '../../../../agent/ipam/types.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import { ObjectCache } from '../../../../agent/datastore/snapshot.js';
import { ipamPoolsOf } from '../../../../agent/node/desired.js';

// An IPPool added over one in use must not take its place: Calico refuses the new
// overlapping pool, the existing one keeps serving. The datastore lists pools by
// name, so a newcomer whose name sorts first must still lose.
const old: IpPool = { name: 'default-pool', spec: { cidr: '10.244.0.0/16', blockSize: 26 } };
const neu: IpPool = { name: 'a-new', spec: { cidr: '10.244.5.0/24', blockSize: 26 } };
const at = (p: IpPool, creationTimestamp: string): IpPool => ({ ...p, creationTimestamp });

describe('overlapping IPPools: the one there first keeps serving', () => {
  it('a newcomer sorting first by name is set aside, its error naming it and the pool in use', async () => {
    const store = new MemoryIpamStore();
    const a = new Ipam({ store, node: 'a', pools: [old] });
    await a.assign({ handle: 'h0' });
    const errors = a.setPools([neu, old]);
    expect(errors.map((e) => e.message)).toEqual([
      'IPPool a-new: spec.cidr: 10.244.5.0/24 overlaps IPPool default-pool (10.244.0.0/16), which was there first: a-new is set aside',
    ]);
    expect(a.poolErrors()).toEqual(errors);
    const [x] = await a.assign({ handle: 'h1' });
    expect(x!.pool).toBe('default-pool');
    expect(x!.address).toBe('10.244.0.1'); // the node's block in use keeps serving
    // and stays so on the next update with the same list
    expect(a.setPools([neu, old]).map((e) => e.message)).toEqual([expect.stringMatching(/^IPPool a-new: .*overlaps IPPool default-pool/)]);
  });

  it('the pure form: previous valid pools win over newcomers, whatever the list order', () => {
    const first = partitionPools([old]);
    const r = partitionPools([neu, old], first.valid);
    expect(r.valid.map((p) => p.name)).toEqual(['default-pool']);
    expect(r.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^IPPool a-new: spec\.cidr: .*IPPool default-pool \(10\.244\.0\.0\/16\)/)]);
    // a pool that served under another cidr is a newcomer for this one
    const moved = partitionPools([neu, { ...old, spec: { cidr: '10.244.0.0/20' } }], first.valid);
    expect(moved.valid.map((p) => p.name)).toEqual(['a-new']);
  });

  it('with creationTimestamps the older wins regardless of call history', () => {
    const o = at(old, '2025-01-01T00:00:00Z');
    const n = at(neu, '2026-11-21T18:00:00Z');
    for (const previous of [[], partitionPools([o]).valid, partitionPools([n]).valid]) {
      const r = partitionPools([n, o], previous);
      expect(r.valid.map((p) => p.name)).toEqual(['default-pool']);
      expect(r.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^IPPool a-new: .*overlaps IPPool default-pool/)]);
    }
    // the other way round: the /24 is older, so the /16 added over it is set aside
    const r = partitionPools([at(neu, '2025-01-01T00:00:00Z'), at(old, '2026-01-01T00:00:00Z')], partitionPools([old]).valid);
    expect(r.valid.map((p) => p.name)).toEqual(['a-new']);
    expect(r.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^IPPool default-pool: .*overlaps IPPool a-new/)]);
  });

  it('without history or timestamps the one listed first wins; valid and errors keep input order', () => {
    const c: IpPool = { name: 'c', spec: { cidr: '10.1.0.0/16' } };
    const bad: IpPool = { name: 'bad', spec: { cidr: '10.2.0.1/16' } };
    const r = partitionPools([bad, c, neu, old]);
    expect(r.valid.map((p) => p.name)).toEqual(['c', 'a-new']);
    expect(r.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^IPPool bad: spec\.cidr/),
      expect.stringMatching(/^IPPool default-pool: .*overlaps IPPool a-new/),
    ]);
  });
});

describe('IPPool objects → allocator pools', () => {
  it('carry metadata.creationTimestamp, so a restarted agent still keeps the older pool', () => {
    const c = new ObjectCache();
    const obj = (name: string, cidr: string, creationTimestamp: string): Resource =>
      ({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name, creationTimestamp } as Resource['metadata'], spec: { cidr } });
    c.set(obj('default-pool', '10.244.0.0/16', '2025-01-01T00:00:00Z'));
    c.set(obj('a-new', '10.244.5.0/24', '2026-11-21T18:00:00Z'));
    const pools = ipamPoolsOf(c.snapshot());
    expect(pools.map((p) => [p.name, p.creationTimestamp])).toEqual([['a-new', '2026-11-21T18:00:00Z'], ['default-pool', '2025-01-01T00:00:00Z']]);
    expect(partitionPools(pools).valid.map((p) => p.name)).toEqual(['default-pool']); // no history: a fresh agent
  });
});

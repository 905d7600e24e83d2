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

// The file datastore has no creationTimestamp; after an agent restart there is no
// previous setPools either. The pool that holds existing block records wins then, so
// the newer pool whose name sorts first does not take over and strand the old one's blocks.
describe('overlapping IPPools after a restart (no timestamps, no history)', () => {
  const blockOf = (cidr: string, pool: string) => ({ cidr, pool, affinity: 'host:a', allocations: [null], attributes: {} });

  it('the pure form: the pool the block records name wins over list order', () => {
    const r = partitionPools([neu, old], [], [blockOf('10.244.0.0/26', 'default-pool')]);
    expect(r.valid.map((p) => p.name)).toEqual(['default-pool']);
    expect(r.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^IPPool a-new: .*overlaps IPPool default-pool/)]);
    // a block the newcomer's name claims inside it: it holds blocks too, so list order decides again
    const both = partitionPools([neu, old], [], [blockOf('10.244.0.0/26', 'default-pool'), blockOf('10.244.5.0/26', 'a-new')]);
    expect(both.valid.map((p) => p.name)).toEqual(['a-new']);
    // a record naming the pool but outside its cidr (a pool re-created elsewhere) does not count
    expect(partitionPools([neu, old], [], [blockOf('10.9.0.0/26', 'default-pool')]).valid.map((p) => p.name)).toEqual(['a-new']);
    // served in the previous setPools still comes first
    expect(partitionPools([neu, old], partitionPools([neu]).valid, [blockOf('10.244.0.0/26', 'default-pool')]).valid.map((p) => p.name)).toEqual(['a-new']);
  });

  it('a restarted allocator keeps the old pool serving and its empty blocks', async () => {
    const store = new MemoryIpamStore();
    const before = new Ipam({ store, node: 'a', pools: [old] });
    await before.assign({ handle: 'h0' });
    await before.release('h0'); // the node's block is empty now
    expect(await store.keys('block')).toEqual(['10.244.0.0/26']);
    const after = new Ipam({ store, node: 'a', pools: [neu, old] }); // listed by name: the newcomer first
    expect(await after.releaseStrandedBlocks()).toEqual([]);
    expect(await store.keys('block')).toEqual(['10.244.0.0/26']);
    expect(after.resolvedPools().map((p) => p.name)).toEqual(['default-pool']);
    expect(after.poolErrors().map((e) => e.message)).toEqual([expect.stringMatching(/^IPPool a-new: .*overlaps IPPool default-pool/)]);
    const [x] = await after.assign({ handle: 'h1' });
    expect(x!.pool).toBe('default-pool');
    expect(x!.address).toBe('10.244.0.0');
  });

  it('a second setPools before the block records are read does not make the list-order winner the one that served', async () => {
    const store = new MemoryIpamStore();
    const before = new Ipam({ store, node: 'a', pools: [old] });
    await before.assign({ handle: 'h0' });
    await before.release('h0');
    const after = new Ipam({ store, node: 'a', pools: [neu, old] });
    after.setPools([neu, old]); // the agent's first snapshot, at once
    after.setPools([neu, old]);
    const [x] = await after.assign({ handle: 'h1' });
    expect(x!.pool).toBe('default-pool');
    expect(await store.keys('block')).toEqual(['10.244.0.0/26']);
    expect(after.setPools([neu, old]).map((e) => e.message)).toEqual([expect.stringMatching(/^IPPool a-new: .*overlaps IPPool default-pool/)]);
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

import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { blockCount, cidrOverlaps, formatCidr, nthBlock, parseCidr, stableIndex } from '../../../../agent/ipam/cidr.js';
import { MemoryIpamStore, type IpamStore } from '../../../../agent/ipam/store.js';
import type { IpPool } from '../../../../agent/ipam/types.js';
import { slowIpamStore } from '../../../support/slow-ipam-store.js';

const POOL = '10.0.0.0/16';
const pools: IpPool[] = [{ name: 'p', spec: { cidr: POOL, blockSize: 26 } }];

describe('block claims of many nodes at once', () => {
  it('50 nodes starting together: every first assign succeeds, with far fewer lists and conflicts than one winner per round', async () => {
    const N = 50;
    const { store, mem, counts } = slowIpamStore();
    const t0 = Date.now();
    const res = await Promise.allSettled(Array.from({ length: N }, (_, i) => new Ipam({ store, node: `node${i}`, pools }).assign({ handle: `h${i}`, families: [4] })));
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(res.filter((r) => r.status === 'rejected')).toEqual([]);
    const addrs = res.flatMap((r) => (r.status === 'fulfilled' ? r.value.map((a) => a.address) : []));
    expect(new Set(addrs).size).toBe(N);
    // one block per node, none overlapping another, all inside the pool
    const blocks = (await mem.list('block')).map((r) => r.value);
    expect(blocks).toHaveLength(N);
    expect(new Set(blocks.map((b) => b.affinity)).size).toBe(N);
    const cidrs = blocks.map((b) => parseCidr(b.cidr));
    for (const [i, a] of cidrs.entries()) for (const b of cidrs.slice(i + 1)) expect(cidrOverlaps(a, b)).toBe(false);
    // lowest-first for everyone was ~N²/5 of each (489 conflicts, 539 listings for 50 nodes)
    expect(counts.conflicts).toBeLessThan(2 * N);
    expect(counts.keys).toBeLessThan(2 * N);
  }, 30_000);

  it('an uncontended node claims the lowest free block', async () => {
    const store = new MemoryIpamStore();
    expect((await new Ipam({ store, node: 'node-x', pools }).assign({ handle: 'h', families: [4] }))[0]!.block).toBe('10.0.0.0/26');
    expect((await new Ipam({ store, node: 'node-y', pools }).assign({ handle: 'h2', families: [4] }))[0]!.block).toBe('10.0.0.64/26');
  });

  it('after a conflict a node goes on at the block its name hashes to (deterministic), without listing again', async () => {
    const mem = new MemoryIpamStore();
    let keys = 0;
    // another node creates the lowest block between this node's listing and its create
    const store: IpamStore = {
      get: (k, key) => mem.get(k, key),
      list: (k) => mem.list(k),
      keys: async (k) => {
        keys++;
        const seen = await mem.keys(k);
        if (keys === 1) await new Ipam({ store: mem, node: 'other', pools }).assign({ handle: 'o', families: [4] });
        return seen;
      },
      put: (k, key, v, ver) => mem.put(k, key, v, ver),
      delete: (k, key, ver) => mem.delete(k, key, ver),
    };
    const ipam = new Ipam({ store, node: 'node-x', pools });
    const [a] = await ipam.assign({ handle: 'h', families: [4] });
    const pool = parseCidr(POOL);
    const want = formatCidr(nthBlock(pool, 26, stableIndex('node-x', blockCount(pool, 26))));
    expect(want).not.toBe('10.0.0.0/26');
    expect(a!.block).toBe(want);
    expect(keys).toBe(1);
  });

  it('lists again after 3 conflicts from one listing, and then borrows when no block is left', async () => {
    const small: IpPool[] = [{ name: 'p', spec: { cidr: '10.0.0.0/24', blockSize: 26 } }];
    const mem = new MemoryIpamStore();
    for (let i = 0; i < 4; i++) await new Ipam({ store: mem, node: `n${i}`, pools: small }).assign({ handle: `o${i}`, families: [4] });
    let keys = 0;
    let conflicts = 0;
    const store: IpamStore = {
      get: (k, key) => mem.get(k, key),
      list: (k) => mem.list(k),
      // the first listing is stale: it shows none of the four blocks the others took
      keys: async (k) => (++keys === 1 ? [] : mem.keys(k)),
      put: async (k, key, v, ver) => { const r = await mem.put(k, key, v, ver); if (!r.ok) conflicts++; return r; },
      delete: (k, key, ver) => mem.delete(k, key, ver),
    };
    const [a] = await new Ipam({ store, node: 'late', pools: small }).assign({ handle: 'h', families: [4] });
    expect(conflicts).toBe(3);
    expect(keys).toBe(2);
    // borrowed: an address of another node's block, none of the four blocks touched twice
    expect(a!.block).toMatch(/^10\.0\.0\.(0|64|128|192)\/26$/);
    expect((await mem.list('block')).map((r) => r.value.affinity).sort()).toEqual(['host:n0', 'host:n1', 'host:n2', 'host:n3']);
  });
});

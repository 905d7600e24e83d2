import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { cidrCovers, parseAddr, parseCidr } from '../../../../agent/ipam/cidr.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { IpPool } from '../../../../agent/ipam/types.js';

// A pool edited, deleted, re-created or narrowed under running agents: a block is
// found to belong to a pool by address containment (never by the name it was written
// with), a claimed block never overlaps an existing one of any size, and empty blocks
// no pool serving this node covers any more are let go.
const pool = (name: string, cidr: string, blockSize: number, nodeSelector?: string): IpPool =>
  ({ name, spec: { cidr, blockSize, ...(nodeSelector !== undefined ? { nodeSelector } : {}) } });

function inside(cidr: string, address: string): boolean {
  const c = parseCidr(cidr);
  const a = parseAddr(address)!;
  return cidrCovers(c, { family: a.family, base: a.value, prefix: a.family === 4 ? 32 : 128 });
}

async function blockRows(store: MemoryIpamStore): Promise<[string, string | null, number][]> {
  return (await store.list('block')).map((r) => [r.value.cidr, r.value.affinity, r.value.allocations.filter((a) => a !== null).length]);
}

describe('Ipam: pools that change under it', () => {
  it('a pool whose blockSize changed: a new block never overlaps an existing one of another size (no address given twice)', async () => {
    const store = new MemoryIpamStore();
    const a = new Ipam({ store, node: 'A', pools: [pool('p', '10.0.0.0/24', 26)] });
    const [x] = await a.assign({ handle: 'h1', families: [4] });
    expect(x!.address).toBe('10.0.0.0');
    const b = new Ipam({ store, node: 'B', pools: [pool('p', '10.0.0.0/24', 28)] });
    const [y] = await b.assign({ handle: 'h2', families: [4] });
    expect(y!.address).not.toBe(x!.address);
    expect(inside('10.0.0.0/26', y!.address)).toBe(false);
    expect(y!.block).toBe('10.0.0.64/28');
    // every pair of blocks is disjoint
    const keys = (await store.keys('block')).map(parseCidr);
    for (const k of keys) for (const l of keys) if (k !== l) expect(cidrCovers(k, l)).toBe(false);
  });

  it('a smaller existing block inside a candidate makes the candidate taken too', async () => {
    const store = new MemoryIpamStore();
    const small = new Ipam({ store, node: 'A', pools: [pool('p', '10.0.0.0/24', 28)] });
    await small.assign({ handle: 'h1', families: [4] }); // 10.0.0.0/28
    const big = new Ipam({ store, node: 'B', pools: [pool('p', '10.0.0.0/24', 26)] });
    const [y] = await big.assign({ handle: 'h2', families: [4] });
    expect(y!.block).toBe('10.0.0.64/26');
  });

  it('a pool whose cidr moved: never an address outside every pool, from own blocks or borrowed ones', async () => {
    const store = new MemoryIpamStore();
    const a = new Ipam({ store, node: 'A', pools: [pool('p', '10.0.0.0/24', 26)] });
    await a.assign({ handle: 'h1', families: [4] });
    a.setPools([pool('p', '10.1.0.0/24', 26)]);
    const [x] = await a.assign({ handle: 'h3', families: [4] });
    expect(inside('10.1.0.0/24', x!.address)).toBe(true);
    // B's pool (same name) is one address, taken: it must not borrow from A's old block
    const b = new Ipam({ store, node: 'B', pools: [pool('p', '10.2.0.0/32', 32)] });
    expect((await b.assign({ handle: 'b1', families: [4] }))[0]!.address).toBe('10.2.0.0');
    await expect(b.assign({ handle: 'b2', families: [4] })).rejects.toMatchObject({ reason: 'exhausted' });
  });

  it('a pool re-created under a new name over the same CIDR reuses the empty blocks (own and borrowed)', async () => {
    const store = new MemoryIpamStore();
    const old = [pool('default-ipv4', '10.0.0.0/25', 26)];
    const a = new Ipam({ store, node: 'A', pools: old });
    const b = new Ipam({ store, node: 'B', pools: old });
    await a.assign({ handle: 'a1', families: [4] });
    await b.assign({ handle: 'b1', families: [4] });
    await a.release('a1');
    await b.release('b1');
    const neu = [pool('pods', '10.0.0.0/25', 26)];
    a.setPools(neu);
    b.setPools(neu);
    const [x] = await a.assign({ handle: 'a2', families: [4] });
    expect(x).toMatchObject({ address: '10.0.0.0', block: '10.0.0.0/26', pool: 'pods' });
    const c = new Ipam({ store, node: 'C', pools: neu });
    const [y] = await c.assign({ handle: 'c2', families: [4] });
    expect(inside('10.0.0.0/25', y!.address)).toBe(true);
    expect(y!.pool).toBe('pods');
    expect((await a.lookup('a2'))![0]!.pool).toBe('pods');
  });

  it('an emptied block of a pool that no longer exists is deleted, even the node\'s last one', async () => {
    const store = new MemoryIpamStore();
    const a = new Ipam({ store, node: 'A', pools: [pool('gone', '10.0.0.0/24', 26)] });
    await a.assign({ handle: 'h1', families: [4] });
    a.setPools([pool('other', '10.9.0.0/24', 26)]);
    expect(await a.release('h1')).toEqual(['10.0.0.0']);
    expect(await store.keys('block')).toEqual([]);
  });

  it('a nodeSelector that stops matching: the node lets go of its empty blocks; one still holding addresses stays', async () => {
    const store = new MemoryIpamStore();
    const p = (sel: string) => [pool('p', '10.0.0.0/25', 26, sel)];
    const a = new Ipam({ store, node: 'A', nodeLabels: { zone: 'a' }, pools: p('all()') });
    const b = new Ipam({ store, node: 'B', nodeLabels: { zone: 'a' }, pools: p('all()') });
    await a.assign({ handle: 'a1', families: [4] });
    await b.assign({ handle: 'b1', families: [4] });
    await a.release('a1'); // A's last block: kept warm while the pool selects A
    expect(await blockRows(store)).toEqual([['10.0.0.0/26', 'host:A', 0], ['10.0.0.64/26', 'host:B', 1]]);
    a.setPools(p("zone == 'b'"));
    b.setPools(p("zone == 'b'"));
    await a.release('nothing'); // any call of the instance runs after the check setPools queued
    await b.release('nothing');
    expect(await blockRows(store)).toEqual([['10.0.0.64/26', 'host:B', 1]]);
    const c = new Ipam({ store, node: 'C', nodeLabels: { zone: 'b' }, pools: p("zone == 'b'"), strictAffinity: true });
    expect((await c.assign({ handle: 'c1', families: [4] }))[0]!.address).toBe('10.0.0.0');
    // B's block empties now: not selected, so deleted rather than kept warm
    expect(await b.release('b1')).toEqual(['10.0.0.64']);
    expect(await blockRows(store)).toEqual([['10.0.0.0/26', 'host:C', 1]]);
  });

  it('releaseStrandedBlocks leaves blocks of pools that still select the node alone', async () => {
    const store = new MemoryIpamStore();
    const a = new Ipam({ store, node: 'A', pools: [pool('p', '10.0.0.0/25', 26)] });
    await a.assign({ handle: 'a1', families: [4] });
    await a.release('a1');
    expect(await a.releaseStrandedBlocks()).toEqual([]);
    expect(await blockRows(store)).toEqual([['10.0.0.0/26', 'host:A', 0]]);
  });

  it('holdStranded (an IPPool object rejected, so absent from the pools): an empty own block of a pool no longer present is kept until the hold is lifted', async () => {
    const store = new MemoryIpamStore();
    const old = pool('rejected-now', '10.0.0.0/25', 26);
    const other = pool('other', '10.9.0.0/24', 26);
    const before = new Ipam({ store, node: 'A', pools: [old, other] });
    await before.assign({ handle: 'a1', families: [4] });
    await before.release('a1'); // A's last block of the pool: kept warm
    const kept = await blockRows(store);
    expect(kept.filter(([c]) => c.startsWith('10.0.'))).toEqual([['10.0.0.0/26', 'host:A', 0]]);
    // restarted with the pool rejected: the first assign and an explicit check keep the block
    const a = new Ipam({ store, node: 'A', pools: [other], holdStranded: true });
    expect((await a.assign({ handle: 'a2', families: [4] }))[0]!.pool).toBe('other');
    expect(await a.releaseStrandedBlocks()).toEqual([]);
    a.setPools([other], { holdStranded: true });
    await a.release('nothing');
    expect((await blockRows(store)).map(([c]) => c)).toContain('10.0.0.0/26');
    // the hold lifted with the pool still absent (the object deleted): released then
    a.setPools([other]);
    await a.release('nothing'); // runs after the check setPools queued
    expect((await blockRows(store)).map(([c]) => c)).not.toContain('10.0.0.0/26');
  });

  it('without holdStranded a restarted allocator releases that empty block at its first assign (the pool is gone)', async () => {
    const store = new MemoryIpamStore();
    const other = pool('other', '10.9.0.0/24', 26);
    const before = new Ipam({ store, node: 'A', pools: [pool('gone', '10.0.0.0/25', 26), other] });
    await before.assign({ handle: 'a1', families: [4] });
    await before.release('a1');
    const a = new Ipam({ store, node: 'A', pools: [other] });
    await a.assign({ handle: 'a2', families: [4] });
    expect((await blockRows(store)).map(([c]) => c)).not.toContain('10.0.0.0/26');
  });

  it('a hold set while running keeps the blocks a pool change strands', async () => {
    const store = new MemoryIpamStore();
    const old = pool('p', '10.0.0.0/25', 26);
    const a = new Ipam({ store, node: 'A', pools: [old] });
    await a.assign({ handle: 'a1', families: [4] });
    await a.release('a1');
    a.setPools([], { holdStranded: true });
    await a.release('nothing');
    expect(await blockRows(store)).toEqual([['10.0.0.0/26', 'host:A', 0]]);
    a.setPools([old]); // the pool back (fixed): nothing stranded, nothing released
    await a.release('nothing');
    expect(await blockRows(store)).toEqual([['10.0.0.0/26', 'host:A', 0]]);
  });
});

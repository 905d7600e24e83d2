/**
 * A CNI ADD retried after a crash between the block write and the handle write: the
 * handle holds a slot in some block but has no handle record. The retry must return
 * that slot (and record it), whichever block it is in — a full own block tried after
 * one with room, or a block borrowed from another node — never a second address.
 * Likewise after a failed ADD whose rollback failed. A leftover slot in a pool that no
 * longer selects the node is not handed back.
 */
import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { IpamError } from '../../../../agent/ipam/errors.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { Block, HandleAttrs, IpPool } from '../../../../agent/ipam/types.js';

const pools: IpPool[] = [{ name: 'p', spec: { cidr: '10.0.0.0/29', blockSize: 30 } }];
const attrs: HandleAttrs = { node: 'n', containerId: 'c' };
const H = 'net.c.eth0';

async function put(store: MemoryIpamStore, b: Block): Promise<void> {
  expect((await store.put('block', b.cidr, b, undefined)).ok).toBe(true);
}
const holders = async (store: MemoryIpamStore): Promise<Record<string, (string | null)[]>> =>
  Object.fromEntries((await store.list('block')).map((r) => [r.value.cidr, r.value.allocations]));

describe('Ipam.assign retried after a crash between block and handle writes', () => {
  it('returns the slot the handle holds in a full own block, though another own block has room; DEL frees it', async () => {
    const store = new MemoryIpamStore();
    await put(store, { cidr: '10.0.0.0/30', pool: 'p', affinity: 'host:n', allocations: ['o1', null, null, null], attributes: { o1: attrs } });
    await put(store, { cidr: '10.0.0.4/30', pool: 'p', affinity: 'host:n', allocations: ['o2', 'o3', H, 'o4'], attributes: { [H]: attrs } });
    const ipam = new Ipam({ store, node: 'n', pools });
    const got = await ipam.assign({ handle: H, containerId: 'c' });
    expect(got.map((a) => [a.address, a.block])).toEqual([['10.0.0.6', '10.0.0.4/30']]);
    expect((await store.get('handle', H))?.value.addresses.map((a) => a.address)).toEqual(['10.0.0.6']);
    expect(await holders(store)).toEqual({ '10.0.0.0/30': ['o1', null, null, null], '10.0.0.4/30': ['o2', 'o3', H, 'o4'] });
    expect(await ipam.release(H)).toEqual(['10.0.0.6']);
    expect(await holders(store)).toEqual({ '10.0.0.0/30': ['o1', null, null, null], '10.0.0.4/30': ['o2', 'o3', null, 'o4'] });
    expect(await store.get('handle', H)).toBeUndefined();
  });

  it('returns the slot the handle holds in a block borrowed from another node; DEL frees it', async () => {
    const store = new MemoryIpamStore();
    await put(store, { cidr: '10.0.0.0/30', pool: 'p', affinity: 'host:n', allocations: ['o1', null, null, null], attributes: { o1: attrs } });
    await put(store, { cidr: '10.0.0.4/30', pool: 'p', affinity: 'host:other', allocations: ['x1', H, null, null], attributes: { [H]: attrs } });
    const ipam = new Ipam({ store, node: 'n', pools });
    expect((await ipam.assign({ handle: H, containerId: 'c' })).map((a) => a.address)).toEqual(['10.0.0.5']);
    expect(await ipam.release(H)).toEqual(['10.0.0.5']);
    expect(await holders(store)).toEqual({ '10.0.0.0/30': ['o1', null, null, null], '10.0.0.4/30': ['x1', null, null, null] });
  });

  it('a DEL without a handle record frees the slot in a borrowed block too', async () => {
    const store = new MemoryIpamStore();
    await put(store, { cidr: '10.0.0.4/30', pool: 'p', affinity: 'host:other', allocations: ['x1', H, null, null], attributes: { [H]: attrs } });
    expect(await new Ipam({ store, node: 'n', pools }).release(H)).toEqual(['10.0.0.5']);
    expect(await holders(store)).toEqual({ '10.0.0.4/30': ['x1', null, null, null] });
  });

  it('the look costs one list of blocks per instance, not one per ADD', async () => {
    const store = new MemoryIpamStore();
    let lists = 0;
    const list = store.list.bind(store);
    store.list = ((kind) => { lists++; return list(kind); }) as typeof store.list;
    const ipam = new Ipam({ store, node: 'n', pools });
    await ipam.assign({ handle: 'net.c0.eth0', containerId: 'c0' }); // claims 10.0.0.0/30
    const afterFirst = lists;
    for (let i = 1; i < 4; i++) await ipam.assign({ handle: `net.c${i}.eth0`, containerId: `c${i}` }); // fill it
    expect(lists).toBe(afterFirst);
  });

  it('a handle with no slot anywhere gets a fresh address (the look does not invent one)', async () => {
    const store = new MemoryIpamStore();
    await put(store, { cidr: '10.0.0.0/30', pool: 'p', affinity: 'host:n', allocations: ['o1', null, null, null], attributes: { o1: attrs } });
    const ipam = new Ipam({ store, node: 'n', pools });
    expect((await ipam.assign({ handle: H, containerId: 'c' })).map((a) => a.address)).toEqual(['10.0.0.1']);
  });
  it('the rollback of a failed ADD fails too: the retried ADD gets that slot back, not a second address', async () => {
    const store = new MemoryIpamStore();
    // own block full, the pool has no unclaimed block: the ADD borrows from another node's block
    await put(store, { cidr: '10.0.0.0/30', pool: 'p', affinity: 'host:n', allocations: ['o1', 'o2', 'o3', 'o4'], attributes: { o1: attrs } });
    await put(store, { cidr: '10.0.0.4/30', pool: 'p', affinity: 'host:other', allocations: ['x1', null, null, null], attributes: {} });
    const ipam = new Ipam({ store, node: 'n', pools, maxAttempts: 3 });
    const write = store.put.bind(store);
    let failing = true;
    store.put = (async (kind, key, value, version) => {
      // the handle write keeps conflicting (writes nothing); the rollback's block write fails
      if (failing && kind === 'handle') return { ok: false, reason: 'conflict' };
      if (failing && kind === 'block' && key === '10.0.0.4/30' && (value as Block).allocations[1] === null) throw new IpamError('store', 'PUT block: EIO');
      return write(kind, key, value, version);
    }) as typeof store.put;
    await expect(ipam.assign({ handle: H, containerId: 'c' })).rejects.toMatchObject({ reason: 'contention' });
    expect((await holders(store))['10.0.0.4/30']).toEqual(['x1', H, null, null]); // the rollback did not land
    failing = false;
    expect(await ipam.release('o1')).toEqual(['10.0.0.0']); // a pod goes: the own block has room again
    expect((await ipam.assign({ handle: H, containerId: 'c' })).map((a) => a.address)).toEqual(['10.0.0.5']);
    expect(await holders(store)).toEqual({ '10.0.0.0/30': [null, 'o2', 'o3', 'o4'], '10.0.0.4/30': ['x1', H, null, null] });
    expect((await store.get('handle', H))?.value.addresses.map((a) => a.address)).toEqual(['10.0.0.5']);
  });

  it('a leftover slot in a pool that no longer selects this node is not handed back: a fresh address from a selected pool', async () => {
    const store = new MemoryIpamStore();
    const two: IpPool[] = [
      { name: 'old', spec: { cidr: '10.0.0.0/29', blockSize: 30, nodeSelector: 'zone == "a"' } },
      { name: 'new', spec: { cidr: '10.1.0.0/29', blockSize: 30 } },
    ];
    await put(store, { cidr: '10.0.0.0/30', pool: 'old', affinity: 'host:n', allocations: ['o1', H, null, null], attributes: { o1: attrs, [H]: attrs } });
    const ipam = new Ipam({ store, node: 'n', nodeLabels: { zone: 'b' }, pools: two });
    const got = await ipam.assign({ handle: H, containerId: 'c' });
    expect(got.map((a) => [a.address, a.pool])).toEqual([['10.1.0.0', 'new']]);
    expect((await store.get('handle', H))?.value.addresses.map((a) => a.address)).toEqual(['10.1.0.0']);
  });

  it('a handle write that lands with its answer lost keeps its slots: the retry returns the same address and no other pod gets it', async () => {
    const store = new MemoryIpamStore();
    const realPut = store.put.bind(store);
    let lose = true;
    // the handle record is written, then the answer is lost (a 503 after the write, say)
    store.put = (async (kind, key, value, version) => {
      const r = await realPut(kind, key, value, version);
      if (kind === 'handle' && lose) { lose = false; throw new IpamError('unavailable', 'answer lost'); }
      return r;
    }) as MemoryIpamStore['put'];
    const ipam = new Ipam({ store, node: 'n', pools });
    await expect(ipam.assign({ handle: H, containerId: 'c' })).rejects.toThrow('answer lost');
    const other = await ipam.assign({ handle: 'net.d.eth0', containerId: 'd' });
    const retried = await ipam.assign({ handle: H, containerId: 'c' });
    expect(retried.map((a) => a.address)).toHaveLength(1);
    expect(other.map((a) => a.address)).not.toContain(retried[0]?.address);
    // the block holds the retried address for H
    const block = (await store.list('block')).find((r) => r.value.cidr === retried[0]?.block)?.value;
    expect(block?.allocations).toContain(H);
    expect(await ipam.release(H)).toEqual(retried.map((a) => a.address));
  });
});

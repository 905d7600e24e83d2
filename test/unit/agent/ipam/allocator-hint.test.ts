/**
 * What the allocator's hints (own blocks, slots of this node's handles) cost in
 * lists of every block: one list fills both; an ADD that fails having written
 * nothing (exhausted) keeps them, so kubelet's retries against a full pool do not
 * each list the whole cluster's blocks; an ADD whose write may have landed unseen
 * (a lost answer) reads them again, and its retry gets that slot back.
 */
import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { IpamError } from '../../../../agent/ipam/errors.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { IpPool } from '../../../../agent/ipam/types.js';

const pools: IpPool[] = [{ name: 'p', spec: { cidr: '10.0.0.0/30', blockSize: 30 } }];

/** A memory store counting lists of blocks. */
function counting(): { store: MemoryIpamStore; lists: () => number } {
  const store = new MemoryIpamStore();
  let n = 0;
  const list = store.list.bind(store);
  store.list = ((kind) => { if (kind === 'block') n++; return list(kind); }) as typeof store.list;
  return { store, lists: () => n };
}

async function fill(store: MemoryIpamStore, node: string): Promise<void> {
  const other = new Ipam({ store, node, pools });
  for (let i = 0; i < 4; i++) await other.assign({ handle: `net.f${i}.eth0`, containerId: `f${i}` });
}

describe('Ipam hints: lists of blocks', () => {
  it('the first ADD of an instance lists blocks once (own blocks and slots from one list)', async () => {
    const { store, lists } = counting();
    await fill(store, 'n');
    await new Ipam({ store, node: 'n', pools }).release('net.f3.eth0');
    const before = lists();
    const ipam = new Ipam({ store, node: 'n', pools });
    expect((await ipam.assign({ handle: 'net.c.eth0', containerId: 'c' })).map((a) => a.address)).toEqual(['10.0.0.3']);
    expect(lists() - before).toBe(1);
  });

  it('the first ADD on an empty store lists blocks once', async () => {
    const { store, lists } = counting();
    await new Ipam({ store, node: 'n', pools }).assign({ handle: 'net.c.eth0', containerId: 'c' });
    expect(lists()).toBe(1);
  });

  it('5 ADDs against a full pool with strictAffinity: one list in all, each exhausted', async () => {
    const { store, lists } = counting();
    await fill(store, 'other');
    const before = lists();
    const ipam = new Ipam({ store, node: 'n', pools, strictAffinity: true });
    for (let i = 0; i < 5; i++) {
      await expect(ipam.assign({ handle: `net.h${i}.eth0`, containerId: `h${i}` })).rejects.toMatchObject({ reason: 'exhausted' });
    }
    expect(lists() - before).toBe(1);
  });

  it('5 ADDs against a full pool, borrowing allowed: the hint list once, then one borrow look per ADD', async () => {
    const { store, lists } = counting();
    await fill(store, 'other');
    const before = lists();
    const ipam = new Ipam({ store, node: 'n', pools });
    for (let i = 0; i < 5; i++) {
      await expect(ipam.assign({ handle: `net.h${i}.eth0`, containerId: `h${i}` })).rejects.toMatchObject({ reason: 'exhausted' });
    }
    expect(lists() - before).toBe(1 + 5);
  });

  it('a block write whose answer is lost (it landed): the hint is read again and the retried ADD gets that slot back', async () => {
    const { store, lists } = counting();
    const ipam = new Ipam({ store, node: 'n', pools });
    await ipam.assign({ handle: 'net.a.eth0', containerId: 'a' }); // claims the block, reads the hints
    const put = store.put.bind(store);
    let lose = 1;
    store.put = (async (kind, key, value, version) => {
      const r = await put(kind, key, value, version);
      if (kind === 'block' && lose-- > 0) throw new IpamError('unavailable', 'PUT block: 503');
      return r;
    }) as typeof store.put;
    await expect(ipam.assign({ handle: 'net.b.eth0', containerId: 'b' })).rejects.toMatchObject({ reason: 'unavailable' });
    const before = lists();
    expect((await ipam.assign({ handle: 'net.b.eth0', containerId: 'b' })).map((a) => a.address)).toEqual(['10.0.0.1']);
    expect(lists() - before).toBe(1);
    expect((await store.get('block', '10.0.0.0/30'))?.value.allocations).toEqual(['net.a.eth0', 'net.b.eth0', null, null]);
  });
});

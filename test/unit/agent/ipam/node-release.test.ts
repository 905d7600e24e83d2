import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { releaseNodeAllocations } from '../../../../agent/ipam/node-release.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';

// A gone node's block that still holds another node's borrowed address is not
// deleted: it stays, without affinity, with the other node's slot and attributes.
describe('releaseNodeAllocations: a block lending an address to another node', () => {
  it('keeps the block with affinity null and the borrower\'s slot; frees only the gone node\'s', async () => {
    const store = new MemoryIpamStore();
    const pools = [{ name: 'p', spec: { cidr: '10.0.0.0/29', blockSize: 30 } }]; // two blocks of 4
    const b = new Ipam({ store, node: 'b', pools });
    const c = new Ipam({ store, node: 'c', pools });
    await b.assign({ handle: 'b1', families: [4] }); // b claims 10.0.0.0/30
    for (let i = 0; i < 4; i++) await c.assign({ handle: `c${i}`, families: [4] }); // c fills 10.0.0.4/30
    const [borrowed] = await c.assign({ handle: 'c-borrow', families: [4] }); // from b's block
    expect(borrowed!.block).toBe('10.0.0.0/30');

    const freed = await releaseNodeAllocations(store, 'b');
    expect(freed).toEqual([{ node: 'b', handle: 'b1', addresses: ['10.0.0.0'] }]);
    const blk = (await store.get('block', '10.0.0.0/30'))?.value;
    expect(blk).toBeDefined();
    expect(blk!.affinity).toBeNull();
    expect(blk!.allocations).toEqual([null, 'c-borrow', null, null]);
    expect(blk!.attributes['c-borrow']).toMatchObject({ node: 'c' });
    expect(blk!.attributes['b1']).toBeUndefined();
    expect((await store.keys('handle')).sort()).toEqual(['c-borrow', 'c0', 'c1', 'c2', 'c3']);
    expect(await c.lookup('c-borrow')).toMatchObject([{ address: '10.0.0.1' }]);
    // a second pass (another agent) finds nothing of b's left to free
    expect(await releaseNodeAllocations(store, 'b')).toEqual([]);
    expect((await store.get('block', '10.0.0.0/30'))?.value.allocations).toEqual([null, 'c-borrow', null, null]);
  });
});

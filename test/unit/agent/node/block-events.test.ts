/**
 * observeOwnBlocks: the agent hears of a block claim exactly when the allocator
 * creates a block record with this node's affinity, and of a release exactly when it
 * deletes one — not another node's, not a failed write, not a block kept warm — each
 * before the allocator's assign() / release() returns.
 */
import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { Block, IpPool } from '../../../../agent/ipam/types.js';
import { observeOwnBlocks } from '../../../../agent/node/block-events.js';

const pool: IpPool = { name: 'v4', spec: { cidr: '10.0.0.0/28', blockSize: 30 } }; // 4 blocks of 4
const block = (cidr: string, node: string | null): Block => ({ cidr, pool: 'v4', affinity: node ? `host:${node}` : null, allocations: [null, null, null, null], attributes: {} });

function setup() {
  const inner = new MemoryIpamStore();
  const released: string[] = [];
  const claimed: string[] = [];
  const store = observeOwnBlocks(inner, 'a', { claimed: (b) => claimed.push(b.cidr), released: (cidr) => released.push(cidr) });
  return { inner, store, released, claimed, ipam: new Ipam({ store, node: 'a', pools: [pool] }) };
}

describe('observeOwnBlocks', () => {
  it('tells of a claim inside assign(), before it returns; not of another node\'s block, an update, or a failed create', async () => {
    const { ipam, inner, store, claimed } = setup();
    let seenAtReturn: string[] = [];
    await ipam.assign({ handle: 'h0' }).then((a) => { seenAtReturn = [...claimed]; return a; });
    expect(seenAtReturn).toEqual(['10.0.0.0/30']);
    await ipam.assign({ handle: 'h1' }); // same block: an update, no claim
    expect(claimed).toEqual(['10.0.0.0/30']);
    await inner.put('block', '10.0.0.4/30', block('10.0.0.4/30', 'a'), undefined);
    expect((await store.put('block', '10.0.0.4/30', block('10.0.0.4/30', 'a'), undefined)).ok).toBe(false); // exists: a conflict
    expect((await store.put('block', '10.0.0.8/30', block('10.0.0.8/30', 'b'), undefined)).ok).toBe(true); // b's
    expect(claimed).toEqual(['10.0.0.0/30']);
  });

  it('tells of the release of an emptied block that is not the node\'s last in its pool, inside release()', async () => {
    const { ipam, released } = setup();
    for (let i = 0; i < 5; i++) await ipam.assign({ handle: `h${i}` }); // 10.0.0.0/30 full, 10.0.0.4/30 claimed
    let seenAtReturn: string[] = [];
    const r = ipam.release('h4').then((a) => { seenAtReturn = [...released]; return a; });
    expect(await r).toEqual(['10.0.0.4']);
    expect(seenAtReturn).toEqual(['10.0.0.4/30']);
    // the first block, emptied, is the node's last in the pool: kept warm, no release
    for (let i = 0; i < 4; i++) await ipam.release(`h${i}`);
    expect(released).toEqual(['10.0.0.4/30']);
  });

  it('says nothing of another node\'s blocks, of blocks without affinity, or of a delete that fails', async () => {
    const { inner, store, released } = setup();
    for (const [cidr, node] of [['10.0.0.0/30', 'b'], ['10.0.0.4/30', null], ['10.0.0.8/30', 'a']] as const) await inner.put('block', cidr, block(cidr, node), undefined);
    for (const cidr of ['10.0.0.0/30', '10.0.0.4/30']) {
      const rec = await store.get('block', cidr);
      expect(await store.delete('block', cidr, rec!.version)).toBe(true);
    }
    const mine = await store.get('block', '10.0.0.8/30');
    expect(await store.delete('block', '10.0.0.8/30', 'not-the-version')).toBe(false); // conflict
    await inner.put('block', '10.0.0.8/30', { ...block('10.0.0.8/30', 'a'), allocations: ['x', null, null, null] }, mine!.version); // changed behind it
    expect(await store.delete('block', '10.0.0.8/30', mine!.version)).toBe(false);
    expect(released).toEqual([]);
    // a handle record deleted is no block
    const h = await store.put('handle', 'h', { handle: 'h', addresses: [], attrs: { node: 'a' } }, undefined);
    expect(h.ok && await store.delete('handle', 'h', h.record.version)).toBe(true);
    expect(released).toEqual([]);
  });

  it('a block of this node read by list (or written by put) and then deleted is a release; the record re-read as another node\'s is not', async () => {
    const { inner, store, released } = setup();
    await inner.put('block', '10.0.0.0/30', block('10.0.0.0/30', 'a'), undefined);
    const [listed] = await store.list('block');
    expect(await store.delete('block', '10.0.0.0/30', listed!.version)).toBe(true);
    expect(released).toEqual(['10.0.0.0/30']);

    const put = await store.put('block', '10.0.0.4/30', block('10.0.0.4/30', 'a'), undefined);
    expect(put.ok).toBe(true);
    // handed over to b behind this wrapper's back, then read: b's now
    const cur = await inner.get('block', '10.0.0.4/30');
    await inner.put('block', '10.0.0.4/30', block('10.0.0.4/30', 'b'), cur!.version);
    const theirs = await store.get('block', '10.0.0.4/30');
    expect(await store.delete('block', '10.0.0.4/30', theirs!.version)).toBe(true);
    expect(released).toEqual(['10.0.0.0/30']);
  });

  it('keeps the store\'s change feed', () => {
    const { store } = setup();
    expect(store.watch).toBeUndefined();
    const withFeed = observeOwnBlocks(Object.assign(new MemoryIpamStore(), { watch: async () => ({ close: () => undefined }) }), 'a', { claimed: () => undefined, released: () => undefined });
    expect(typeof withFeed.watch).toBe('function');
  });
});

import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { confirmLeaks, findLeaks } from '../../../../agent/ipam/gc.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { IpPool } from '../../../../agent/ipam/types.js';

const v4: IpPool = { name: 'v4', spec: { cidr: '10.0.0.0/28', blockSize: 30 } }; // 4 blocks of 4
const v6: IpPool = { name: 'v6', spec: { cidr: 'fd00::/120', blockSize: 126 } };

function node(store: MemoryIpamStore, name: string, pools: IpPool[] = [v4], strictAffinity = false): Ipam {
  return new Ipam({ store, node: name, pools, strictAffinity });
}

async function blocks(store: MemoryIpamStore): Promise<Record<string, string | null>> {
  return Object.fromEntries((await store.list('block')).map((r) => [r.value.cidr, r.value.affinity]));
}

describe('Ipam', () => {
  it('claims a block, fills it, then claims the next', async () => {
    const store = new MemoryIpamStore();
    const a = node(store, 'a');
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await a.assign({ handle: `h${i}` }))[0]!.address);
    expect(got).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect(await blocks(store)).toEqual({ '10.0.0.0/30': 'host:a', '10.0.0.4/30': 'host:a' });
  });

  it('gives two nodes separate blocks', async () => {
    const store = new MemoryIpamStore();
    const [x] = await node(store, 'a').assign({ handle: 'ha' });
    const [y] = await node(store, 'b').assign({ handle: 'hb' });
    expect(x!.block).toBe('10.0.0.0/30');
    expect(y!.block).toBe('10.0.0.4/30');
  });

  it('is idempotent per handle: assign twice returns the same address, release twice is harmless', async () => {
    const store = new MemoryIpamStore();
    const a = node(store, 'a');
    const first = await a.assign({ handle: 'c1.eth0', pod: { namespace: 'ns', name: 'p' } });
    expect(await a.assign({ handle: 'c1.eth0' })).toEqual(first);
    expect(await a.lookup('c1.eth0')).toEqual(first);
    expect(await a.release('c1.eth0')).toEqual([first[0]!.address]);
    expect(await a.release('c1.eth0')).toEqual([]);
    expect(await a.lookup('c1.eth0')).toBeUndefined();
  });

  it('recovers the address of a handle whose record was never written (crash between writes)', async () => {
    const store = new MemoryIpamStore();
    const a = node(store, 'a');
    const [first] = await a.assign({ handle: 'h' });
    const rec = await store.get('handle', 'h');
    await store.delete('handle', 'h', rec!.version);
    const [again] = await node(store, 'a').assign({ handle: 'h' });
    expect(again!.address).toBe(first!.address);
    // release without a handle record still finds it in the node's blocks
    expect(await node(store, 'a').release('h')).toEqual([first!.address]);
  });

  it('assigns one IPv4 and one IPv6 address when both pools exist', async () => {
    const store = new MemoryIpamStore();
    const got = await node(store, 'a', [v4, v6]).assign({ handle: 'h' });
    expect(got.map((g) => [g.family, g.address, g.prefix])).toEqual([[4, '10.0.0.0', 32], [6, 'fd00::', 128]]);
    expect((await node(store, 'a', [v4, v6]).assign({ handle: 'h', families: [6] })).map((g) => g.address)).toEqual(['10.0.0.0', 'fd00::']);
  });

  it('borrows from another node\'s block when the pool is otherwise exhausted', async () => {
    const store = new MemoryIpamStore();
    const a = node(store, 'a');
    for (let i = 0; i < 15; i++) await a.assign({ handle: `a${i}` }); // 4 blocks, one free address left
    const [b] = await node(store, 'b').assign({ handle: 'b0' });
    expect(b!.address).toBe('10.0.0.15');
    expect(b!.block).toBe('10.0.0.12/30');
    await expect(node(store, 'b').assign({ handle: 'b1' })).rejects.toThrow(/IPv4 pools exhausted: no free address in v4 \(10.0.0.0\/28\)/);
  });

  it('refuses to borrow with strictAffinity', async () => {
    const store = new MemoryIpamStore();
    const a = node(store, 'a');
    for (let i = 0; i < 13; i++) await a.assign({ handle: `a${i}` });
    await expect(node(store, 'b', [v4], true).assign({ handle: 'b0' })).rejects.toThrow(/strictAffinity/);
  });

  it('rolls back the first family when the second is exhausted', async () => {
    const store = new MemoryIpamStore();
    const tiny6: IpPool = { name: 'v6', spec: { cidr: 'fd00::/128', blockSize: 128 } };
    const a = node(store, 'a', [v4, tiny6]);
    await a.assign({ handle: 'h1' });
    await expect(a.assign({ handle: 'h2' })).rejects.toMatchObject({ reason: 'exhausted' });
    const held = (await store.list('block')).flatMap((r) => r.value.allocations.filter((x) => x !== null));
    expect(held.sort()).toEqual(['h1', 'h1']);
  });

  it('fails with no-pool when no enabled pool selects the node', async () => {
    const store = new MemoryIpamStore();
    const pools: IpPool[] = [{ name: 'z', spec: { cidr: '10.0.0.0/24', nodeSelector: "zone == 'z'" } }, { name: 'd', spec: { cidr: '10.1.0.0/24', disabled: true } }];
    await expect(new Ipam({ store, node: 'a', pools, nodeLabels: { zone: 'y' } }).assign({ handle: 'h' })).rejects.toMatchObject({ reason: 'no-pool' });
    const [ok] = await new Ipam({ store, node: 'a', pools, nodeLabels: { zone: 'z' } }).assign({ handle: 'h' });
    expect(ok!.pool).toBe('z');
  });

  it('encap: only pools with that encapsulation on (a tunnel address); none selecting the node → no-pool naming it', async () => {
    const store = new MemoryIpamStore();
    const pools: IpPool[] = [
      { name: 'plain', spec: { cidr: '10.0.0.0/24' } }, { name: 'vx', spec: { cidr: '10.1.0.0/24', vxlanMode: 'Always' } },
      { name: 'ip', spec: { cidr: '10.2.0.0/24', ipipMode: 'CrossSubnet' } }, { name: 'ip-off', spec: { cidr: '10.3.0.0/24', ipipMode: 'Always', disabled: true } },
    ];
    const a = new Ipam({ store, node: 'a', pools });
    expect((await a.assign({ handle: 'ipip-tunnel-addr-a', families: [4], encap: 'ipip' })).map((x) => x.pool)).toEqual(['ip']);
    expect((await a.assign({ handle: 'vxlan-tunnel-addr-a', families: [4], encap: 'vxlan' })).map((x) => x.pool)).toEqual(['vx']);
    expect((await a.assign({ handle: 'h' })).map((x) => x.pool)).toEqual(['ip']); // no encap: any pool (here the first own block with room)
    const b = new Ipam({ store, node: 'b', pools: [pools[0]!, pools[1]!] });
    await expect(b.assign({ handle: 'ipip-tunnel-addr-b', families: [4], encap: 'ipip' })).rejects.toMatchObject({ reason: 'no-pool', message: expect.stringMatching(/IPv4 IPIP IPPool/) });
  });

  it('sets invalid or overlapping pools aside and keeps serving from the others', async () => {
    const store = new MemoryIpamStore();
    const a = new Ipam({ store, node: 'a', pools: [{ name: 'bad', spec: { cidr: '10.0.0.1/24' } }, v4, { name: 'clash', spec: { cidr: '10.0.0.0/24' } }] });
    expect(a.poolErrors().map((e) => e.message)).toEqual([
      expect.stringMatching(/^IPPool bad: spec\.cidr: .*host bits/),
      'IPPool clash: spec.cidr: 10.0.0.0/24 overlaps IPPool v4 (10.0.0.0/28), which was there first: clash is set aside',
    ]);
    expect((await a.assign({ handle: 'h' }))[0]!.pool).toBe('v4');
    expect(a.setPools([v4])).toEqual([]);
  });

  it('releases empty blocks but keeps the node\'s last one warm', async () => {
    const store = new MemoryIpamStore();
    const a = node(store, 'a');
    for (let i = 0; i < 6; i++) await a.assign({ handle: `h${i}` });
    expect(Object.keys(await blocks(store))).toHaveLength(2);
    for (let i = 4; i < 6; i++) await a.release(`h${i}`);
    expect(Object.keys(await blocks(store))).toEqual(['10.0.0.0/30']);
    for (let i = 0; i < 4; i++) await a.release(`h${i}`);
    expect(Object.keys(await blocks(store))).toEqual(['10.0.0.0/30']);
  });

  it('lets go of a node\'s blocks: empty deleted, used ones lose affinity and go when emptied', async () => {
    const store = new MemoryIpamStore();
    const a = node(store, 'a');
    for (let i = 0; i < 5; i++) await a.assign({ handle: `h${i}` });
    for (let i = 0; i < 4; i++) await a.release(`h${i}`);
    await a.releaseNodeBlocks();
    expect(await blocks(store)).toEqual({ '10.0.0.4/30': null });
    await node(store, 'b').release('h4');
    expect(await blocks(store)).toEqual({});
  });

  it('never hands out an address twice when agents race', async () => {
    const store = new MemoryIpamStore();
    const pool: IpPool = { name: 'p', spec: { cidr: '10.0.0.0/24', blockSize: 28 } };
    const agents = ['a', 'b', 'c', 'd'].map((n) => node(store, n, [pool]));
    const results = await Promise.all(agents.flatMap((ag, i) => Array.from({ length: 60 }, (_, j) => ag.assign({ handle: `${i}-${j}` }))));
    const addrs = results.map((r) => r[0]!.address);
    expect(new Set(addrs).size).toBe(240);
  });

  it('finds and releases leaked addresses of pods that are gone', async () => {
    const store = new MemoryIpamStore();
    const a = node(store, 'a');
    await a.assign({ handle: 'live', pod: { namespace: 'ns', name: 'live' } });
    const [gone] = await a.assign({ handle: 'gone', pod: { namespace: 'ns', name: 'gone' } });
    await a.assign({ handle: 'nopod' });
    const blocksNow = (await store.list('block')).map((r) => r.value);
    const leaks = findLeaks(blocksNow, [{ namespace: 'ns', name: 'live' }]);
    expect(leaks).toEqual([{ handle: 'gone', pod: { namespace: 'ns', name: 'gone' }, node: 'a', addresses: [gone!.address] }]);
    expect(confirmLeaks([], leaks)).toEqual([]);
    expect(await Promise.all(confirmLeaks(leaks, leaks).map((l) => a.release(l.handle)))).toEqual([[gone!.address]]);
    expect(findLeaks((await store.list('block')).map((r) => r.value), [{ namespace: 'ns', name: 'live' }])).toEqual([]);
    expect(await a.lookup('live')).toBeDefined();
    expect(await a.lookup('nopod')).toBeDefined();
  });
});

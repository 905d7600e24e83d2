import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../../agent/dataplane/plan/types.js';
import type { PoolSpec } from '../../../../agent/dataplane/plan/types.js';
import { planRoutes } from '../../../../agent/dataplane/plan/route-plan.js';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { Block } from '../../../../agent/ipam/types.js';
import type { NodeBgpInfo } from '../../../../agent/node-config/types.js';
import { borrowedAddresses, heldHere } from '../../../../agent/node/borrowed.js';
import { dataplaneInputOf, originatedPrefixes, ownBlocks } from '../../../../agent/node/desired.js';
import { ipamEncapRoutes } from '../../../../agent/node/ipam-routes.js';
import { IpamView } from '../../../../agent/node/ipam-view.js';

const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };
const nodes = [['a', '172.30.0.11'], ['b', '172.30.0.12'], ['c', '172.30.0.13']].map(([name, ip]) => ({ name, address: `${ip}/24` }) as NodeBgpInfo);
const pools: PoolSpec[] = [{ cidr: '10.0.0.0/29', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }];

/**
 * A tiny pool: two /30 blocks, b and c claim one each and fill them, then c's third
 * pod can only borrow from b's block — the allocator's default (no strictAffinity).
 */
async function borrowing(): Promise<{ blocks: Block[]; borrowed: string }> {
  const store = new MemoryIpamStore();
  const ipam = (node: string): Ipam => new Ipam({ store, node, pools: [{ name: 'p', spec: { cidr: '10.0.0.0/29', blockSize: 30 } }] });
  const b = ipam('b');
  const c = ipam('c');
  await b.assign({ handle: 'b1', families: [4] }); // b claims 10.0.0.0/30
  for (let i = 0; i < 4; i++) await c.assign({ handle: `c${i}`, families: [4] }); // c claims 10.0.0.4/30 and fills it
  const [got] = await c.assign({ handle: 'c-borrow', families: [4] });
  const blocks = (await store.list('block')).map((r) => r.value);
  return { blocks, borrowed: got?.address ?? '' };
}

describe('borrowed addresses (an address of another node\'s block given to this node\'s pod)', () => {
  it('the allocator borrows by default: c\'s pod gets an address in b\'s block', async () => {
    const { blocks, borrowed } = await borrowing();
    expect(borrowed).toBe('10.0.0.1');
    expect(ownBlocks(blocks, 'b').map((x) => x.cidr)).toEqual(['10.0.0.0/30']);
    expect(borrowedAddresses(blocks)).toEqual([{ prefix: '10.0.0.1/32', node: 'c', block: '10.0.0.0/30' }]);
    expect(heldHere(blocks, 'c')).toEqual(['10.0.0.1/32']);
    expect(heldHere(blocks, 'b')).toEqual([]);
  });

  it('the borrowing node originates a /32 for it (withdrawn when no longer held); the owner does not', async () => {
    const { blocks } = await borrowing();
    expect(originatedPrefixes(ownBlocks(blocks, 'c'), [], heldHere(blocks, 'c'))).toEqual(['10.0.0.4/30', '10.0.0.1/32']);
    expect(originatedPrefixes(ownBlocks(blocks, 'b'), [], heldHere(blocks, 'b'))).toEqual(['10.0.0.0/30']);
    const released = blocks.map((x) => (x.cidr === '10.0.0.0/30' ? { ...x, allocations: x.allocations.map((h) => (h === 'c-borrow' ? null : h)) } : x));
    expect(originatedPrefixes(ownBlocks(released, 'c'), [], heldHere(released, 'c'))).toEqual(['10.0.0.4/30']);
  });

  it('a third node routes the /32 to the borrower (more specific than the owner\'s block)', async () => {
    const { blocks } = await borrowing();
    const learned = new Map([['10.0.0.0/30', ['172.30.0.12']], ['10.0.0.4/30', ['172.30.0.13']], ['10.0.0.1/32', ['172.30.0.13']]]);
    const r = dataplaneInputOf({ node: 'a', nodes, pools, own: ownBlocks(blocks, 'a'), learned, config });
    const routes = planRoutes(r.input).routes.map((x) => `${x.dst} ${x.type === 'blackhole' ? 'blackhole' : `via ${x.nexthops.map((h) => h.gateway ?? '').join(',')}`}`);
    expect(routes).toEqual(expect.arrayContaining(['10.0.0.0/30 via 172.30.0.12', '10.0.0.1/32 via 172.30.0.13']));
  });

  it('the owner accepts the borrower\'s /32 (next hop the borrower, IPAM says it holds it) over its blackhole', async () => {
    const { blocks } = await borrowing();
    const learned = new Map([['10.0.0.4/30', ['172.30.0.13']], ['10.0.0.1/32', ['172.30.0.13']]]);
    const r = dataplaneInputOf({ node: 'b', nodes, pools, own: ownBlocks(blocks, 'b'), learned, config });
    expect(r.shadowed).toEqual([]);
    expect(r.input.blocks).toEqual([{ cidr: '10.0.0.0/30', node: 'b' }, { cidr: '10.0.0.1/32', node: 'c' }, { cidr: '10.0.0.4/30', node: 'c' }]);
    const routes = planRoutes(r.input).routes.map((x) => `${x.dst} ${x.type === 'blackhole' ? 'blackhole' : `via ${x.nexthops.map((h) => h.gateway ?? '').join(',')}`}`);
    expect(routes).toEqual(expect.arrayContaining(['10.0.0.0/30 blackhole', '10.0.0.1/32 via 172.30.0.13']));
  });

  it('the owner keeps shadowing what IPAM does not back: a router\'s next hop, another node than the holder, a free or own address, a prefix wider than a host', async () => {
    const { blocks } = await borrowing();
    const own = ownBlocks(blocks, 'b');
    const shadowedFor = (prefix: string, hops: string[]): number =>
      dataplaneInputOf({ node: 'b', nodes, pools, own, learned: new Map([[prefix, hops]]), config }).shadowed.length;
    expect(shadowedFor('10.0.0.1/32', ['172.30.0.1'])).toBe(1); // the ToR's copy (next hop self)
    expect(shadowedFor('10.0.0.1/32', ['172.30.0.13', '172.30.0.1'])).toBe(1); // a router among the next hops
    expect(shadowedFor('10.0.0.1/32', ['172.30.0.11'])).toBe(1); // node a does not hold it
    expect(shadowedFor('10.0.0.0/32', ['172.30.0.13'])).toBe(1); // b's own pod (b1)
    expect(shadowedFor('10.0.0.2/32', ['172.30.0.13'])).toBe(1); // free
    expect(shadowedFor('10.0.0.0/31', ['172.30.0.13'])).toBe(1); // not a host route
  });

  it('IPv6: a /128 for an address lent from an own block, however the prefix is written', () => {
    const v6nodes = [{ name: 'b', address6: 'fd30::12/64' }, { name: 'c', address6: 'fd30::13/64' }] as NodeBgpInfo[];
    const own: Block[] = [{ cidr: 'fd44::/126', pool: 'p6', affinity: 'host:b', allocations: ['hb', null, 'hc', null], attributes: { hb: { node: 'b' }, hc: { node: 'c' } } }];
    expect(borrowedAddresses(own)).toEqual([{ prefix: 'fd44::2/128', node: 'c', block: 'fd44::/126' }]);
    const r = dataplaneInputOf({ node: 'b', nodes: v6nodes, pools: [], own, learned: new Map([['fd44:0:0::2/128', ['fd30::13']], ['fd44::/128', ['fd30::13']]]), config });
    expect(r.input.blocks).toContainEqual({ cidr: 'fd44:0:0::2/128', node: 'c' });
    expect(r.shadowed.map((x) => x.prefix)).toEqual(['fd44::/128']); // b's own pod
  });

  it('BGP off: the tunnelled routes from IPAM carry the borrowed /32 to its holder, on every node but the holder', async () => {
    const { blocks } = await borrowing();
    const vx: PoolSpec[] = [{ ...pools[0] as PoolSpec, vxlanMode: 'Always' }];
    expect(ipamEncapRoutes({ node: 'a', blocks, pools: vx, nodes }).get('10.0.0.1/32')).toEqual(['172.30.0.13']);
    expect(ipamEncapRoutes({ node: 'b', blocks, pools: vx, nodes }).get('10.0.0.1/32')).toEqual(['172.30.0.13']);
    expect(ipamEncapRoutes({ node: 'c', blocks, pools: vx, nodes }).has('10.0.0.1/32')).toBe(false);
    expect(ipamEncapRoutes({ node: 'a', blocks, pools, nodes }).has('10.0.0.1/32')).toBe(false); // Never: the external speaker's
    const onB = dataplaneInputOf({ node: 'b', nodes, pools: vx, own: ownBlocks(blocks, 'b'), learned: ipamEncapRoutes({ node: 'b', blocks, pools: vx, nodes }), config });
    expect(onB.shadowed).toEqual([]);
    expect(onB.input.blocks).toContainEqual({ cidr: '10.0.0.1/32', node: 'c' });
  });

  it('the IPAM view says the routing inputs moved when an address is borrowed here or lent from an own block', async () => {
    const { blocks } = await borrowing();
    const before = blocks.map((x) => ({ ...x, allocations: x.allocations.map((h) => (h === 'c-borrow' ? null : h)) }));
    const rec = (bs: Block[]) => [{ kind: 'block' as const, records: bs.map((value, i) => ({ value, version: `${i}-${JSON.stringify(value.allocations)}` })) }];
    for (const node of ['b', 'c']) {
      const v = new IpamView(node);
      v.apply(rec(before));
      expect(v.apply(rec(blocks)).own).toBe(true);
      expect(v.borrowedHere()).toEqual(node === 'c' ? ['10.0.0.1/32'] : []);
    }
    const a = new IpamView('a');
    a.apply(rec(before));
    expect(a.apply(rec(blocks)).own).toBe(false); // a third node's routes come from BGP
  });

  it('the IPAM view reads the borrowed addresses once per change: borrowedHere() is the list ownMoved computed (BGP calls it inside the CNI ADD)', async () => {
    const { blocks } = await borrowing();
    const rec = (bs: Block[]) => [{ kind: 'block' as const, records: bs.map((value, i) => ({ value, version: `${i}-${JSON.stringify(value.allocations)}` })) }];
    const v = new IpamView('c');
    v.apply(rec(blocks));
    const held = v.borrowedHere();
    expect(held).toEqual(['10.0.0.1/32']);
    expect(v.borrowedHere()).toBe(held); // not scanned again
    // a change: recomputed
    v.apply(rec(blocks.map((x) => ({ ...x, allocations: x.allocations.map((h) => (h === 'c-borrow' ? null : h)) }))));
    expect(v.borrowedHere()).toEqual([]);
    // blocks set directly (tests, a caller) are never answered from a stale cache
    v.blocks = blocks;
    expect(v.borrowedHere()).toEqual(['10.0.0.1/32']);
  });
});

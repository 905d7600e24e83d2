import { describe, expect, it } from 'vitest';
import type { AddrMsg } from '../../../../agent/dataplane/netlink/addr.js';
import { RT_SCOPE_UNIVERSE } from '../../../../agent/dataplane/netlink/constants.js';
import type { LinkMsg } from '../../../../agent/dataplane/netlink/link.js';
import type { PoolSpec } from '../../../../agent/dataplane/plan/types.js';
import type { Block } from '../../../../agent/ipam/types.js';
import type { NodeBgpInfo } from '../../../../agent/node-config/types.js';
import { changedPrefixes, ipamEncapRoutes } from '../../../../agent/node/ipam-routes.js';

const block = (cidr: string, owner: string | null): Block => ({ cidr, pool: 'p', affinity: owner ? `host:${owner}` : null, allocations: [null], attributes: {} });
const nodeInfo = (name: string, address?: string, address6?: string): NodeBgpInfo => ({ name, labels: {}, asn: 64512, ...(address ? { address } : {}), ...(address6 ? { address6 } : {}) });
const pool = (cidr: string, vxlanMode: PoolSpec['vxlanMode'], ipipMode: PoolSpec['ipipMode'] = 'Never'): PoolSpec => ({ cidr, vxlanMode, ipipMode, natOutgoing: false });
// n1, n2 on one subnet; n3 on another
const nodes = [nodeInfo('n1', '172.30.0.11/24', 'fd30::11/64'), nodeInfo('n2', '172.30.0.12/24', 'fd30::12/64'), nodeInfo('n3', '172.31.0.13/24', 'fd31::13/64')];

describe('routes from IPAM alone (agent with BGP off)', () => {
  it('Always: every other node\'s block, via the owner\'s address; own and unowned blocks never', () => {
    const r = ipamEncapRoutes({ node: 'n1', nodes, pools: [pool('10.244.0.0/16', 'Always')], blocks: [
      block('10.244.3.0/26', 'n3'), block('10.244.1.0/26', 'n1'), block('10.244.2.0/26', 'n2'), block('10.244.4.0/26', null), block('10.244.5.0/26', 'gone'),
    ] });
    expect([...r]).toEqual([['10.244.2.0/26', ['172.30.0.12']], ['10.244.3.0/26', ['172.31.0.13']]]);
  });

  it('CrossSubnet: only nodes on another subnet (same-subnet blocks are the external speaker\'s)', () => {
    const r = ipamEncapRoutes({ node: 'n1', nodes, pools: [pool('10.244.0.0/16', 'CrossSubnet')], blocks: [block('10.244.2.0/26', 'n2'), block('10.244.3.0/26', 'n3')] });
    expect([...r.keys()]).toEqual(['10.244.3.0/26']);
  });

  it('Never (and blocks outside every pool): nothing — the external speaker carries them', () => {
    const r = ipamEncapRoutes({ node: 'n1', nodes, pools: [pool('10.244.0.0/16', 'Never')], blocks: [block('10.244.2.0/26', 'n2'), block('10.9.0.0/26', 'n3')] });
    expect(r.size).toBe(0);
  });

  it('IPIP Always counts for IPv4 blocks; IPv6 blocks of a VXLAN pool go via the owner\'s IPv6 address', () => {
    const r = ipamEncapRoutes({ node: 'n1', nodes, pools: [pool('10.244.0.0/16', 'Never', 'Always'), pool('fd44::/48', 'Always')], blocks: [
      block('10.244.2.0/26', 'n2'), block('fd44::40/122', 'n3'),
    ] });
    expect([...r]).toEqual([['10.244.2.0/26', ['172.30.0.12']], ['fd44::40/122', ['fd31::13']]]);
  });

  it('a node unknown to the datastore programs nothing', () => {
    expect(ipamEncapRoutes({ node: 'nx', nodes, pools: [pool('10.244.0.0/16', 'Always')], blocks: [block('10.244.2.0/26', 'n2')] }).size).toBe(0);
  });

  it('changedPrefixes: added, changed and gone', () => {
    const a = new Map([['x', ['1']], ['y', ['2']], ['z', ['3']]]);
    const b = new Map([['x', ['1']], ['y', ['9']], ['w', ['4']]]);
    expect(changedPrefixes(a, b).sort()).toEqual(['w', 'y', 'z']);
    expect(changedPrefixes(a, a)).toEqual([]);
  });
});

describe('routes from IPAM alone: node addresses in non-canonical text', () => {
  it('the next hop is the owner\'s address in canonical form, the form dataplaneInputOf maps back to the node', () => {
    const odd = [nodeInfo('n1', '172.30.0.11/24', 'fd30::11/64'), nodeInfo('n3', '172.31.0.13/24', 'FD31:0:0::13/64')];
    const r = ipamEncapRoutes({ node: 'n1', nodes: odd, pools: [pool('fd44::/48', 'Always')], blocks: [block('fd44::40/122', 'n3')] });
    expect([...r]).toEqual([['fd44::40/122', ['fd31::13']]]);
  });
});

describe('routes from IPAM alone: "same subnet" as the dataplane planner judges it', () => {
  // a and b share the IPv4 subnet but not the IPv6 one; c shares the IPv6 subnet but not the IPv4 one
  const dual = [nodeInfo('a', '10.0.1.2/24', 'fd00:1::2/64'), nodeInfo('b', '10.0.1.3/24', 'fd00:9::3/64'), nodeInfo('c', '10.0.2.3/24', 'fd00:1::3/64')];

  it('an IPv6 CrossSubnet block is judged on the IPv6 subnet: b\'s (another IPv6 subnet) tunnelled, c\'s (same IPv6 subnet) left to the external speaker', () => {
    const r = ipamEncapRoutes({ node: 'a', nodes: dual, pools: [pool('fd10::/48', 'CrossSubnet')], blocks: [block('fd10::1:0/122', 'b'), block('fd10::2:0/122', 'c')] });
    expect([...r]).toEqual([['fd10::1:0/122', ['fd00:9::3']]]);
  });

  it('IPv4 blocks of the same nodes stay judged on the IPv4 subnet', () => {
    const r = ipamEncapRoutes({ node: 'a', nodes: dual, pools: [pool('192.168.0.0/16', 'CrossSubnet')], blocks: [block('192.168.1.0/26', 'b'), block('192.168.2.0/26', 'c')] });
    expect([...r]).toEqual([['192.168.2.0/26', ['10.0.2.3']]]);
  });

  // a bare InternalIP: readNodes gives /32; the kernel holds the address as /24 (and fd00:1::2/64)
  const bare = [nodeInfo('a', '10.0.1.2/32', 'fd00:1::2/128'), nodeInfo('b', '10.0.1.3/32', 'fd00:1::3/128'), nodeInfo('c', '10.0.2.3/32', 'fd00:2::3/128')];
  const links: LinkMsg[] = [{ index: 1, name: 'lo', flags: 0 }, { index: 2, name: 'eth0', flags: 0, mtu: 1500 }];
  const addr = (family: 4 | 6, ifindex: number, address: string): AddrMsg => ({ family, ifindex, address, scope: RT_SCOPE_UNIVERSE, flags: 0 });
  const kernel = {
    links: () => links,
    addrs: (family?: 4 | 6) => [addr(4, 1, '127.0.0.1/8'), addr(4, 2, '10.0.1.2/24'), addr(6, 2, 'fd00:1::2/64')].filter((x) => family === undefined || x.family === family),
  };

  it('the local address completed with the kernel\'s prefix, as the planner gets it: a same-subnet CrossSubnet block is not tunnelled', () => {
    const pools = [pool('192.168.0.0/16', 'CrossSubnet'), pool('fd10::/48', 'CrossSubnet')];
    const blocks = [block('192.168.1.0/26', 'b'), block('192.168.2.0/26', 'c'), block('fd10::1:0/122', 'b'), block('fd10::2:0/122', 'c')];
    const r = ipamEncapRoutes({ node: 'a', nodes: bare, pools, blocks, kernel });
    expect([...r]).toEqual([['192.168.2.0/26', ['10.0.2.3']], ['fd10::2:0/122', ['fd00:2::3']]]);
    // the caller's nodes are not changed
    expect(bare[0]?.address).toBe('10.0.1.2/32');
    // no device holds the address (or no kernel given): the address as the datastore gives it
    expect([...ipamEncapRoutes({ node: 'a', nodes: bare, pools, blocks, kernel: { links: () => links, addrs: () => [] } }).keys()])
      .toEqual(['192.168.1.0/26', '192.168.2.0/26', 'fd10::1:0/122', 'fd10::2:0/122']);
  });

  it('Always and Never need no subnet: the kernel is not asked', () => {
    const asked: unknown[] = [];
    const spy = { links: () => { asked.push('links'); return links; }, addrs: (f?: 4 | 6) => { asked.push(f); return kernel.addrs(f); } };
    const r = ipamEncapRoutes({ node: 'a', nodes: bare, pools: [pool('192.168.0.0/16', 'Always'), pool('fd10::/48', 'Never')], blocks: [block('192.168.1.0/26', 'b'), block('fd10::1:0/122', 'b')], kernel: spy });
    expect([...r]).toEqual([['192.168.1.0/26', ['10.0.1.3']]]);
    expect(asked).toEqual([]);
  });
});

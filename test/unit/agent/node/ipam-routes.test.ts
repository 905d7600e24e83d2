import { describe, expect, it } from 'vitest';
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

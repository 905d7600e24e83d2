/**
 * The Tunnels rows of `margay status` (status-view.ts tunnelRows): one per tunnel
 * device the last dataplane plan has, with the real device names from the plan (the
 * dataplane config), the IPv4 tunnel address the agent assigned (bare, as Calico's
 * ipv4VXLANTunnelAddr / ipv4IPIPTunnelAddr), and the VTEP link-local that IPv6 blocks
 * ride when an IPv6 pool uses VXLAN. Rows come from planDataplane itself, so a change
 * of the planner's device names or addresses shows here.
 */
import { describe, expect, it } from 'vitest';
import { tunnelRows } from '../../../../agent/node/status-view.js';
import { planDataplane } from '../../../../agent/dataplane/plan/route-plan.js';
import { vtepLinkLocal, vtepMac } from '../../../../agent/dataplane/plan/vtep.js';
import { DEFAULT_CONFIG, type DataplaneInput, type EncapMode, type NodeSpec, type PoolSpec } from '../../../../agent/dataplane/plan/types.js';

const pool = (cidr: string, vxlanMode: EncapMode, ipipMode: EncapMode = 'Never'): PoolSpec => ({ cidr, vxlanMode, ipipMode, natOutgoing: false });
const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };

function input(pools: PoolSpec[], local: Partial<NodeSpec> = {}, cfg: Partial<typeof config> = {}): DataplaneInput {
  return {
    localNode: 'n1',
    nodes: [
      { name: 'n1', address: '172.30.0.11/24', address6: 'fd30::11/64', ...local },
      { name: 'n2', address: '172.30.0.12/24', address6: 'fd30::12/64', vxlanTunnelAddress: '10.244.1.0' },
    ],
    blocks: [], pools, config: { ...config, ...cfg },
  };
}

describe('status tunnelRows', () => {
  it('no pool encapsulates: no rows', () => {
    expect(tunnelRows(planDataplane(input([pool('10.244.0.0/16', 'Never')])), [pool('10.244.0.0/16', 'Never')])).toEqual([]);
  });

  it('no plan yet (no dataplane pass): no rows', () => {
    expect(tunnelRows(undefined, [pool('10.244.0.0/16', 'Always')])).toEqual([]);
  });

  it('VXLAN: the device from the config and the assigned address without its length', () => {
    const pools = [pool('10.244.0.0/16', 'CrossSubnet')];
    expect(tunnelRows(planDataplane(input(pools, { vxlanTunnelAddress: '10.244.0.0' })), pools))
      .toEqual([{ type: 'vxlan', device: 'vxlan.margay', address: '10.244.0.0', mac: vtepMac('n1') }]);
  });

  it('the device names are the configured ones', () => {
    const pools = [pool('10.244.0.0/16', 'Always')];
    const rows = tunnelRows(planDataplane(input(pools, { vxlanTunnelAddress: '10.244.0.0' }, { vxlanDevice: 'vx-test' })), pools);
    expect(rows.map((r) => r.device)).toEqual(['vx-test']);
  });

  it('VXLAN wanted but no address assigned yet: the row without an address', () => {
    const pools = [pool('10.244.0.0/16', 'Always')];
    const rows = tunnelRows(planDataplane(input(pools)), pools);
    expect(rows).toEqual([{ type: 'vxlan', device: 'vxlan.margay', mac: vtepMac('n1') }]);
  });

  it('an IPv6 pool on VXLAN: the IPv4-underlay device also carries the VTEP link-local', () => {
    const pools = [pool('10.244.0.0/16', 'Always'), pool('fd44::/48', 'Always')];
    const rows = tunnelRows(planDataplane(input(pools, { vxlanTunnelAddress: '10.244.0.0' })), pools);
    expect(rows).toEqual([{ type: 'vxlan', device: 'vxlan.margay', address: '10.244.0.0', address6: vtepLinkLocal(vtepMac('n1')), mac: vtepMac('n1') }]);
  });

  it('an IPv6-only node: the IPv6-underlay device with its link-local and no IPv4 address', () => {
    const pools = [pool('fd44::/48', 'Always')];
    const plan = planDataplane({
      localNode: 'n1',
      nodes: [{ name: 'n1', address6: 'fd30::11/64' }, { name: 'n2', address6: 'fd30::12/64' }],
      blocks: [], pools, config,
    });
    expect(tunnelRows(plan, pools)).toEqual([{ type: 'vxlan-v6', device: 'vxlan-v6.margay', address6: vtepLinkLocal(vtepMac('n1')), mac: vtepMac('n1') }]);
  });

  it('IPIP: tunl0 and its address; a VXLAN pool beside it gives both rows, VXLAN first', () => {
    const ipipOnly = [pool('10.244.0.0/16', 'Never', 'Always')];
    expect(tunnelRows(planDataplane(input(ipipOnly, { ipipTunnelAddress: '10.244.0.1' })), ipipOnly))
      .toEqual([{ type: 'ipip', device: 'tunl0', address: '10.244.0.1' }]);
    const both = [pool('10.244.0.0/16', 'Always'), pool('10.245.0.0/16', 'Never', 'CrossSubnet')];
    const rows = tunnelRows(planDataplane(input(both, { vxlanTunnelAddress: '10.244.0.0', ipipTunnelAddress: '10.245.0.0' })), both);
    expect(rows.map((r) => [r.type, r.device, r.address])).toEqual([['vxlan', 'vxlan.margay', '10.244.0.0'], ['ipip', 'tunl0', '10.245.0.0']]);
  });
});

import { describe, expect, it } from 'vitest';
import { natTunnelDevices, planNatOutgoing, renderNatRestore } from '../../../../../agent/dataplane/plan/nat-plan.js';
import { planDataplane } from '../../../../../agent/dataplane/plan/route-plan.js';
import { DEFAULT_CONFIG, type PoolSpec, type VxlanPlan } from '../../../../../agent/dataplane/plan/types.js';

const pool = (cidr: string, natOutgoing: boolean, disabled = false): PoolSpec => ({ cidr, natOutgoing, disabled, ipipMode: 'Never', vxlanMode: 'Never' });

describe('natOutgoing rules', () => {
  it('returns for every pool, then masquerades the natOutgoing pools only', () => {
    const n = planNatOutgoing([pool('10.244.0.0/16', true), pool('10.96.0.0/12', false), pool('fd44::/48', true)], 4);
    expect(renderNatRestore(n)).toBe([
      '*nat',
      ':MARGAY-NAT-OUTGOING - [0:0]',
      '-A MARGAY-NAT-OUTGOING -d 10.244.0.0/16 -j RETURN',
      '-A MARGAY-NAT-OUTGOING -d 10.96.0.0/12 -j RETURN',
      '-A MARGAY-NAT-OUTGOING -s 10.244.0.0/16 -j MASQUERADE',
      'COMMIT',
      '',
    ].join('\n'));
    expect(planNatOutgoing([pool('fd44::/48', true)], 6).rules).toEqual([['-d', 'fd44::/48', '-j', 'RETURN'], ['-s', 'fd44::/48', '-j', 'MASQUERADE']]);
  });
  it('has no rules (chain and jump removed) when no pool of the family wants NAT', () => {
    expect(planNatOutgoing([pool('10.244.0.0/16', false)], 4).rules).toEqual([]);
    expect(planNatOutgoing([pool('10.244.0.0/16', false, true)], 4).rules).toEqual([]);
    expect(planNatOutgoing([pool('10.244.0.0/16', true)], 6).rules).toEqual([]);
  });
  it('still masquerades a disabled natOutgoing pool (its pods keep running, as in Calico\'s felix), next to the pool that replaces it', () => {
    const n = planNatOutgoing([pool('10.244.0.0/16', true, true), pool('172.16.0.0/16', true)], 4);
    expect(n.rules).toEqual([
      ['-d', '10.244.0.0/16', '-j', 'RETURN'], ['-d', '172.16.0.0/16', '-j', 'RETURN'],
      ['-s', '10.244.0.0/16', '-j', 'MASQUERADE'], ['-s', '172.16.0.0/16', '-j', 'MASQUERADE'],
    ]);
    expect(planNatOutgoing([pool('fd44::/48', true, true)], 6).rules).toEqual([['-d', 'fd44::/48', '-j', 'RETURN'], ['-s', 'fd44::/48', '-j', 'MASQUERADE']]);
  });
});

/**
 * The node's own traffic that kube-proxy DNATs to a remote pod chose its source (the
 * uplink address) before the DNAT; leaving through a tunnel with that source, the
 * remote node's strict rp_filter drops it. As Calico's felix does, a packet leaving a
 * tunnel device with a local source that is not the device's own is masqueraded to
 * the device's address.
 */
describe('natOutgoing: the node\'s own traffic into a tunnel', () => {
  const masqTo = (dev: string): string[] => ['-o', dev, '-m', 'addrtype', '!', '--src-type', 'LOCAL', '--limit-iface-out', '-m', 'addrtype', '--src-type', 'LOCAL', '-j', 'MASQUERADE'];
  const vx = (address?: string): VxlanPlan => ({ device: 'vxlan.margay', vni: 4096, port: 4789, mtu: 1450, mac: '66:00:00:00:00:01', local: '10.0.1.2', peers: [], ...(address !== undefined ? { address } : {}) });

  it('masquerades a local source that is not the tunnel\'s own, per tunnel device with an address, even with no natOutgoing pool', () => {
    expect(planNatOutgoing([pool('10.244.0.0/16', false)], 4, ['vxlan.margay', 'tunl0']).rules).toEqual([masqTo('vxlan.margay'), masqTo('tunl0')]);
  });
  it('comes before the pool RETURNs (the destination is a pod address, which RETURNs)', () => {
    const n = planNatOutgoing([pool('10.244.0.0/16', true)], 4, ['vxlan.margay']);
    expect(renderNatRestore(n).split('\n').slice(2, 5)).toEqual([
      '-A MARGAY-NAT-OUTGOING -o vxlan.margay -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE',
      '-A MARGAY-NAT-OUTGOING -d 10.244.0.0/16 -j RETURN',
      '-A MARGAY-NAT-OUTGOING -s 10.244.0.0/16 -j MASQUERADE',
    ]);
  });
  it('tunnel devices of a plan: IPv4 ones with an address (VXLAN, IPIP); none for IPv6 (no IPv6 tunnel address), none without an address', () => {
    const plan = { vxlan: vx('10.244.0.1/32'), ipip: { device: 'tunl0', mtu: 1480, address: '172.16.0.1/32' }, vxlan6: { ...vx(), device: 'vxlan-v6.margay', local: 'fd00::2' } };
    expect(natTunnelDevices(plan, 4)).toEqual(['vxlan.margay', 'tunl0']);
    expect(natTunnelDevices(plan, 6)).toEqual([]);
    expect(natTunnelDevices({ vxlan: vx(), ipip: { device: 'tunl0', mtu: 1480 } }, 4)).toEqual([]);
    expect(natTunnelDevices({}, 4)).toEqual([]);
  });
  it('from a real plan: the local node\'s VXLAN tunnel address gives the rule; the tunnel going away removes it', () => {
    const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };
    const vxPool: PoolSpec = { cidr: '192.168.0.0/16', vxlanMode: 'Always', ipipMode: 'Never', natOutgoing: false };
    const nodes = [{ name: 'a', address: '10.0.1.2/24', vxlanTunnelAddress: '192.168.0.1' }, { name: 'b', address: '10.0.1.3/24', vxlanTunnelAddress: '192.168.1.1' }];
    const input = { localNode: 'a', nodes, blocks: [{ cidr: '192.168.1.0/26', node: 'b' }], pools: [vxPool], config };
    expect(planNatOutgoing(input.pools, 4, natTunnelDevices(planDataplane(input), 4)).rules).toEqual([masqTo('vxlan.margay')]);
    const gone = { ...input, pools: [{ ...vxPool, vxlanMode: 'Never' as const }] };
    expect(planNatOutgoing(gone.pools, 4, natTunnelDevices(planDataplane(gone), 4)).rules).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { CniHandler } from '../../../../agent/cni/handler.js';
import { hostIfName } from '../../../../agent/cni/names.js';
import { defaultPodMtu } from '../../../../agent/cni/pod-mtu.js';
import type { AgentRequest } from '../../../../agent/cni/wire.js';
import type { PoolSpec } from '../../../../agent/dataplane/plan/types.js';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import { FakeWiring } from '../../../support/cni-fakes.js';

const pool = (cidr: string, ipipMode: PoolSpec['ipipMode'], vxlanMode: PoolSpec['vxlanMode'], disabled = false): PoolSpec => ({ cidr, ipipMode, vxlanMode, natOutgoing: false, ...(disabled ? { disabled } : {}) });

describe('defaultPodMtu: the smallest of the uplink and the pools\' tunnels', () => {
  it('no tunnel: the uplink\'s; IPIP −20; VXLAN −50 (IPv4 pool), −70 (IPv6 pool); the smallest wins', () => {
    expect(defaultPodMtu(1500, [])).toBe(1500);
    expect(defaultPodMtu(1500, [pool('10.0.0.0/16', 'Never', 'Never')])).toBe(1500);
    expect(defaultPodMtu(1500, [pool('10.0.0.0/16', 'Always', 'Never')])).toBe(1480);
    expect(defaultPodMtu(9000, [pool('10.0.0.0/16', 'Never', 'CrossSubnet')])).toBe(8950);
    expect(defaultPodMtu(1500, [pool('fd00::/48', 'Never', 'Always')])).toBe(1430);
    expect(defaultPodMtu(1500, [pool('10.0.0.0/16', 'Always', 'Never'), pool('10.1.0.0/16', 'Never', 'Always')])).toBe(1450);
    // IPIP carries no IPv6 (the planner treats it as Never); a disabled pool's pods still run
    expect(defaultPodMtu(1500, [pool('fd00::/48', 'Always', 'Never')])).toBe(1500);
    expect(defaultPodMtu(1500, [pool('10.0.0.0/16', 'Never', 'Always', true)])).toBe(1450);
  });
});

describe('CniHandler pod MTU', () => {
  const req = (id: string, command: AgentRequest['command'], mtu?: number): AgentRequest => ({
    v: 1, command, containerId: id, ifName: 'eth0', netns: '/ns/a', args: {}, network: 'k8s', cniVersion: '1.0.0', ...(mtu !== undefined ? { mtu } : {}),
  });
  const setUp = (): { handler: CniHandler; wiring: FakeWiring } => {
    const wiring = new FakeWiring();
    const ipam = new Ipam({ store: new MemoryIpamStore(), node: 'n1', pools: [{ name: 'v4', spec: { cidr: '10.8.0.0/28', blockSize: 28 } }] });
    const uplinkMtu = 1500;
    return { wiring, handler: new CniHandler({ ipam, wiring, defaultMtu: () => defaultPodMtu(uplinkMtu, [pool('10.8.0.0/28', 'Never', 'Always')]) }) };
  };

  it('ADD without netconf mtu on a VXLAN pool gives uplink−50; CHECK expects it', async () => {
    const { handler, wiring } = setUp();
    await handler.handle(req('c1', 'ADD'));
    expect(wiring.links.get(hostIfName('c1'))?.mtu).toBe(1450);
    const checked: (number | undefined)[] = [];
    const check = wiring.check.bind(wiring);
    wiring.check = (l) => { checked.push(l.mtu); return check(l); };
    await handler.handle(req('c1', 'CHECK'));
    expect(checked).toEqual([1450]);
  });

  it('the netconf mtu wins over the default', async () => {
    const { handler, wiring } = setUp();
    await handler.handle(req('c2', 'ADD', 1400));
    expect(wiring.links.get(hostIfName('c2'))?.mtu).toBe(1400);
  });

  it('no default (undefined): the link has no MTU, the kernel\'s stays', async () => {
    const wiring = new FakeWiring();
    const ipam = new Ipam({ store: new MemoryIpamStore(), node: 'n1', pools: [{ name: 'v4', spec: { cidr: '10.8.0.0/28', blockSize: 28 } }] });
    await new CniHandler({ ipam, wiring, defaultMtu: () => undefined }).handle(req('c3', 'ADD'));
    expect(wiring.links.get(hostIfName('c3'))).toBeDefined();
    expect(wiring.links.get(hostIfName('c3'))?.mtu).toBeUndefined();
  });
});

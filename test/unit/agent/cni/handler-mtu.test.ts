import { describe, expect, it } from 'vitest';
import { CniError } from '../../../../agent/cni/errors.js';
import { CniHandler, mtuDrift, type PodLink } from '../../../../agent/cni/handler.js';
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

  it('ADD without netconf mtu on a VXLAN pool gives uplink−50; CHECK is not handed that default', async () => {
    const { handler, wiring } = setUp();
    await handler.handle(req('c1', 'ADD'));
    expect(wiring.links.get(hostIfName('c1'))?.mtu).toBe(1450);
    const checked: (number | undefined)[] = [];
    const check = wiring.check.bind(wiring);
    wiring.check = (l) => { checked.push(l.mtu); return check(l); };
    await handler.handle(req('c1', 'CHECK'));
    expect(checked).toEqual([undefined]); // no netconf mtu: CHECK asks only that the ends agree
  });

  /** A fake kernel that keeps each end's MTU (ADD's, or the kernel's 1500) and checks them as the real wirings do. */
  class MtuWiring extends FakeWiring {
    readonly ends = new Map<string, { host: number; pod: number }>();
    override async add(l: PodLink): Promise<{ hostMac: string; podMac: string }> {
      this.ends.set(l.hostIf, { host: l.mtu ?? 1500, pod: l.mtu ?? 1500 });
      return super.add(l);
    }
    override async check(l: PodLink): Promise<string[]> {
      const e = this.ends.get(l.hostIf);
      return e ? mtuDrift(l, e.host, e.pod) : super.check(l);
    }
  }
  const checkError = async (handler: CniHandler, r: AgentRequest): Promise<CniError | undefined> => {
    try {
      await handler.handle(r);
      return undefined;
    } catch (e) {
      if (e instanceof CniError) return e;
      throw e;
    }
  };
  /** A handler whose default MTU can change under it, as when a pool gets VXLAN. */
  const switching = (): { handler: CniHandler; wiring: MtuWiring; setDefault: (mtu: number) => void } => {
    const wiring = new MtuWiring();
    const ipam = new Ipam({ store: new MemoryIpamStore(), node: 'n1', pools: [{ name: 'v4', spec: { cidr: '10.8.0.0/28', blockSize: 28 } }] });
    let mtu = 1500;
    return { wiring, handler: new CniHandler({ ipam, wiring, defaultMtu: () => mtu }), setDefault: (m) => { mtu = m; } };
  };

  it('CHECK after the default MTU changed (a pool got VXLAN): the pod keeps the MTU of its ADD, CHECK succeeds', async () => {
    const { handler, wiring, setDefault } = switching();
    await handler.handle(req('d1', 'ADD'));
    expect(wiring.ends.get(hostIfName('d1'))).toEqual({ host: 1500, pod: 1500 });
    setDefault(1450);
    expect(await checkError(handler, req('d1', 'CHECK'))).toBeUndefined();
    // a pod added after the change gets the new default
    await handler.handle(req('d2', 'ADD'));
    expect(wiring.ends.get(hostIfName('d2'))).toEqual({ host: 1450, pod: 1450 });
    expect(await checkError(handler, req('d2', 'CHECK'))).toBeUndefined();
  });

  it('CHECK without netconf mtu: ends that disagree are drift (103)', async () => {
    const { handler, wiring } = switching();
    await handler.handle(req('d3', 'ADD'));
    wiring.ends.set(hostIfName('d3'), { host: 1500, pod: 1400 });
    const e = await checkError(handler, req('d3', 'CHECK'));
    expect(e?.code).toBe(103);
    expect(e?.message).toMatch(/eth0 in \/ns\/a has MTU 1400, not 1500/);
  });

  it('CHECK with a netconf mtu: both ends must have it (103 when they do not, even if they agree)', async () => {
    const { handler, wiring } = switching();
    await handler.handle(req('d4', 'ADD', 1400));
    expect(await checkError(handler, req('d4', 'CHECK', 1400))).toBeUndefined();
    const e = await checkError(handler, req('d4', 'CHECK', 1300));
    expect(e?.code).toBe(103);
    expect(e?.message).toMatch(/host interface mgw\w+ has MTU 1400, not 1300/);
    expect(e?.message).toMatch(/eth0 in \/ns\/a has MTU 1400, not 1300/);
    wiring.ends.set(hostIfName('d4'), { host: 1400, pod: 1350 });
    expect((await checkError(handler, req('d4', 'CHECK', 1400)))?.message).toMatch(/eth0 in \/ns\/a has MTU 1350, not 1400/);
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

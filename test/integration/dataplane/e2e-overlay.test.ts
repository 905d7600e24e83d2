/**
 * End to end on the lab harness: two nodes on different subnets (routed fabric: a
 * router namespace that knows nothing of pods), one pod behind each. The dataplane
 * is applied inside each node's namespace for each encapsulation mode; pods reach
 * each other with vxlanMode Always and CrossSubnet, and not with Never. natOutgoing
 * lets a pod reach the fabric router, which has no route back to pod addresses.
 * Dual stack: with an IPv6 pool too, pods reach each other over IPv6 through the
 * same IPv4-underlay VXLAN device (via the remote VTEP's link-local address, a
 * permanent neighbour to its MAC) with Always and CrossSubnet, and not with Never;
 * nodes known only by IPv6 addresses get a second device over the IPv6 underlay.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { applyDataplane, type DataplaneReport } from '../../../agent/dataplane/apply.js';
import { openRtnl, type KernelRtnl } from '../../../agent/dataplane/kernel/rtnl.js';
import { execIn } from '../../../agent/dataplane/nat-outgoing.js';
import { DEFAULT_CONFIG, type DataplaneInput, type EncapMode, type NodeSpec } from '../../../agent/dataplane/plan/types.js';
import { vtepLinkLocal, vtepMac } from '../../../agent/dataplane/plan/vtep.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

const POOL = '10.244.0.0/16';
const POOL6 = 'fd44::/32';

describe.skipIf(needsRoot)(`overlay end to end on a routed lab (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  let lab: Lab;
  let stateRoot: string;
  const sockets = new Map<string, KernelRtnl>();
  let nodes: NodeSpec[] = [];

  beforeAll(async () => {
    stateRoot = await mkdtemp(join(tmpdir(), 'margay-dp-e2e-'));
    lab = await createLab({ nodes: 2, fabric: 'routed', stateRoot });
    await lab.addPod('n1', 'a', { ipv4: '10.244.1.2', ipv6: 'fd44:0:1::2' });
    await lab.addPod('n2', 'b', { ipv4: '10.244.2.2', ipv6: 'fd44:0:2::2' });
    nodes = lab.nodes.map((n) => ({
      name: n.name,
      address: `${n.address}/${n.subnet.split('/')[1]}`,
      address6: `${n.address6}/${n.subnet6.split('/')[1]}`,
      vxlanTunnelAddress: n.name === 'n1' ? '10.244.1.0' : '10.244.2.0',
      ipipTunnelAddress: n.name === 'n1' ? '10.244.1.1' : '10.244.2.1',
    }));
    for (const n of lab.nodes) sockets.set(n.name, openRtnl({ netns: n.ns }));
  });
  afterAll(async () => {
    for (const s of sockets.values()) s.close();
    await lab?.destroy();
    if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  });

  /** `v6`: dual stack, an IPv6 pool with the same vxlanMode and a /122 block per node. */
  async function applyMode(mode: { vxlan: EncapMode; ipip: EncapMode; nat?: boolean; v6?: boolean; vxlan6?: EncapMode; noTunnels?: boolean; v6only?: boolean }): Promise<DataplaneReport[]> {
    const reports: DataplaneReport[] = [];
    for (const n of lab.nodes) {
      const input: DataplaneInput = {
        localNode: n.name,
        nodes: mode.v6only ? nodes.map(({ address: _a, vxlanTunnelAddress: _t, ...rest }) => rest)
          : mode.noTunnels ? nodes.map(({ vxlanTunnelAddress: _t, ...rest }) => rest) : nodes,
        blocks: [
          { cidr: '10.244.1.0/26', node: 'n1' }, { cidr: '10.244.2.0/26', node: 'n2' },
          ...(mode.v6 ? [{ cidr: 'fd44:0:1::/122', node: 'n1' }, { cidr: 'fd44:0:2::/122', node: 'n2' }] : []),
        ],
        pools: [
          { cidr: POOL, vxlanMode: mode.vxlan, ipipMode: mode.ipip, natOutgoing: mode.nat ?? false },
          ...(mode.v6 ? [{ cidr: POOL6, vxlanMode: mode.vxlan6 ?? mode.vxlan, ipipMode: 'Never' as const, natOutgoing: false }] : []),
        ],
        config: { ...DEFAULT_CONFIG, uplink: n.uplink, uplinkMtu: 1500 },
      };
      reports.push(await applyDataplane(sockets.get(n.name) as KernelRtnl, execIn(n.ns), input));
    }
    return reports;
  }
  const podA = (): string => lab.pods.find((p) => p.name === 'a')?.ns as string;
  const reach = async (address: string): Promise<boolean> => (await lab.ping(podA(), address, { count: 1, timeoutS: 1 })).ok;

  it('with vxlanMode Never and a fabric that knows no pods, pods do not reach each other', async () => {
    const reports = await applyMode({ vxlan: 'Never', ipip: 'Never' });
    expect(reports[0]?.problems.join('\n')).toContain('10.244.2.0/26: node n2 is on another subnet');
    expect(await reach('10.244.2.2')).toBe(false);
  });

  it('with vxlanMode Always they do, through vxlan.margay', async () => {
    const [r1] = await applyMode({ vxlan: 'Always', ipip: 'Never' });
    expect(r1?.problems).toEqual([]);
    expect(r1?.vxlan).toMatchObject({ created: true });
    expect(await reach('10.244.2.2')).toBe(true);
    const n1 = lab.node('n1').ns;
    const [dev] = JSON.parse((await lab.exec(n1, ['ip', '-j', '-d', 'link', 'show', 'vxlan.margay'])).stdout) as { mtu: number; address: string; linkinfo: { info_data: { id: number; port: number; local: string } } }[];
    expect(dev).toMatchObject({ mtu: 1450, address: vtepMac('n1') });
    expect(dev?.linkinfo.info_data).toMatchObject({ id: 4096, port: 4789, local: lab.node('n1').address });
    const routes = JSON.parse((await lab.exec(n1, ['ip', '-j', 'route', 'show', 'proto', '80'])).stdout) as { dst: string; gateway?: string; dev?: string; type?: string; flags: string[] }[];
    expect(routes).toEqual(expect.arrayContaining([
      expect.objectContaining({ dst: '10.244.1.0/26', type: 'blackhole' }),
      expect.objectContaining({ dst: '10.244.2.0/26', gateway: '10.244.2.0', dev: 'vxlan.margay', flags: ['onlink'] }),
    ]));
    const neigh = JSON.parse((await lab.exec(n1, ['ip', '-j', 'neigh', 'show', 'dev', 'vxlan.margay'])).stdout) as { dst: string; lladdr: string }[];
    expect(neigh).toEqual([expect.objectContaining({ dst: '10.244.2.0', lladdr: vtepMac('n2') })]);
    const fdb = (await lab.exec(n1, ['bridge', 'fdb', 'show', 'dev', 'vxlan.margay'])).stdout;
    expect(fdb).toContain(`${vtepMac('n2')} dst ${lab.node('n2').address} self permanent`);
  });

  it('a second pass changes nothing', async () => {
    const [r1, r2] = await applyMode({ vxlan: 'Always', ipip: 'Never' });
    for (const r of [r1, r2]) {
      expect(r?.routes).toMatchObject({ added: 0, replaced: 0, deleted: 0, unchanged: 2 });
      expect(r?.vxlan).toMatchObject({ created: false, recreated: false, changes: [] });
    }
  });

  it('repairs overlay drift: FDB and ARP entries deleted by hand, MTU changed, VNI changed (device recreated)', async () => {
    const n1 = lab.node('n1').ns;
    const n2 = lab.node('n2');
    await lab.exec(n1, ['bridge', 'fdb', 'del', vtepMac('n2'), 'dev', 'vxlan.margay', 'dst', n2.address]);
    await lab.exec(n1, ['ip', 'neigh', 'del', '10.244.2.0', 'dev', 'vxlan.margay']);
    await lab.exec(n1, ['ip', 'link', 'set', 'vxlan.margay', 'mtu', '1300']);
    expect(await reach('10.244.2.2')).toBe(false);
    const [r1] = await applyMode({ vxlan: 'Always', ipip: 'Never' });
    expect(r1?.vxlan?.changes.sort()).toEqual([`arp +10.244.2.0>${vtepMac('n2')}`, `fdb +${n2.address}>${vtepMac('n2')}`, 'link settings']);
    expect(await reach('10.244.2.2')).toBe(true);
    // a VNI cannot be changed in place: margay recreates the device and its routes come back
    await lab.exec(n1, ['ip', 'link', 'del', 'vxlan.margay']);
    await lab.exec(n1, ['ip', 'link', 'add', 'vxlan.margay', 'type', 'vxlan', 'id', '99', 'dstport', '4789', 'dev', 'eth0']);
    const [again] = await applyMode({ vxlan: 'Always', ipip: 'Never' });
    expect(again?.vxlan).toMatchObject({ recreated: true });
    expect(again?.routes).toMatchObject({ added: 1, failed: [] });
    expect(await reach('10.244.2.2')).toBe(true);
  });

  it('with vxlanMode CrossSubnet (nodes on different subnets) they still do', async () => {
    await applyMode({ vxlan: 'CrossSubnet', ipip: 'Never' });
    expect(await reach('10.244.2.2')).toBe(true);
  });

  describe('dual stack: IPv6 pods over the IPv4-underlay VXLAN device', () => {
    const podB = (): string => lab.pods.find((p) => p.name === 'b')?.ns as string;
    const reach6 = async (from: string, address: string): Promise<boolean> => (await lab.ping(from, address, { count: 1, timeoutS: 1 })).ok;
    type Route6 = { dst: string; gateway?: string; dev?: string; type?: string; flags: string[] };
    type Neigh6 = { dst: string; lladdr: string; state: string[] };

    it('with vxlanMode Never the IPv6 pods do not reach each other (the router knows no pods)', async () => {
      const [r1] = await applyMode({ vxlan: 'Never', ipip: 'Never', v6: true });
      expect(r1?.problems).toContain('block fd44:0:2::/122: node n2 is on another subnet and its pool does not encapsulate');
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(false);
    });

    it('with vxlanMode Always they do (ping -6 both ways): `ip -6 route` via the VTEP link-local on vxlan.margay, `ip -6 neigh` permanent to the VTEP MAC', async () => {
      const [r1, r2] = await applyMode({ vxlan: 'Always', ipip: 'Never', v6: true });
      expect(r1?.problems).toEqual([]);
      expect(r2?.problems).toEqual([]);
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(true);
      expect(await reach6(podB(), 'fd44:0:1::2')).toBe(true);
      expect(await reach('10.244.2.2')).toBe(true); // IPv4 shares the device
      const n1 = lab.node('n1').ns;
      const routes = JSON.parse((await lab.exec(n1, ['ip', '-6', '-j', 'route', 'show', 'proto', '80'])).stdout) as Route6[];
      expect(routes.map((r) => ({ dst: r.dst, type: r.type ?? 'unicast', gateway: r.gateway, dev: r.dev }))).toEqual([
        { dst: 'fd44:0:1::/122', type: 'blackhole', gateway: undefined, dev: 'lo' },
        { dst: 'fd44:0:2::/122', type: 'unicast', gateway: vtepLinkLocal(vtepMac('n2')), dev: 'vxlan.margay' },
      ]);
      const neigh = JSON.parse((await lab.exec(n1, ['ip', '-6', '-j', 'neigh', 'show', 'dev', 'vxlan.margay'])).stdout) as Neigh6[];
      expect(neigh).toEqual([expect.objectContaining({ dst: vtepLinkLocal(vtepMac('n2')), lladdr: vtepMac('n2'), state: ['PERMANENT'] })]);
      const arp = JSON.parse((await lab.exec(n1, ['ip', '-4', '-j', 'neigh', 'show', 'dev', 'vxlan.margay'])).stdout) as Neigh6[];
      expect(arp).toEqual([expect.objectContaining({ dst: '10.244.2.0', lladdr: vtepMac('n2') })]);
      // one VXLAN device, on the IPv4 underlay: no second device for IPv6
      expect((await lab.exec(n1, ['ip', '-o', 'link', 'show', 'type', 'vxlan'])).stdout.trim().split('\n')).toHaveLength(1);
    });

    it('a second pass changes nothing; an IPv6 neighbour deleted by hand is put back', async () => {
      const [again] = await applyMode({ vxlan: 'Always', ipip: 'Never', v6: true });
      expect(again?.routes).toMatchObject({ added: 0, replaced: 0, deleted: 0, unchanged: 4 });
      expect(again?.vxlan?.changes).toEqual([]);
      const n1 = lab.node('n1').ns;
      await lab.exec(n1, ['ip', '-6', 'neigh', 'del', vtepLinkLocal(vtepMac('n2')), 'dev', 'vxlan.margay']);
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(false);
      const [fixed] = await applyMode({ vxlan: 'Always', ipip: 'Never', v6: true });
      expect(fixed?.vxlan?.changes).toEqual([`nd +${vtepLinkLocal(vtepMac('n2'))}>${vtepMac('n2')}`]);
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(true);
    });

    it('with vxlanMode CrossSubnet (the nodes are on different IPv6 subnets too) they do', async () => {
      const [r1] = await applyMode({ vxlan: 'CrossSubnet', ipip: 'Never', v6: true });
      expect(r1?.plan.routes.find((r) => r.dst === 'fd44:0:2::/122')?.reason).toBe('vxlan to n2');
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(true);
    });

    it('an IPv6 pool alone encapsulating (IPv4 pool Never, no IPv4 tunnel addresses) still gets the device and its neighbours', async () => {
      const [r1] = await applyMode({ vxlan: 'Never', vxlan6: 'Always', v6: true, ipip: 'Never', noTunnels: true });
      expect(r1?.problems).toEqual(['block 10.244.2.0/26: node n2 is on another subnet and its pool does not encapsulate']);
      expect(r1?.vxlan?.changes).toContain('address -10.244.1.0/32'); // (the kernel flushes the device's ARP entries with its last IPv4 address)
      const n1 = lab.node('n1').ns;
      expect((await lab.exec(n1, ['ip', '-4', 'neigh', 'show', 'dev', 'vxlan.margay'])).stdout.trim()).toBe('');
      expect((await lab.exec(n1, ['ip', '-6', 'neigh', 'show', 'dev', 'vxlan.margay'])).stdout).toContain(`${vtepLinkLocal(vtepMac('n2'))} lladdr ${vtepMac('n2')} PERMANENT`);
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(true);
      expect(await reach('10.244.2.2')).toBe(false);
      await applyMode({ vxlan: 'CrossSubnet', ipip: 'Never', v6: true }); // back as before
      expect(await reach('10.244.2.2')).toBe(true);
    });

    it('IPv6-only nodes (no IPv4 address given): IPv6 pods reach each other through vxlan-v6.margay over the IPv6 underlay', async () => {
      const [r1, r2] = await applyMode({ vxlan: 'Always', ipip: 'Never', v6: true, v6only: true });
      expect(r1?.problems).toEqual(['block 10.244.2.0/26: node n1 has no IPv4 address']);
      expect(r2?.problems).toEqual(['block 10.244.1.0/26: node n2 has no IPv4 address']);
      expect(r1?.vxlan6).toMatchObject({ created: true });
      expect(r1?.vxlan?.changes).toEqual(['device deleted']);
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(true);
      expect(await reach6(podB(), 'fd44:0:1::2')).toBe(true);
      const n1 = lab.node('n1').ns;
      const n2 = lab.node('n2');
      const [dev] = JSON.parse((await lab.exec(n1, ['ip', '-j', '-d', 'link', 'show', 'vxlan-v6.margay'])).stdout) as { mtu: number; address: string; linkinfo: { info_data: { id: number; port: number; local6: string } } }[];
      expect(dev).toMatchObject({ mtu: 1430, address: vtepMac('n1') });
      expect(dev?.linkinfo.info_data).toMatchObject({ id: 4096, port: 4789, local6: lab.node('n1').address6 });
      const routes = JSON.parse((await lab.exec(n1, ['ip', '-6', '-j', 'route', 'show', 'proto', '80'])).stdout) as Route6[];
      expect(routes.find((r) => r.dst === 'fd44:0:2::/122')).toMatchObject({ gateway: vtepLinkLocal(vtepMac('n2')), dev: 'vxlan-v6.margay' });
      const neigh = JSON.parse((await lab.exec(n1, ['ip', '-6', '-j', 'neigh', 'show', 'dev', 'vxlan-v6.margay'])).stdout) as Neigh6[];
      expect(neigh).toEqual([expect.objectContaining({ dst: vtepLinkLocal(vtepMac('n2')), lladdr: vtepMac('n2'), state: ['PERMANENT'] })]);
      expect((await lab.exec(n1, ['bridge', 'fdb', 'show', 'dev', 'vxlan-v6.margay'])).stdout).toContain(`${vtepMac('n2')} dst ${n2.address6} self permanent`);
      const [again] = await applyMode({ vxlan: 'Always', ipip: 'Never', v6: true, v6only: true });
      expect(again?.vxlan6).toMatchObject({ created: false, recreated: false, changes: [] });
      // nodes with IPv4 addresses again: the IPv6-underlay device goes, the IPv4 one carries both
      const [back] = await applyMode({ vxlan: 'CrossSubnet', ipip: 'Never', v6: true });
      expect(back?.vxlan6?.changes).toEqual(['device deleted']);
      expect(back?.problems).toEqual([]);
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(true);
      expect(await reach('10.244.2.2')).toBe(true);
    });

    it('dropping the IPv6 pool removes its routes and neighbours, IPv4 keeps working', async () => {
      const [r1] = await applyMode({ vxlan: 'CrossSubnet', ipip: 'Never' });
      expect(r1?.vxlan?.changes).toEqual([`nd -${vtepLinkLocal(vtepMac('n2'))}>${vtepMac('n2')}`]);
      expect(r1?.routes).toMatchObject({ deleted: 2 });
      expect(await reach6(podA(), 'fd44:0:2::2')).toBe(false);
      expect(await reach('10.244.2.2')).toBe(true);
    });
  });

  it('natOutgoing lets a pod reach an address outside every pool, masqueraded to the node', async () => {
    const router = lab.fabric.subnets[1]?.gateway as string; // the fabric router on n2's subnet: no route to pods
    await applyMode({ vxlan: 'CrossSubnet', ipip: 'Never', nat: false });
    expect(await reach(router)).toBe(false);
    const [withNat] = await applyMode({ vxlan: 'CrossSubnet', ipip: 'Never', nat: true });
    expect(withNat?.natChanged).toBe(true);
    expect(await reach(router)).toBe(true);
    const [again] = await applyMode({ vxlan: 'CrossSubnet', ipip: 'Never', nat: true });
    expect(again?.natChanged).toBe(false);
    const rules = (await lab.exec(lab.node('n1').ns, ['iptables', '-w', '-t', 'nat', '-S'])).stdout;
    expect(rules).toContain('-A POSTROUTING -m comment --comment "margay:nat-outgoing" -j MARGAY-NAT-OUTGOING');
    expect(rules).toContain(`-A MARGAY-NAT-OUTGOING -d ${POOL} -j RETURN`);
    expect(rules).toContain(`-A MARGAY-NAT-OUTGOING -s ${POOL} -j MASQUERADE`);
    expect(await reach('10.244.2.2')).toBe(true); // pod to pod is not masqueraded and still works
  });

  it('back to Never: the device and the tunnel routes are removed and pods lose each other', async () => {
    const [r1] = await applyMode({ vxlan: 'Never', ipip: 'Never' });
    expect(r1?.vxlan?.changes).toEqual(['device deleted']);
    expect(r1?.natChanged).toBe(true);
    expect(await reach('10.244.2.2')).toBe(false);
    const links = (await lab.exec(lab.node('n1').ns, ['ip', 'link', 'show'])).stdout;
    expect(links).not.toContain('vxlan.margay');
  });

  it('with ipipMode Always pods reach each other through tunl0, where the kernel has the ipip module', async (ctx) => {
    const reports = await applyMode({ vxlan: 'Never', ipip: 'Always' });
    const missing = reports.flatMap((r) => r.problems).find((p) => p.includes('no "ipip" module'));
    if (missing) {
      // the reason reaches the output and CI's summary (.ci/test-summary.mjs reads meta.skipReason)
      (ctx.task.meta as { skipReason?: string }).skipReason = missing;
      process.stderr.write(`e2e-overlay: IPIP end to end skipped: ${missing}\n`);
      ctx.skip(`skipped: ${missing}`);
      return;
    }
    expect(reports[0]?.problems).toEqual([]);
    expect(await reach('10.244.2.2')).toBe(true);
    // each node's IPIP tunnel address on tunl0, so host-originated traffic to remote pods leaves with it as inner source
    for (const [name, addr] of [['n1', '10.244.1.1/32'], ['n2', '10.244.2.1/32']] as const) {
      expect((await lab.exec(lab.node(name).ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'tunl0'])).stdout).toContain(` ${addr} `);
    }
    expect((await lab.ping(lab.node('n1').ns, '10.244.2.2', { count: 1, timeoutS: 1 })).ok).toBe(true); // node → remote pod
  });
});

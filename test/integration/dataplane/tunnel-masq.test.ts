/**
 * The node's own traffic that kube-proxy DNATs into a tunnel. A host process on n1
 * pings a ClusterIP; an OUTPUT DNAT rule (what kube-proxy writes) sends it to a pod
 * on n2, behind vxlan.margay. The source was chosen for the ClusterIP's route (the
 * uplink address) before the DNAT; n2 has strict rp_filter, whose reverse path for
 * n1's uplink address is eth0, not the tunnel — so without margay's tunnel
 * masquerade (nat-plan.ts) n2 drops it. With it, the packet leaves with n1's tunnel
 * address (conntrack shows the translation) and the ping is answered.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDataplane, type DataplaneReport } from '../../../agent/dataplane/apply.js';
import { openRtnl, type KernelRtnl } from '../../../agent/dataplane/kernel/rtnl.js';
import { execIn } from '../../../agent/dataplane/nat-outgoing.js';
import { NAT_OUTGOING_CHAIN } from '../../../agent/dataplane/plan/nat-plan.js';
import { DEFAULT_CONFIG, type EncapMode, type NodeSpec } from '../../../agent/dataplane/plan/types.js';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

const CLUSTER_IP = '10.96.0.10';
const POD_B = '10.244.2.2';
const MASQ = `-A ${NAT_OUTGOING_CHAIN} -o vxlan.margay -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE`;

describe.skipIf(needsRoot)(`node traffic DNATed into the VXLAN tunnel leaves with the tunnel address (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  let lab: Lab;
  let stateRoot: string;
  const sockets = new Map<string, KernelRtnl>();
  let nodes: NodeSpec[] = [];

  beforeAll(async () => {
    stateRoot = await mkdtemp(join(tmpdir(), 'margay-dp-masq-'));
    lab = await createLab({ nodes: 2, fabric: 'routed', stateRoot });
    await lab.addPod('n2', 'b', { ipv4: POD_B });
    nodes = lab.nodes.map((n) => ({ name: n.name, address: `${n.address}/${n.subnet.split('/')[1]}`, vxlanTunnelAddress: n.name === 'n1' ? '10.244.1.0' : '10.244.2.0' }));
    for (const n of lab.nodes) sockets.set(n.name, openRtnl({ netns: n.ns }));
    await lab.exec(lab.node('n2').ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1']);
    await lab.exec(lab.node('n1').ns, ['iptables', '-w', '-t', 'nat', '-A', 'OUTPUT', '-d', `${CLUSTER_IP}/32`, '-j', 'DNAT', '--to-destination', POD_B]);
  });
  afterAll(async () => {
    for (const s of sockets.values()) s.close();
    await lab?.destroy();
    if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  });

  async function apply(vxlanMode: EncapMode): Promise<DataplaneReport[]> {
    const reports: DataplaneReport[] = [];
    for (const n of lab.nodes) {
      reports.push(await applyDataplane(sockets.get(n.name) as KernelRtnl, execIn(n.ns), {
        localNode: n.name,
        nodes,
        blocks: [{ cidr: '10.244.1.0/26', node: 'n1' }, { cidr: '10.244.2.0/26', node: 'n2' }],
        pools: [{ cidr: '10.244.0.0/16', vxlanMode, ipipMode: 'Never', natOutgoing: false }],
        config: { ...DEFAULT_CONFIG, uplink: n.uplink, uplinkMtu: 1500 },
      }));
    }
    return reports;
  }
  const n1 = (): string => lab.node('n1').ns;
  const chain = async (): Promise<string[]> => {
    try {
      return (await lab.exec(n1(), ['iptables', '-w', '-t', 'nat', '-S', NAT_OUTGOING_CHAIN])).stdout.split('\n').filter((l) => l.startsWith('-A'));
    } catch {
      return [];
    }
  };
  const pingClusterIp = async (): Promise<boolean> => (await lab.ping(n1(), CLUSTER_IP, { count: 1, timeoutS: 1 })).ok;

  it('without the tunnel masquerade (removed by hand) n2\'s rp_filter drops it; a pass puts it back and the ping is answered from the tunnel address', async () => {
    const [r1] = await apply('Always');
    expect(r1?.problems).toEqual([]);
    expect(await chain()).toEqual([MASQ]);
    await lab.exec(n1(), ['iptables', '-w', '-t', 'nat', '-F', NAT_OUTGOING_CHAIN]);
    expect(await pingClusterIp()).toBe(false);
    await lab.exec(n1(), ['conntrack', '-F']);
    const [again] = await apply('Always');
    expect(again?.natChanged).toBe(true);
    expect(await pingClusterIp()).toBe(true);
    const ct = (await lab.exec(n1(), ['conntrack', '-L', '-p', 'icmp', '-d', CLUSTER_IP])).stdout;
    // original: uplink source → ClusterIP; reply: pod → the tunnel address (DNAT and the masquerade)
    expect(ct).toContain(`src=${lab.node('n1').address} dst=${CLUSTER_IP}`);
    expect(ct).toContain(`src=${POD_B} dst=10.244.1.0`);
  });

  it('a second pass changes nothing (one rule, no duplicate); the tunnel going away removes it with the chain', async () => {
    const [r1] = await apply('Always');
    expect(r1?.natChanged).toBe(false);
    expect(await chain()).toEqual([MASQ]);
    const [off] = await apply('Never');
    expect(off?.natChanged).toBe(true);
    expect(await chain()).toEqual([]);
    const jumps = (await lab.exec(n1(), ['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING'])).stdout;
    expect(jumps).not.toContain(NAT_OUTGOING_CHAIN);
  });
});

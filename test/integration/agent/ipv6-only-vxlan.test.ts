/**
 * IPv6-only nodes with real agents on a routed lab: the Nodes carry only their IPv6
 * BGP address (the sessions run over IPv6; a router ID by annotation), the IPv6 pool is vxlanMode Always, and
 * the agents (no --uplink: each finds its uplink by its global IPv6 address) route
 * each other's IPv6 blocks through vxlan-v6.margay over the IPv6 underlay; pods
 * reach each other over IPv6 across the router, which knows nothing of pods. (The
 * IPv4 pool exists only because the lab's CNI helper wants an IPv4 address per pod.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { POD_POOL_V4, POD_POOL_V6 } from '../../../agent/lab/plan.js';
import { vtepLinkLocal, vtepMac } from '../../../agent/dataplane/plan/vtep.js';
import type { AgentStatus } from '../../../agent/status/types.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab, startAgents } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

describe.skipIf(needs.skip)(`IPv6-only nodes with real agents: VXLAN over the IPv6 underlay (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  const pods: Record<string, CniPod> = {};

  beforeAll(async () => {
    lab = await createLab({ nodes: 2, fabric: 'routed' });
    cluster = await createAgentCluster(lab, { ipv6: true });
    await cluster.writeManifest('nodes.yaml', lab.nodes.map((n) => ({
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name }, annotations: { 'margay.io/bgp-ipv6-address': `${n.address6}/${n.subnet6.split('/')[1]}`, 'margay.io/router-id': `10.255.0.${n.index}` } },
    })));
    await cluster.writeManifest('ippool.yaml', [
      { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool' }, spec: { cidr: POD_POOL_V4, blockSize: 26 } },
      { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool-v6' }, spec: { cidr: POD_POOL_V6, blockSize: 122, vxlanMode: 'Always' } },
    ]);
    await startAgents(cluster, ['n1', 'n2']);
    pods.a = await cluster.addPod('n1', 'a');
    pods.b = await cluster.addPod('n2', 'b');
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('the session runs over IPv6; the other node\'s IPv6 block goes via its VTEP link-local on vxlan-v6.margay; pods ping each other over IPv6', async () => {
    const c = cluster as AgentCluster;
    const n1 = await waitFor(async () => {
      const s: AgentStatus | undefined = await c.status('n1').catch(() => undefined);
      return s && s.peers[0]?.fsm === 'Established' && s.routes.some((r) => r.reason === 'vxlan to n2 (IPv6 underlay)') ? s : undefined;
    }, 30_000, 'n1 routes n2\'s IPv6 block through vxlan-v6.margay', 200);
    expect(n1.peers.map((p) => p.address)).toEqual([c.lab.node('n2').address6]);
    expect(n1.routes.find((r) => r.reason === 'vxlan to n2 (IPv6 underlay)')?.via).toBe(`via ${vtepLinkLocal(vtepMac('n2'))} dev vxlan-v6.margay`);
    const dev = (await c.lab.exec(c.lab.node('n1').ns, ['ip', '-d', 'link', 'show', 'vxlan-v6.margay'])).stdout;
    expect(dev).toContain(`vxlan id 4096 local ${c.lab.node('n1').address6}`);
    expect((await c.lab.exec(c.lab.node('n1').ns, ['ip', 'link', 'show'])).stdout).not.toContain('vxlan.margay:');
    // margay status: the one tunnel device, with the link-local the kernel gave it (n2 routes n1's blocks via it); no IPv4 tunnel address
    expect(n1.tunnels).toEqual([{ type: 'vxlan-v6', device: 'vxlan-v6.margay', address6: vtepLinkLocal(vtepMac('n1')), mac: vtepMac('n1') }]);
    expect((await c.lab.exec(c.lab.node('n1').ns, ['ip', '-6', 'addr', 'show', 'dev', 'vxlan-v6.margay'])).stdout).toContain(`inet6 ${vtepLinkLocal(vtepMac('n1'))}/64 scope link`);
    expect(await waitFor(async () => (await c.lab.ping(pods.a!.netns, pods.b!.ipv6!, { count: 1, timeoutS: 1 })).ok, 15_000, 'a → b over IPv6', 100)).toBe(true);
    expect(await waitFor(async () => (await c.lab.ping(pods.b!.netns, pods.a!.ipv6!, { count: 1, timeoutS: 1 })).ok, 15_000, 'b → a over IPv6', 100)).toBe(true);
  }, 90_000);
});

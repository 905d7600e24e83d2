/**
 * Route-reflector topology with real agents: the mesh is off, n1 carries a cluster
 * ID and the label the BGPPeer's peerSelector picks, every node peers with it.
 * n2 and n3 have one session each (to n1), learn each other's blocks through the
 * reflector with the original next hop, and their pods reach each other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab, startAgents, waitMeshedAndReady } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

describe.skipIf(needs.skip)(`route reflector topology with real agents (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  const pods: Record<string, CniPod> = {};

  beforeAll(async () => {
    lab = await createLab({ nodes: 3, fabric: 'l2' });
    cluster = await createAgentCluster(lab, {
      nodeMeta: (n) => (n === 'n1' ? { labels: { 'route-reflector': 'true' }, annotations: { 'margay.io/route-reflector-cluster-id': '224.0.0.1' } } : {}),
      manifests: {
        'bgp.yaml': [
          { apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } },
          { apiVersion: 'margay.io/v1', kind: 'BGPPeer', metadata: { name: 'to-rr' }, spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" } },
        ],
      },
    });
    await startAgents(cluster, ['n1', 'n2', 'n3']);
    pods.b = await cluster.addPod('n2', 'b');
    pods.c = await cluster.addPod('n3', 'c');
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('clients have one session, to the reflector; the reflector has one per client; routes keep the original next hop', async () => {
    const c = cluster as AgentCluster;
    // the reflector has a session per client, each client one (to the reflector)
    const sts = await waitMeshedAndReady(c, ['n1', 'n2', 'n3'], (n) => (n === 'n1' ? 2 : 1), { intervalMs: 200 });
    expect(sts.get('n1')!.peers.map((p) => [p.address, p.type])).toEqual([['172.30.0.12', 'route reflector'], ['172.30.0.13', 'route reflector']]);
    for (const n of ['n2', 'n3']) {
      expect(sts.get(n)!.peers.map((p) => [p.address, p.type, p.passive])).toEqual([['172.30.0.11', 'route reflector', true]]);
    }
    const n2 = await waitFor(async () => {
      const s = await c.status('n2');
      return s.routes.find((r) => r.reason === 'direct to n3') ? s : undefined;
    }, 15_000, 'n2 learns n3\'s block through n1', 100);
    expect(n2.routes.find((r) => r.reason === 'direct to n3')?.via).toBe('via 172.30.0.13 dev eth0');
    expect(await waitFor(async () => (await c.lab.ping(pods.b!.netns, pods.c!.ipv4, { count: 1, timeoutS: 1 })).ok, 10_000, 'b → c', 100)).toBe(true);
  }, 90_000);
});

/**
 * A borrowed address is reachable (3 nodes, full mesh, a /29 pool of two /30
 * blocks, strictAffinity off as the agent leaves it): n1's and n2's first pods claim
 * the two blocks, so n3's pod can only borrow an address in another node's block.
 * n3 originates a /32 for it; every node routes that /32 to n3 — n2 (a third node)
 * as any learned route, and the block's owner too, over its own block's blackhole.
 * Pods on both other nodes reach it; the /32 is withdrawn when the pod goes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { blockOf, destroyAgentLab, margayRoutes, waitMeshedAndReady } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });
const N3 = '172.30.0.13';

describe.skipIf(needs.skip)(`a pod with a borrowed address is reachable from the other nodes (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;

  beforeAll(async () => {
    lab = await createLab({ nodes: 3, fabric: 'l2' });
    cluster = await createAgentCluster(lab, { pool: { cidr: '10.244.0.0/29', blockSize: 30 } });
    for (const n of ['n1', 'n2', 'n3']) await cluster.startAgent(n, ['--resync', '5000']);
    await waitMeshedAndReady(cluster, ['n1', 'n2', 'n3'], 2);
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  const routes = (node: string): Promise<string> => margayRoutes(lab as Lab, node);
  const reach = async (from: CniPod, to: CniPod): Promise<boolean> => (await (lab as Lab).ping(from.netns, to.ipv4, { count: 1, timeoutS: 1 })).ok;

  it('n3\'s pod in n1\'s or n2\'s block: /32 via n3 on both other nodes, pinged from both, withdrawn on DEL', async () => {
    const c = cluster as AgentCluster;
    const p1 = await c.addPod('n1', 'p1');
    const p2 = await c.addPod('n2', 'p2');
    const p3 = await c.addPod('n3', 'p3'); // no free block left: borrowed
    const lender = blockOf(p3.ipv4, 30) === blockOf(p1.ipv4, 30) ? 'n1' : 'n2';
    expect(blockOf(p3.ipv4, 30)).toBe(blockOf((lender === 'n1' ? p1 : p2).ipv4, 30));
    expect((await c.status('n3')).blocks).toEqual([]);
    const host = `${p3.ipv4} via ${N3}`;
    for (const n of ['n1', 'n2']) await waitFor(async () => (await routes(n)).includes(host), 15_000, `${host} on ${n}`, 50);
    await waitFor(async () => await reach(p1, p3) && await reach(p2, p3), 5000, 'both pods reach the borrowed address', 200);
    expect(await reach(p3, p1)).toBe(true);

    await c.delPod(p3);
    for (const n of ['n1', 'n2']) await waitFor(async () => !(await routes(n)).includes(`${p3.ipv4} `), 15_000, `${p3.ipv4} gone from ${n}`, 50);
  }, 90_000);
});

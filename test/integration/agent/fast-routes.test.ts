/**
 * The route fast path with real agents (3-node full mesh, /30 blocks): a block n1
 * claims is announced at the claim (n1 logs it) and n3 writes its route straight
 * from the UPDATE (n3's trace says `fast`); the block's withdrawal (its pods gone,
 * the block released) is deleted the same way; and a route removed by hand comes
 * back through the full pass (the safety net: --resync 1 s here). Agents run with
 * MARGAY_TRACE_ROUTES=1 so their logs say which path wrote each route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { run } from '../../../agent/lab/exec.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { agentLog, blockOf, destroyAgentLab, margayRoutes, waitMeshedAndReady } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

describe.skipIf(needs.skip)(`route fast path with real agents (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;

  beforeAll(async () => {
    lab = await createLab({ nodes: 3, fabric: 'l2' });
    cluster = await createAgentCluster(lab, { pool: { blockSize: 30 }, env: { MARGAY_TRACE_ROUTES: '1' } });
    for (const n of ['n1', 'n2', 'n3']) await cluster.startAgent(n, ['--resync', '1000']);
    await waitMeshedAndReady(cluster, ['n1', 'n2', 'n3'], 2);
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  const routes = (node: string): Promise<string> => margayRoutes(lab as Lab, node);
  const log = (node: string): Promise<string[]> => agentLog(cluster as AgentCluster, node);
  const fastWrites = async (node: string, prefix: string): Promise<number> =>
    (await log(node)).filter((l) => l.includes('trace: learned route written') && l.includes('"kind":"fast"') && l.includes(`"${prefix}"`)).length;

  it('a claimed block is announced at the claim and written on n3 by the fast path; its withdrawal too; a route deleted by hand comes back', async () => {
    const c = cluster as AgentCluster;
    const pods: CniPod[] = [];
    // the first pod opens n1's first block (kept warm), the fifth opens a second /30
    for (let i = 0; i < 5; i++) pods.push(await c.addPod('n1', `p${i}`));
    const blocks = (await c.status('n1')).blocks.map((b) => b.cidr);
    expect(blocks).toHaveLength(2);
    const first = blockOf(pods[0]!.ipv4, 30);
    const second = blockOf(pods[4]!.ipv4, 30);
    expect([...blocks].sort()).toEqual([first, second].sort());
    expect((await log('n1')).some((l) => l.includes('ipam: block claimed, announced') && l.includes('"announced":true') && l.includes(second))).toBe(true);
    await waitFor(async () => (await routes('n3')).includes(`${second} via 172.30.0.11`), 5000, `${second} in n3's kernel`, 20);
    expect(await fastWrites('n3', second)).toBeGreaterThanOrEqual(1);

    // the second block's only pod goes: the block is released, n1 withdraws it, n3 deletes it by the fast path
    const before = await fastWrites('n3', second);
    await c.delPod(pods[4]!);
    await waitFor(async () => !(await routes('n3')).includes(second), 10_000, `${second} gone from n3's kernel`, 20);
    await waitFor(async () => (await fastWrites('n3', second)) > before, 3000, 'n3 logged the fast delete', 50);

    // the safety net: a route removed behind the agent's back is restored by the next full pass
    await run(['ip', '-n', lab!.node('n3').ns, 'route', 'del', first, 'proto', '80']);
    await waitFor(async () => (await routes('n3')).includes(`${first} via 172.30.0.11`), 5000, `${first} restored on n3`, 50);
  }, 90_000);
});

/**
 * A block released by a CNI DEL goes at once (2 nodes, full mesh, /30 blocks): n1's
 * allocator deletes its second block when that block's last pod goes (the node keeps
 * one block per pool warm), and the agent, told by the store wrapper inside the DEL,
 * withdraws it over BGP and deletes its blackhole by the fast path before the DEL is
 * answered — so n2's route to it is gone well within a second, without waiting for
 * IPAM to be re-read or a full pass (the full-pass resync is 60 s here). The warm
 * block, emptied, stays announced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { agentLog, blockOf, destroyAgentLab, margayRoutes, waitMeshedAndReady } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });
/** n2 must lose the released block's route within this long after the DEL returned */
const WITHDRAWN_WITHIN_MS = 1000;

describe.skipIf(needs.skip)(`a released block is withdrawn and unrouted at once (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;

  beforeAll(async () => {
    lab = await createLab({ nodes: 2, fabric: 'l2' });
    cluster = await createAgentCluster(lab, { pool: { blockSize: 30 } });
    for (const n of ['n1', 'n2']) await cluster.startAgent(n, ['--resync', '60000']);
    await waitMeshedAndReady(cluster, ['n1', 'n2'], 1);
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  const routes = (node: string): Promise<string> => margayRoutes(lab as Lab, node);
  const has = (table: string, prefix: string): boolean => table.split('\n').some((l) => l.startsWith(`${prefix} `) || l.startsWith(`blackhole ${prefix} `) || l === `blackhole ${prefix}`);
  const log = (node: string): Promise<string[]> => agentLog(cluster as AgentCluster, node);

  it('the last pod of a (not last) block deleted: n1 withdraws it and drops its blackhole inside the DEL, n2 loses the route within 1 s', async () => {
    const c = cluster as AgentCluster;
    const pods: CniPod[] = [];
    // four pods fill n1's first /30, the fifth claims a second one
    for (let i = 0; i < 5; i++) pods.push(await c.addPod('n1', `p${i}`));
    const first = blockOf(pods[0]!.ipv4, 30);
    const second = blockOf(pods[4]!.ipv4, 30);
    expect(first).not.toBe(second);
    await waitFor(async () => has(await routes('n2'), second) && has(await routes('n2'), first), 5000, `${first} and ${second} in n2's kernel`, 20);
    expect(has(await routes('n1'), second)).toBe(true); // n1's blackhole

    await c.delPod(pods[4]!);
    const t0 = performance.now();
    // the blackhole went before the DEL was answered (no wait)
    expect(has(await routes('n1'), second)).toBe(false);
    await waitFor(async () => !has(await routes('n2'), second), WITHDRAWN_WITHIN_MS, `${second} gone from n2's kernel within ${WITHDRAWN_WITHIN_MS} ms`, 5);
    const ms = performance.now() - t0;
    console.log(`released block ${second} gone from n2's kernel ${ms.toFixed(1)} ms after the DEL returned`);
    expect((await log('n1')).some((l) => l.includes('ipam: block released, withdrawn') && l.includes('"withdrawn":true') && l.includes(`"${second}"`))).toBe(true);
    expect((await c.status('n1')).blocks.map((b) => b.cidr)).toEqual([first]);

    // the node's last block in the pool is kept warm when emptied: still announced and routed
    for (const p of pods.slice(0, 4)) await c.delPod(p);
    await new Promise((r) => setTimeout(r, 300));
    expect(has(await routes('n2'), first)).toBe(true);
    expect((await log('n1')).some((l) => l.includes('ipam: block released') && l.includes(`"${first}"`))).toBe(false);
  }, 90_000);
});

/**
 * Dual stack with real agents: an IPv4 and an IPv6 pool, nodes with both BGP
 * addresses. One session per pair (over IPv4) carries both families; each node's
 * kernel routes the other nodes' IPv6 blocks via their IPv6 addresses, and pods
 * reach each other over IPv6 across nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import type { AgentStatus } from '../../../agent/status/types.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab, startAgents } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

describe.skipIf(needs.skip)(`dual-stack pods with real agents (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  const pods: Record<string, CniPod> = {};

  beforeAll(async () => {
    lab = await createLab({ nodes: 2, fabric: 'l2' });
    cluster = await createAgentCluster(lab, { ipv6: true });
    await startAgents(cluster, ['n1', 'n2']);
    pods.a = await cluster.addPod('n1', 'a');
    pods.b = await cluster.addPod('n2', 'b');
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('one IPv4 session carries both families; IPv6 blocks are routed via the nodes\' IPv6 addresses; pods reach each other over IPv6', async () => {
    const c = cluster as AgentCluster;
    expect(pods.a!.ipv6).toMatch(/^fd44:/);
    expect(pods.b!.ipv6).toMatch(/^fd44:/);
    const n1 = await waitFor(async () => {
      const s: AgentStatus | undefined = await c.status('n1').catch(() => undefined);
      return s && s.peers.length === 1 && s.peers[0]!.fsm === 'Established' && s.routes.some((r) => r.prefix.startsWith('fd44:') && r.reason === 'direct to n2') ? s : undefined;
    }, 30_000, 'n1 routes n2\'s IPv6 block', 200);
    expect(n1.peers[0]!.address).toBe(c.lab.node('n2').address);
    expect(n1.routes.find((r) => r.prefix.startsWith('fd44:') && r.reason === 'direct to n2')?.via).toBe(`via ${c.lab.node('n2').address6} dev eth0`);
    expect(n1.problems).toEqual([]);
    expect(await waitFor(async () => (await c.lab.ping(pods.a!.netns, pods.b!.ipv6!, { count: 1, timeoutS: 1 })).ok, 10_000, 'a → b over IPv6', 100)).toBe(true);
    expect(await waitFor(async () => (await c.lab.ping(pods.b!.netns, pods.a!.ipv4, { count: 1, timeoutS: 1 })).ok, 10_000, 'b → a over IPv4', 100)).toBe(true);
  }, 60_000);
});

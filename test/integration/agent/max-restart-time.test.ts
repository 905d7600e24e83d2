/**
 * BGPConfiguration.nodeMeshMaxRestartTime with real agents: when n2's agent stops
 * (gracefully: peers keep its routes stale), n1 keeps n2's block for at most the
 * configured time — not the 120 s n2 announced — then removes it from its kernel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster } from '../../../agent/lab/agents.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab, margayRoutes, startAgents } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

describe.skipIf(needs.skip)(`graceful-restart time capped by nodeMeshMaxRestartTime (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;

  beforeAll(async () => {
    lab = await createLab({ nodes: 2, fabric: 'l2' });
    cluster = await createAgentCluster(lab, {
      manifests: { 'bgp.yaml': [{ apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeMeshMaxRestartTime: '3s' } }] },
    });
    await startAgents(cluster, ['n1', 'n2']);
    await cluster.addPod('n2', 'b');
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('n2\'s routes stay stale on n1 after n2 stops, then go after ~3 s', async () => {
    const c = cluster as AgentCluster;
    const block = (await waitFor(async () => (await c.status('n2')).blocks[0]?.cidr, 10_000, 'n2 block', 100)) as string;
    const routes = (): Promise<string> => margayRoutes(c.lab, 'n1');
    await waitFor(async () => (await routes()).includes(block), 20_000, 'n1 routes n2\'s block', 100);
    await c.stopAgent('n2');
    const stopped = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await routes()).toContain(block); // kept stale: graceful restart
    expect((await c.status('n1')).peers[0]?.stale).toBe(1);
    await waitFor(async () => !(await routes()).includes(block), 10_000, 'stale route swept', 100);
    const kept = Date.now() - stopped;
    expect(kept).toBeGreaterThan(2500);
    expect(kept).toBeLessThan(8000);
  }, 60_000);
});

/**
 * An agent told to use an uplink device that does not exist programs no routes, and
 * says so where an operator looks: `margay status` problems name the failed routes
 * pass and the device, and the agent is not ready because of it (status readiness
 * reasons, the same as `/readyz` serves).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster } from '../../../agent/lab/agents.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

describe.skipIf(needs.skip)(`an --uplink naming no device shows in status (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;

  beforeAll(async () => {
    lab = await createLab({ nodes: 1, fabric: 'l2' });
    cluster = await createAgentCluster(lab, {});
    await cluster.startAgent('n1', ['--uplink', 'nosuchdev0']);
  }, 60_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('status problems name the failed routes pass and the missing device', async () => {
    const c = cluster as AgentCluster;
    const s = await waitFor(async () => {
      const st = await c.status('n1').catch(() => undefined);
      return st?.problems.some((p) => p.startsWith('routes pass failed:')) ? st : undefined;
    }, 20_000, 'the routes pass failure in n1 status', 100);
    const line = s.problems.find((p) => p.startsWith('routes pass failed:'));
    expect(line).toMatch(/nosuchdev0/);
    expect(s.ready).toBe(false);
    // not ready for this reason, not merely because start-up has not finished
    expect(s.reasons.find((r) => r.startsWith('routes: the last pass failed'))).toMatch(/nosuchdev0/);
  });
});

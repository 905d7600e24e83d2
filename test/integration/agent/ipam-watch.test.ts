/**
 * The agents watch IPAM records instead of re-listing them: with a VXLAN pool, a node
 * that joins later (n2) allocates its tunnel address from IPAM, and the agent already
 * running (n1) programs n2's VTEP (the permanent neighbour entry on vxlan.margay)
 * within a bound far below the 2 s the file datastore used to re-list at (here
 * 500 ms from n2's allocation; a 2 s poll would miss it three times in four).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster } from '../../../agent/lab/agents.js';
import { run } from '../../../agent/lab/exec.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });
const BOUND_MS = 500;

describe.skipIf(needs.skip)(`IPAM records watched by the agents (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;

  beforeAll(async () => {
    lab = await createLab({ nodes: 2, fabric: 'l2' });
    cluster = await createAgentCluster(lab, { pool: { vxlanMode: 'Always' } });
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('a node that joins later: its VXLAN tunnel address reaches the running agent within the bound', async () => {
    const c = cluster as AgentCluster;
    await c.startAgent('n1', ['--bgp-sync-timeout', '500']);
    await waitFor(async () => (await c.status('n1').catch(() => undefined))?.ready === true || undefined, 30_000, 'n1 ready', 50);
    const neighs = async (): Promise<string> => (await run(['ip', '-n', c.lab.node('n1').ns, 'neigh', 'show', 'dev', 'vxlan.margay', 'nud', 'permanent'])).stdout;
    expect(await neighs()).toBe('');

    await c.startAgent('n2', ['--bgp-sync-timeout', '500']);
    // n2's allocation, as it logs it (pino's time: wall-clock ms)
    const allocated = await waitFor(async () => {
      const line = (await readFile(c.agentProcess('n2')!.logFile, 'utf8')).split('\n').find((l) => l.includes('VXLAN tunnel address allocated'));
      return line ? JSON.parse(line) as { time: number; address: string[] } : undefined;
    }, 30_000, 'n2 allocates its tunnel address', 5);
    const address = allocated.address[0] as string;
    await waitFor(async () => (await neighs()).includes(address), 5000, `n2's VTEP ${address} on n1`, 5);
    const seenAfter = Date.now() - allocated.time;
    process.stdout.write(`n2's tunnel address programmed on n1 ${seenAfter} ms after n2 allocated it\n`);
    expect(seenAfter).toBeLessThan(BOUND_MS);
  }, 90_000);
});

/**
 * The agent turns node-wide forwarding on at start (as felix's IPForwarding=Enabled):
 * a node namespace with net.ipv4.ip_forward=0 and net.ipv6.conf.all.forwarding=0 has
 * both at 1 once the agent runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster } from '../../../agent/lab/agents.js';
import { netnsExec } from '../../../agent/lab/netns.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

describe.skipIf(needs.skip)(`the agent turns node forwarding on at start (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  const sysctl = async (k: string): Promise<string> => (await netnsExec((lab as Lab).node('n1').ns, ['sysctl', '-n', k])).stdout.trim();

  beforeAll(async () => {
    lab = await createLab({ nodes: 1, fabric: 'l2' });
    cluster = await createAgentCluster(lab, {});
    await netnsExec(lab.node('n1').ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=0', 'net.ipv6.conf.all.forwarding=0']);
  }, 60_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('ip_forward and IPv6 forwarding go from 0 to 1', async () => {
    expect(await sysctl('net.ipv4.ip_forward')).toBe('0');
    await (cluster as AgentCluster).startAgent('n1');
    await waitFor(async () => ((await sysctl('net.ipv4.ip_forward')) === '1' ? true : undefined), 20_000, 'ip_forward=1 in n1', 100);
    expect(await sysctl('net.ipv6.conf.all.forwarding')).toBe('1');
  });
});

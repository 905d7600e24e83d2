/**
 * Shared set-up and tear-down for tests that run real agents in a lab
 * (agent/lab/agents.ts): start agents and wait for their status sockets; destroy
 * the agents and the lab, keeping (and naming) the logs when MARGAY_KEEP_LOGS is set.
 */
import { existsSync } from 'node:fs';
import type { AgentCluster } from '../../agent/lab/agents.js';
import type { Lab } from '../../agent/lab/lab.js';
import { waitFor } from './wait.js';

/** Starts each node's agent (with `args(node)` added), then waits (bounded) until every one serves its status socket. */
export async function startAgents(cluster: AgentCluster, nodes: readonly string[], args: (node: string) => string[] = () => [], timeoutMs = 20_000): Promise<void> {
  for (const n of nodes) await cluster.startAgent(n, args(n));
  for (const n of nodes) await waitFor(() => existsSync(cluster.statusSocket(n)), timeoutMs, `agent ${n} status socket`, 50);
}

/** afterAll: stops the agents, removes the lab; MARGAY_KEEP_LOGS=1 keeps the logs and says where. */
export async function destroyAgentLab(lab: Lab | undefined, cluster: AgentCluster | undefined): Promise<void> {
  const keepLogs = process.env.MARGAY_KEEP_LOGS !== undefined;
  if (lab && keepLogs) process.stderr.write(`agent logs: ${lab.logDir}\n`);
  await cluster?.destroy().catch(() => undefined);
  await lab?.destroy({ keepLogs });
}

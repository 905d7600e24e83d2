/**
 * Shared set-up and tear-down for tests that run real agents in a lab
 * (agent/lab/agents.ts): start agents and wait for their status sockets or for a
 * meshed, ready status; read what they did (margay's routes, their logs); destroy the
 * agents and the lab, keeping (and naming) the logs when MARGAY_KEEP_LOGS is set.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AgentCluster } from '../../agent/lab/agents.js';
import { run } from '../../agent/lab/exec.js';
import type { Lab } from '../../agent/lab/lab.js';
import type { AgentStatus } from '../../agent/status/types.js';
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

/** What `waitMeshedAndReady` waits for besides the sessions and readiness, and how long. */
export interface MeshWaitOptions {
  /** a further condition on each node's status (its routes, its AS, the peers' type) */
  also?: (s: AgentStatus, node: string) => boolean;
  /** per node; default 30 s */
  timeoutMs?: number;
  /** between polls; default 100 ms */
  intervalMs?: number;
  /** the status call's own timeout; default the cluster's */
  statusTimeoutMs?: number;
  /** names the wait in the timeout error; default "meshed and ready" */
  what?: string;
}

/**
 * Waits (bounded, node after node) until each node's agent has `peers` sessions (a
 * count, or a count per node), all Established, is ready, and meets `opts.also`;
 * returns the status each node had when it did.
 */
export async function waitMeshedAndReady(cluster: AgentCluster, nodes: readonly string[], peers: number | ((node: string) => number), opts: MeshWaitOptions = {}): Promise<Map<string, AgentStatus>> {
  const { also, timeoutMs = 30_000, intervalMs = 100, statusTimeoutMs, what = 'meshed and ready' } = opts;
  const out = new Map<string, AgentStatus>();
  for (const n of nodes) {
    const want = typeof peers === 'number' ? peers : peers(n);
    out.set(n, await waitFor(async () => {
      const s = await cluster.status(n, statusTimeoutMs).catch(() => undefined);
      return s && s.peers.length === want && s.peers.every((p) => p.fsm === 'Established') && s.ready && (!also || also(s, n)) ? s : undefined;
    }, timeoutMs, `${n} ${what}`, intervalMs));
  }
  return out;
}

/** The block of `blockSize` holding an IPv4 address ("10.244.0.5", 30 → "10.244.0.4/30"). */
export function blockOf(ip: string, blockSize: number): string {
  const o = ip.split('.').map(Number) as [number, number, number, number];
  const n = ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
  const b = blockSize === 0 ? 0 : (n & ((0xffffffff << (32 - blockSize)) >>> 0)) >>> 0;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${blockSize}`;
}

/** margay's routes (protocol 80) in a node's kernel, as `ip route show` prints them. */
export async function margayRoutes(lab: Lab, node: string): Promise<string> {
  return (await run(['ip', '-n', lab.node(node).ns, 'route', 'show', 'proto', '80'])).stdout;
}

/** A node's agent log, by line. */
export async function agentLog(cluster: AgentCluster, node: string): Promise<string[]> {
  const p = cluster.agentProcess(node);
  if (!p) throw new Error(`no agent runs on ${node}`);
  return (await readFile(p.logFile, 'utf8')).split('\n');
}

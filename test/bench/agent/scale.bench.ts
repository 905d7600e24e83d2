/**
 * Scale (issue 6): a 10-node lab (BENCH_QUICK=1: 5) of real agents, once in full
 * mesh and once with a route reflector (n1, mesh off). Per topology: BGP sessions
 * per agent, time from starting the agents to every node's kernel holding every
 * other node's block, and from the last pod's CNI ADD to that state; CPU time per
 * agent until converged and while idle afterwards; RSS per agent. Needs root.
 */
import { existsSync } from 'node:fs';
import { createLab } from '../../../agent/lab/lab.js';
import { createAgentCluster, MARGAY_JS, type AgentCluster } from '../../../agent/lab/agents.js';
import { isRoot } from '../../../agent/lab/netns.js';
import type { LabProcess } from '../../../agent/lab/lab.js';
import { labTopologyNodes } from '../../../agent/lab/topology/lab-nodes.js';
import { labNodeObject, planTopology, type TopologyOptions } from '../../../agent/lab/topology/manifests.js';
import type { Emit } from '../run.js';
import { procStats, QUICK, round } from './support.js';

const NODES = QUICK ? 5 : 10;
const PODS_PER_NODE = QUICK ? 1 : 2;
const IDLE_MS = QUICK ? 2000 : 5000;
const BENCH = 'agent/scale';

const mean = (xs: number[]): number => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), 1);
const max = (xs: number[]): number => round(Math.max(...xs), 1);

async function one(emit: Emit, opts: TopologyOptions): Promise<void> {
  const lab = await createLab({ nodes: NODES, fabric: 'l2' });
  let cluster: AgentCluster | undefined;
  try {
    const nodes = labTopologyNodes(lab);
    const plan = planTopology(nodes, opts);
    cluster = await createAgentCluster(lab, { manifests: { 'nodes.yaml': nodes.map((n) => labNodeObject(n, plan)), 'topology.yaml': plan.objects } });
    const c = cluster;
    const t0 = performance.now();
    const procs: LabProcess[] = [];
    for (const n of lab.nodes) procs.push(await c.startAgent(n.name));
    const cpu0 = procs.map((p) => procStats(p.pid).cpuMs);
    const deadline = Date.now() + 60_000;
    for (const n of lab.nodes) {
      while (!existsSync(c.statusSocket(n.name))) {
        if (Date.now() > deadline) throw new Error(`agent ${n.name} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    for (let k = 1; k <= PODS_PER_NODE; k++) for (const n of lab.nodes) await c.addPod(n.name, `p${k}`);
    const tPods = performance.now();
    const blocks = new Map<string, string[]>();
    for (const n of lab.nodes) blocks.set(n.name, (await c.status(n.name)).blocks.map((b) => b.cidr));
    const pending = new Set(lab.nodes.map((n) => n.name));
    while (pending.size > 0) {
      if (Date.now() > deadline + 60_000) throw new Error(`not converged: ${[...pending].join(', ')}`);
      for (const name of [...pending]) {
        const routes = (await lab.exec(lab.node(name).ns, ['ip', '-4', 'route', 'show', 'proto', '80'])).stdout;
        const want = lab.nodes.filter((m) => m.name !== name).flatMap((m) => (blocks.get(m.name) ?? []).map((b) => `${b} via ${m.address} `));
        if (want.every((w) => routes.includes(w))) pending.delete(name);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 50));
    }
    const tConv = performance.now();
    const cpuConv = procs.map((p, i) => procStats(p.pid).cpuMs - (cpu0[i] as number));
    const cpu1 = procs.map((p) => procStats(p.pid).cpuMs);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = procs.map((p, i) => procStats(p.pid).cpuMs - (cpu1[i] as number));
    const rss = procs.map((p) => procStats(p.pid).rssMB);
    const sessions = await Promise.all(lab.nodes.map(async (n) => (await c.status(n.name)).peers.filter((p) => p.fsm === 'Established').length));
    emit({
      bench: BENCH, topology: plan.kind, nodes: NODES, podsPerNode: PODS_PER_NODE,
      sessionsPerAgent: { mean: mean(sessions), max: Math.max(...sessions) },
      startToConvergedMs: round(tConv - t0, 1), lastPodToConvergedMs: round(tConv - tPods, 1),
      cpuMsUntilConverged: { mean: mean(cpuConv), max: max(cpuConv) },
      idleCpuPercent: { mean: round((mean(idle) / IDLE_MS) * 100, 2), max: round((max(idle) / IDLE_MS) * 100, 2) },
      rssMB: { mean: mean(rss), max: max(rss) },
      ...(plan.kind === 'route-reflector' ? { reflector: { cpuMsUntilConverged: cpuConv[0], rssMB: rss[0] } } : {}),
    });
  } finally {
    await cluster?.destroy().catch(() => undefined);
    await lab.destroy();
  }
}

export async function run(emit: Emit): Promise<void> {
  if (!isRoot()) {
    process.stderr.write(`${BENCH}: skipped, needs root (network namespaces)\n`);
    return;
  }
  if (!existsSync(MARGAY_JS)) {
    process.stderr.write(`${BENCH}: skipped, ${MARGAY_JS} missing (build first)\n`);
    return;
  }
  await one(emit, { kind: 'mesh' });
  await one(emit, { kind: 'route-reflector', reflector: 'n1' });
}

/**
 * The probe's model run by the real agents: one `margay agent` per node namespace
 * on a shared file datastore (agent/lab/agents.ts), every model pod created through
 * margay-cni with its labels and named container ports, and the model's Namespace
 * objects, Pod objects and NetworkPolicies written into the datastore directory.
 * `enforce` rewrites those manifests and waits (bounded) until every agent reports
 * the policies enforced.
 *
 * Pod addresses come from the agents' IPAM (dual stack: the lab pools), so they
 * differ from the plan addresses `--print-model` shows for `--direct`.
 */
import { createAgentCluster, type AgentCluster } from '../agents.js';
import type { Lab } from '../lab.js';
import type { AgentStatus } from '../../status/types.js';
import { MODEL_PORTS, podId, type Model, type ModelPod } from './model.js';

type Obj = Record<string, unknown>;

export const POLICIES_FILE = 'probe-policies.yaml';
const NAMESPACES_FILE = 'probe-namespaces.yaml';

/** The container ports every model pod declares (the names policies refer to). */
export const MODEL_CONTAINER_PORTS = MODEL_PORTS.flatMap((port) => (['TCP', 'UDP', 'SCTP'] as const).map((protocol) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, containerPort: port, protocol })));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const namespaceDocs = (m: Model): object[] => m.namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: { ...n.labels } } }));

/** Same file and shape as AgentCluster.addPod writes, with the model's current labels. */
const podFile = (p: { namespace: string; name: string }): string => `pod-${p.namespace}-${p.name}.yaml`;
const podDoc = (p: ModelPod): object => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: { ...p.labels } },
  spec: { nodeName: p.node, containers: [{ name: 'c', image: 'none', ports: MODEL_CONTAINER_PORTS }] },
});

export interface AgentsModel {
  cluster: AgentCluster;
  /** podId → the pod's network namespace */
  netns: Map<string, string>;
  /** podId → the addresses the agents assigned */
  ips: Map<string, { ipv4: string; ipv6: string }>;
}

async function statuses(cluster: AgentCluster, nodes: string[]): Promise<(AgentStatus | undefined)[]> {
  return Promise.all(nodes.map((n) => cluster.status(n).catch(() => undefined)));
}

/** Starts the agents, waits for the BGP mesh, creates every model pod through margay-cni. */
export async function startAgentsModel(lab: Lab, model: Model, say: (l: string) => void, timeoutMs = 60_000): Promise<AgentsModel> {
  const cluster = await createAgentCluster(lab, { ipv6: true, manifests: { [NAMESPACES_FILE]: namespaceDocs(model) } });
  try {
    for (const n of lab.nodes) await cluster.startAgent(n.name);
    say(`agents started on ${lab.nodes.map((n) => n.name).join(', ')}; waiting for the BGP mesh`);
    const nodes = lab.nodes.map((n) => n.name);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const all = await statuses(cluster, nodes);
      if (all.every((s) => s !== undefined && s.peers.length === nodes.length - 1 && s.peers.every((p) => p.fsm === 'Established'))) break;
      if (Date.now() > end) throw new Error(`probe: agents' BGP mesh not Established within ${timeoutMs} ms: ${all.map((s, i) => `${nodes[i]}: ${s ? s.peers.map((p) => `${p.address} ${p.fsm}`).join(' ') : 'no status'}`).join('; ')}`);
      await sleep(300);
    }
    const netns = new Map<string, string>();
    const ips = new Map<string, { ipv4: string; ipv6: string }>();
    for (const mp of model.pods) {
      const pod = await cluster.addPod(mp.node, mp.name, { namespace: mp.namespace, labels: { ...mp.labels }, ports: MODEL_CONTAINER_PORTS });
      if (!pod.ipv6) throw new Error(`probe: margay-cni gave ${podId(mp)} no IPv6 address`);
      netns.set(podId(mp), pod.netns);
      ips.set(podId(mp), { ipv4: pod.ipv4, ipv6: pod.ipv6 });
      say(`pod ${podId(mp)} on ${mp.node} (margay-cni): ${pod.ipv4} ${pod.ipv6}`);
    }
    say(`${model.pods.length} pods created through margay-cni; waiting for every agent to enforce the policies`);
    return { cluster, netns, ips };
  } catch (err) {
    await cluster.destroy().catch(() => undefined);
    throw err;
  }
}

/**
 * Writes the model's Namespaces and Pods and these NetworkPolicies into the
 * datastore, then waits until every agent enforces exactly `validPolicies`
 * policies for its local pods, its last apply succeeded, and its apply count has
 * moved since the write (or stayed put for 3 s: nothing to change) and is stable.
 * Resolves the number of applies the agents made meanwhile.
 */
export async function enforceWithAgents(am: AgentsModel, model: Model, policies: Obj[], validPolicies: number, timeoutMs = 30_000): Promise<number> {
  const { cluster } = am;
  const nodes = model.nodes;
  const before = (await statuses(cluster, nodes)).map((s) => s?.policy.applies ?? 0);
  await cluster.writeManifest(NAMESPACES_FILE, namespaceDocs(model));
  for (const p of model.pods) await cluster.writeManifest(podFile(p), [podDoc(p)]);
  const docs = policies.map((o) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...o }));
  if (docs.length > 0) await cluster.writeManifest(POLICIES_FILE, docs);
  else await cluster.removeManifest(POLICIES_FILE);
  const written = Date.now();
  const localPods = (node: string): number => model.pods.filter((p) => p.node === node).length;
  let prev: string | undefined;
  let last: (AgentStatus | undefined)[] = [];
  for (;;) {
    await sleep(400);
    last = await statuses(cluster, nodes);
    const ok = last.every((s, i) => s !== undefined && s.policy.synced && s.policy.policies === validPolicies && s.policy.localPods === localPods(nodes[i] as string)
      && (s.policy.applies > (before[i] ?? 0) || Date.now() - written > 3000));
    const sig = last.map((s) => s?.policy.applies ?? -1).join(',');
    if (ok && sig === prev) break;
    prev = ok ? sig : undefined;
    if (Date.now() - written > timeoutMs) {
      const why = last.map((s, i) => `${nodes[i]}: ${s ? `policies ${s.policy.policies}/${validPolicies}, local pods ${s.policy.localPods}/${localPods(nodes[i] as string)}, synced ${s.policy.synced}${s.policy.lastError ? `, ${s.policy.lastError}` : ''}` : 'no status'}`);
      throw new Error(`probe: agents did not enforce the policies within ${timeoutMs} ms (${why.join('; ')})`);
    }
  }
  return last.reduce((sum, s, i) => sum + (s?.policy.applies ?? 0) - (before[i] ?? 0), 0);
}

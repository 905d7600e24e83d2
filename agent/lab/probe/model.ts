/**
 * The standard conformance model (as in the upstream e2e suite and Cyclonus):
 * namespaces x, y, z labelled `ns=<name>` and `kubernetes.io/metadata.name=<name>`,
 * pods a, b, c in each labelled `pod=<name>`, each serving TCP, UDP (and SCTP) on
 * 80 and 81 with container ports named serve-<port>-<proto>. Pods are spread over
 * the nodes round-robin and get deterministic addresses (podAddress of the lab
 * plan), so the same options always give the same IPs. Pure.
 *
 * Extra objects from the policy directory relabel the model: `Namespace` objects
 * add their labels to the namespace, `Pod` stubs (name, namespace, labels) to the pod.
 */
import { podAddress } from '../plan.js';
import type { NamespaceInfo, PodInfo, Snapshot } from '../../../policy/model/snapshot.js';
import { workloadInterfaceName } from '../../../policy/resolve/interface-name.js';
import type { Protocol } from '../../../policy/model/types.js';

export const MODEL_NAMESPACES = ['x', 'y', 'z'] as const;
export const MODEL_PODS = ['a', 'b', 'c'] as const;
export const MODEL_PORTS = [80, 81] as const;

export interface ModelPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  node: string;
  nodeIndex: number;
  ips: { ipv4: string; ipv6: string };
  /** Host-side veth name (the dispatch matches it). */
  iface: string;
}

export interface Model {
  nodes: string[];
  namespaces: NamespaceInfo[];
  pods: ModelPod[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const labelsOf = (o: Obj): Record<string, string> => {
  const meta = isObj(o.metadata) ? o.metadata : {};
  const out: Record<string, string> = {};
  if (isObj(meta.labels)) for (const [k, v] of Object.entries(meta.labels)) if (typeof v === 'string') out[k] = v;
  return out;
};
const metaName = (o: Obj, key: 'name' | 'namespace'): string | undefined => {
  const meta = isObj(o.metadata) ? o.metadata : {};
  return typeof meta[key] === 'string' ? (meta[key] as string) : undefined;
};

export function buildModel(nodeCount: number, extra: Obj[] = []): Model {
  const nodes = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
  const namespaces: NamespaceInfo[] = MODEL_NAMESPACES.map((n) => ({ name: n, labels: { ns: n, 'kubernetes.io/metadata.name': n } }));
  const pods: ModelPod[] = [];
  const perNode = new Map<number, number>();
  let i = 0;
  for (const ns of MODEL_NAMESPACES) {
    for (const name of MODEL_PODS) {
      const nodeIndex = (i++ % nodeCount) + 1;
      const k = (perNode.get(nodeIndex) ?? 0) + 1;
      perNode.set(nodeIndex, k);
      pods.push({ namespace: ns, name, labels: { pod: name }, node: `n${nodeIndex}`, nodeIndex, ips: podAddress(nodeIndex, k), iface: workloadInterfaceName(ns, name) });
    }
  }
  for (const o of extra) {
    if (o.kind === 'Namespace') {
      const ns = namespaces.find((n) => n.name === metaName(o, 'name'));
      if (ns) Object.assign(ns.labels, labelsOf(o));
    } else if (o.kind === 'Pod') {
      const p = pods.find((x) => x.name === metaName(o, 'name') && x.namespace === (metaName(o, 'namespace') ?? 'default'));
      if (p) Object.assign(p.labels, labelsOf(o));
    }
  }
  return { nodes, namespaces, pods };
}

const PROTOS: Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** The model as the policy compiler's snapshot. */
export function modelSnapshot(m: Model): Snapshot {
  const pods: PodInfo[] = m.pods.map((p) => ({
    namespace: p.namespace,
    name: p.name,
    labels: { ...p.labels },
    ips: [p.ips.ipv4, p.ips.ipv6],
    node: p.node,
    hostNetwork: false,
    phase: 'Running',
    terminating: false,
    ports: MODEL_PORTS.flatMap((port) => PROTOS.map((protocol) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, port, protocol }))),
    interface: p.iface,
  }));
  return { pods, namespaces: m.namespaces.map((n) => ({ name: n.name, labels: { ...n.labels } })) };
}

export function podId(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

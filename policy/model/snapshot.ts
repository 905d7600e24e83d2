/**
 * A cluster snapshot as the compiler sees it: pods and namespaces reduced to what
 * NetworkPolicy needs, read from Kubernetes API objects (`podFromObject`,
 * `namespaceFromObject`). Resolution works on a snapshot value, never a live cache.
 *
 * Memoised readers (`podFromObjectCached`, `namespaceFromObjectCached`): the agent
 * re-reads every pod of the cluster on every policy pass, but a datastore snapshot
 * keeps the same object for an unchanged pod (objects are immutable once stored), so
 * the result is cached per object identity in a WeakMap (state: that map only; an
 * entry lives as long as its object). A changed pod is a new object, parsed afresh.
 * Callers must treat a cached result as read-only: it is shared between passes.
 */
import { parseIp, formatIp } from './cidr.js';
import type { Protocol } from './types.js';
import { perObject } from './per-object.js';

export interface ContainerPort {
  name?: string;
  port: number;
  protocol: Protocol;
}

export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Canonical IP texts, v4 and/or v6; empty when the pod has no IP yet. */
  ips: string[];
  node?: string;
  hostNetwork: boolean;
  /** Pending | Running | Succeeded | Failed | Unknown. */
  phase: string;
  /** metadata.deletionTimestamp is set: the pod is terminating. */
  terminating: boolean;
  ports: ContainerPort[];
  /** Host-side interface name; when absent, derived by `workloadInterfaceName`. */
  interface?: string;
  /** A `margay.io/interface` annotation that is no workload veth name, ignored (for the log). */
  ignoredInterface?: string;
}

/**
 * What a workload veth may be called: `mgw` + 1 to 12 lower-case hex digits (the
 * CNI's hostIfName: 11, workloadInterfaceName: 12; ≤ 15 characters, IFNAMSIZ - 1).
 * An annotation goes into `-i/-o <iface>` as is: anything else — a space, `+`, a
 * newline, a name too long — would break every iptables-restore on the node.
 */
const WORKLOAD_IFACE_RE = /^mgw[0-9a-f]{1,12}$/;

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface Snapshot {
  pods: PodInfo[];
  namespaces: NamespaceInfo[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Reads a v1 Pod (or a stub with metadata only). Unknown fields are ignored. */
export function podFromObject(obj: unknown): PodInfo {
  const o = isObj(obj) ? obj : {};
  const meta = isObj(o.metadata) ? o.metadata : {};
  const spec = isObj(o.spec) ? o.spec : {};
  const status = isObj(o.status) ? o.status : {};
  const ips = new Set<string>();
  for (const x of list(status.podIPs)) if (isObj(x) && typeof x.ip === 'string') ips.add(x.ip);
  if (typeof status.podIP === 'string') ips.add(status.podIP);
  const canon = [...ips].map((s) => parseIp(s)).filter((x) => x !== undefined).map((x) => formatIp(x));
  const ports: ContainerPort[] = [];
  // Named ports as upstream FindPort (pkg/api/v1/pod/util.go) looks them up: the
  // containers first, then sidecar init containers (restartPolicy: Always), which keep
  // running; a plain init container has exited before the pod serves, so its ports
  // never count. Consumers take the first port with a name (`find`), so order matters.
  const sidecars = list(spec.initContainers).filter((c) => isObj(c) && c.restartPolicy === 'Always');
  for (const c of [...list(spec.containers), ...sidecars]) {
    if (!isObj(c)) continue;
    for (const p of list(c.ports)) {
      if (!isObj(p) || typeof p.containerPort !== 'number') continue;
      const protocol = p.protocol === 'UDP' || p.protocol === 'SCTP' ? p.protocol : 'TCP';
      ports.push(typeof p.name === 'string' && p.name !== '' ? { name: p.name, port: p.containerPort, protocol } : { port: p.containerPort, protocol });
    }
  }
  const annotations = strMap(meta.annotations);
  const pod: PodInfo = {
    namespace: typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default',
    name: typeof meta.name === 'string' ? meta.name : '',
    labels: strMap(meta.labels),
    ips: [...new Set(canon)],
    hostNetwork: spec.hostNetwork === true,
    phase: typeof status.phase === 'string' ? status.phase : 'Running',
    terminating: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    ports,
  };
  if (typeof spec.nodeName === 'string' && spec.nodeName !== '') pod.node = spec.nodeName;
  const iface = annotations['margay.io/interface'];
  if (iface !== undefined && WORKLOAD_IFACE_RE.test(iface)) pod.interface = iface;
  else if (iface !== undefined) pod.ignoredInterface = iface;
  return pod;
}

export function namespaceFromObject(obj: unknown): NamespaceInfo {
  const o = isObj(obj) ? obj : {};
  const meta = isObj(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  // The API server always sets kubernetes.io/metadata.name (since 1.21).
  return { name, labels: { ...strMap(meta.labels), 'kubernetes.io/metadata.name': name } };
}

/** `podFromObject` and `namespaceFromObject`, cached per object identity (per-object.ts). */
export const podFromObjectCached = perObject(podFromObject);
export const namespaceFromObjectCached = perObject(namespaceFromObject);

/**
 * Which pods take part in policy at all (documented in policy/DESIGN.md):
 * host-network pods share the node's IP and are neither selected nor peers;
 * finished pods (Succeeded/Failed) are gone from the network and their IPs may be
 * reused; terminating pods still run and stay enforced until they are removed.
 */
export function isPolicyPod(p: PodInfo): boolean {
  return !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed';
}

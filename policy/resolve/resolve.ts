/**
 * Resolution: normalised policies + a cluster snapshot → the IR for one node's local
 * pods. Pure and deterministic: every list comes out sorted.
 *
 * Spec (networking.k8s.io/v1 NetworkPolicySpec / NetworkPolicyPeer):
 * - "podSelector selects the pods to which this NetworkPolicy object applies ...
 *   An empty podSelector selects all pods in this namespace."
 * - A pod is isolated for a direction when any policy selecting it has that
 *   direction in policyTypes; it then allows the union of those policies' rules.
 * - Peer podSelector alone: "selects pods in the policy's namespace"; namespaceSelector
 *   alone: "all pods in the namespaces selected"; both: "Pods matching podSelector in
 *   the Namespaces selected by namespaceSelector".
 * - Named port: resolved against the destination pod's container ports.
 */
import type { NamespaceInfo, PodInfo, Snapshot } from '../model/snapshot.js';
import { isPolicyPod } from '../model/snapshot.js';
import { parseCidr, formatCidr } from '../model/cidr.js';
import type { Direction, Peer, Policy, PortSpec, Protocol } from '../model/types.js';
import { policyKey } from '../model/types.js';
import type { NodeIR, PeerIR, PolicyDirIR, PortIR, RuleIR, WorkloadIR } from '../ir/types.js';
import { canonicalSelector, matchesSelector } from './selector.js';
import { workloadInterfaceName } from './interface-name.js';

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

/** Does `policy` select `pod` (same namespace, podSelector matches)? */
export function policySelects(policy: Policy, pod: PodInfo): boolean {
  return policy.namespace === pod.namespace && matchesSelector(policy.podSelector, pod.labels);
}

export function policyAppliesTo(policy: Policy, direction: Direction, pod: PodInfo): boolean {
  const isolating = direction === 'ingress' ? policy.ingressIsolating : policy.egressIsolating;
  return isolating && isPolicyPod(pod) && policySelects(policy, pod);
}

/** Does a pods-peer of a policy in `policyNs` match `pod` living in `ns`? */
export function peerMatchesPod(peer: Extract<Peer, { kind: 'pods' }>, policyNs: string, pod: PodInfo, ns: NamespaceInfo | undefined): boolean {
  if (peer.namespaceSelector === undefined) {
    if (pod.namespace !== policyNs) return false;
  } else {
    // A namespace missing from the snapshot still carries the label the API server
    // always sets, so `namespaceSelector: {}` selects its pods.
    const labels = ns?.labels ?? { 'kubernetes.io/metadata.name': pod.namespace };
    if (!matchesSelector(peer.namespaceSelector, labels)) return false;
  }
  return peer.podSelector === undefined || matchesSelector(peer.podSelector, pod.labels);
}

export function peerIdentity(peer: Extract<Peer, { kind: 'pods' }>, policyNs: string): string {
  const nsPart = peer.namespaceSelector === undefined ? `ns=${policyNs}` : `nssel=${canonicalSelector(peer.namespaceSelector)}`;
  const podPart = peer.podSelector === undefined ? 'pods=*' : `pods=${canonicalSelector(peer.podSelector)}`;
  return `${nsPart} ${podPart}`;
}

function peerNamespaceMatches(peer: Extract<Peer, { kind: 'pods' }>, ns: NamespaceInfo | undefined, name: string): boolean {
  return peer.namespaceSelector === undefined || matchesSelector(peer.namespaceSelector, ns?.labels ?? { 'kubernetes.io/metadata.name': name });
}

interface Ctx {
  pods: PodInfo[];
  podsByNs: Map<string, PodInfo[]>;
  nsByName: Map<string, NamespaceInfo>;
  peerCache: Map<string, string[]>;
  namedCache: Map<string, { ip: string; port: number }[]>;
}

function resolvePeer(peer: Peer, policyNs: string, ctx: Ctx): PeerIR {
  if (peer.kind === 'ipBlock') {
    const canon = (s: string): string => formatCidr(parseCidr(s) as NonNullable<ReturnType<typeof parseCidr>>);
    return { kind: 'cidr', cidr: canon(peer.cidr), except: [...new Set(peer.except.map(canon))].sort(byString) };
  }
  const id = peerIdentity(peer, policyNs);
  let ips = ctx.peerCache.get(id);
  if (!ips) {
    const set = new Set<string>();
    // Only the namespaces the peer can reach: its policy's own, or those its
    // namespaceSelector selects (pods of a namespace missing from the snapshot too).
    const namespaces = peer.namespaceSelector === undefined
      ? [policyNs]
      : [...ctx.podsByNs.keys()].filter((n) => peerNamespaceMatches(peer, ctx.nsByName.get(n), n));
    for (const n of namespaces) {
      for (const p of ctx.podsByNs.get(n) ?? []) {
        if (p.ips.length === 0) continue;
        if (peerMatchesPod(peer, policyNs, p, ctx.nsByName.get(p.namespace))) for (const ip of p.ips) set.add(ip);
      }
    }
    ips = [...set].sort(byString);
    ctx.peerCache.set(id, ips);
  }
  return { kind: 'pods', id, ips };
}

/** (ip, port) of every policy pod that names a container port `name` with `protocol`. */
export function namedPortMembers(pods: PodInfo[], name: string, protocol: Protocol): { ip: string; port: number }[] {
  const out = new Map<string, { ip: string; port: number }>();
  for (const p of pods) {
    const cp = p.ports.find((x) => x.name === name && x.protocol === protocol);
    if (cp) for (const ip of p.ips) out.set(`${ip} ${cp.port}`, { ip, port: cp.port });
  }
  return [...out.values()].sort((a, b) => byString(a.ip, b.ip) || a.port - b.port);
}

function resolvePort(port: PortSpec, ctx: Ctx): PortIR {
  switch (port.kind) {
    case 'any':
      return { protocol: port.protocol, kind: 'any' };
    case 'number':
      return { protocol: port.protocol, kind: 'range', from: port.port, to: port.endPort };
    case 'named': {
      const key = `${port.name}/${port.protocol}`;
      let members = ctx.namedCache.get(key);
      if (!members) {
        members = namedPortMembers(ctx.pods, port.name, port.protocol);
        ctx.namedCache.set(key, members);
      }
      return { protocol: port.protocol, kind: 'named', name: port.name, members };
    }
  }
}

function resolveDirection(policy: Policy, direction: Direction, ctx: Ctx): PolicyDirIR {
  const rules: RuleIR[] = (direction === 'ingress' ? policy.ingress : policy.egress).map((r, index) => ({
    index,
    peers: r.peers === 'all' ? 'all' : r.peers.map((p) => resolvePeer(p, policy.namespace, ctx)),
    ports: r.ports === 'all' ? 'all' : r.ports.map((p) => resolvePort(p, ctx)),
  }));
  return { id: `${policyKey(policy)}/${direction}`, policy: policyKey(policy), direction, rules };
}

/**
 * The IR for the pods on `node` (all pods when node is null). Local pods are policy
 * pods (not host-network, not finished) scheduled there; peers come from the whole
 * cluster; pods without an IP are members of nothing until they get one.
 */
export function resolveNode(snapshot: Snapshot, policies: Policy[], node: string | null): NodeIR {
  const pods = snapshot.pods.filter(isPolicyPod);
  const podsByNs = new Map<string, PodInfo[]>();
  for (const p of pods) {
    const list = podsByNs.get(p.namespace);
    if (list) list.push(p);
    else podsByNs.set(p.namespace, [p]);
  }
  const ctx: Ctx = { pods, podsByNs, nsByName: new Map(snapshot.namespaces.map((n) => [n.name, n])), peerCache: new Map(), namedCache: new Map() };
  const sortedPolicies = [...policies].sort((a, b) => byString(policyKey(a), policyKey(b)));
  const local = pods.filter((p) => node === null || p.node === node).sort((a, b) => byString(podKey(a), podKey(b)));
  const used = new Map<string, { policy: Policy; direction: Direction }>();
  const workloads: WorkloadIR[] = local.map((pod) => {
    const pick = (direction: Direction): string[] | null => {
      const ids = sortedPolicies.filter((pol) => policyAppliesTo(pol, direction, pod)).map((pol) => {
        const id = `${policyKey(pol)}/${direction}`;
        used.set(id, { policy: pol, direction });
        return id;
      });
      return ids.length === 0 ? null : ids;
    };
    return {
      key: podKey(pod),
      namespace: pod.namespace,
      name: pod.name,
      iface: pod.interface ?? workloadInterfaceName(pod.namespace, pod.name),
      ips: [...pod.ips],
      ingress: pick('ingress'),
      egress: pick('egress'),
    };
  });
  const policyIRs = [...used.keys()].sort(byString).map((id) => {
    const u = used.get(id) as { policy: Policy; direction: Direction };
    return resolveDirection(u.policy, u.direction, ctx);
  });
  const problems = markInterfaceClashes(workloads);
  return problems.length === 0 ? { node, workloads, policies: policyIRs } : { node, workloads, policies: policyIRs, problems };
}

/**
 * Local pods that claim one interface name: the dispatch matches by interface, so
 * the first pod's chain would decide for both. Fail closed: each gets
 * `ifaceConflict` (rendered as a drop of that interface) and the clash is reported.
 */
function markInterfaceClashes(workloads: WorkloadIR[]): string[] {
  const byIface = new Map<string, WorkloadIR[]>();
  for (const w of workloads) {
    const same = byIface.get(w.iface);
    if (same) same.push(w);
    else byIface.set(w.iface, [w]);
  }
  const problems: string[] = [];
  for (const [iface, ws] of byIface) {
    if (ws.length < 2) continue;
    const keys = ws.map((w) => w.key);
    for (const w of ws) w.ifaceConflict = keys.filter((k) => k !== w.key);
    problems.push(`interface ${iface} is claimed by ${keys.join(', ')}: both pods dropped`);
  }
  return problems.sort(byString);
}

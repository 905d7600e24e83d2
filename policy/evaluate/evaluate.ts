/**
 * The reference oracle: a direct, unoptimised reading of the NetworkPolicy spec,
 * independent of resolve/render, used to produce expected truth tables and to
 * explain verdicts (in the style of kubernetes-sigs/kube-network-policies).
 *
 * A connection from A to B is allowed when A's egress allows it AND B's ingress
 * allows it; each side is checked only when that side is a pod policy can select.
 */
import type { PodInfo, Snapshot } from '../model/snapshot.js';
import { isPolicyPod } from '../model/snapshot.js';
import { cidrContainsIp, parseCidr, parseIp } from '../model/cidr.js';
import type { Direction, Peer, Policy, PortSpec, Protocol, Rule } from '../model/types.js';
import { policyKey } from '../model/types.js';
import { matchesSelector } from '../resolve/selector.js';

// The oracle re-reads the spec on its own rather than reuse resolve/: only label
// selector matching (tested by its own table) is shared.

/** "podSelector selects the pods to which this NetworkPolicy object applies" (in its namespace). */
function appliesTo(policy: Policy, direction: Direction, pod: PodInfo): boolean {
  // policyTypes: "List of rule types that the NetworkPolicy relates to."
  const types = direction === 'ingress' ? policy.ingressIsolating : policy.egressIsolating;
  return types && pod.namespace === policy.namespace && matchesSelector(policy.podSelector, pod.labels);
}

/** NetworkPolicyPeer with podSelector and/or namespaceSelector. */
function selectorsMatch(peer: Extract<Peer, { kind: 'pods' }>, policy: Policy, pod: PodInfo, s: Snapshot): boolean {
  if (peer.namespaceSelector !== undefined) {
    // "namespaceSelector selects namespaces using cluster-scoped labels. ... If
    // podSelector is also set, then the NetworkPolicyPeer as a whole selects the pods
    // matching podSelector in the namespaces selected by namespaceSelector."
    const ns = s.namespaces.find((n) => n.name === pod.namespace);
    if (!matchesSelector(peer.namespaceSelector, ns?.labels ?? { 'kubernetes.io/metadata.name': pod.namespace })) return false;
  } else if (pod.namespace !== policy.namespace) {
    // "Otherwise it selects the pods matching podSelector in the policy's own namespace."
    return false;
  }
  return peer.podSelector === undefined || matchesSelector(peer.podSelector, pod.labels);
}

export interface Endpoint {
  /** `namespace/name` of a pod in the snapshot, when the endpoint is a pod. */
  pod?: string;
  /** The IP the packet carries (for a pod: one of its IPs). */
  ip: string;
}

export interface Flow {
  from: Endpoint;
  to: Endpoint;
  protocol: Protocol;
  port: number;
}

export interface DirectionVerdict {
  direction: Direction;
  /** False when no policy of this direction selects the pod (or it is no pod). */
  isolated: boolean;
  allowed: boolean;
  /** Policies (ns/name) isolating the pod in this direction. */
  policies: string[];
  /** The rules that allowed it: policy and rule index. */
  allowedBy: { policy: string; rule: number }[];
  reason: string;
}

export interface Verdict {
  allowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
}

function findPod(s: Snapshot, key: string | undefined): PodInfo | undefined {
  if (key === undefined) return undefined;
  return s.pods.find((p) => `${p.namespace}/${p.name}` === key);
}

/** NetworkPolicyPeer: does the peer describe the endpoint `other`? */
function peerMatches(peer: Peer, policy: Policy, other: Endpoint, otherPod: PodInfo | undefined, s: Snapshot): boolean {
  if (peer.kind === 'ipBlock') {
    // "IPBlock describes a particular CIDR ... that is allowed ... except: a slice
    // of CIDRs that should not be included within an IPBlock".
    const ip = parseIp(other.ip);
    const cidr = parseCidr(peer.cidr);
    if (!ip || !cidr || !cidrContainsIp(cidr, ip)) return false;
    return !peer.except.some((e) => {
      const c = parseCidr(e);
      return c !== undefined && cidrContainsIp(c, ip);
    });
  }
  // podSelector / namespaceSelector describe pods: a host-network pod or an outside
  // IP is never one of them.
  if (!otherPod || !isPolicyPod(otherPod) || !otherPod.ips.includes(other.ip)) return false;
  return selectorsMatch(peer, policy, otherPod, s);
}

/** NetworkPolicyPort, checked against the destination pod (named ports) of the flow. */
function portMatches(p: PortSpec, flow: Flow, dstPod: PodInfo | undefined): boolean {
  if (p.protocol !== flow.protocol) return false;
  switch (p.kind) {
    case 'any':
      // "If this field is not provided, this matches all port names and numbers."
      return true;
    case 'number':
      // "endPort indicates that the range of ports from port to endPort ... inclusive".
      return flow.port >= p.port && flow.port <= p.endPort;
    case 'named': {
      // A named port is looked up on the destination pod's container ports.
      const cp = dstPod?.ports.find((x) => x.name === p.name && x.protocol === p.protocol);
      return cp !== undefined && cp.port === flow.port;
    }
  }
}

function ruleMatches(rule: Rule, policy: Policy, flow: Flow, other: Endpoint, otherPod: PodInfo | undefined, dstPod: PodInfo | undefined, s: Snapshot): boolean {
  // "If this field is empty or missing, this rule matches all sources/destinations."
  const peerOk = rule.peers === 'all' || rule.peers.some((p) => peerMatches(p, policy, other, otherPod, s));
  // "If this field is empty or missing, this rule matches all ports."
  const portOk = rule.ports === 'all' || rule.ports.some((p) => portMatches(p, flow, dstPod));
  return peerOk && portOk;
}

function evaluateDirection(s: Snapshot, policies: Policy[], flow: Flow, direction: Direction): DirectionVerdict {
  const self = direction === 'egress' ? flow.from : flow.to;
  const other = direction === 'egress' ? flow.to : flow.from;
  const selfPod = findPod(s, self.pod);
  const otherPod = findPod(s, other.pod);
  const dstPod = findPod(s, flow.to.pod);
  const base = { direction, policies: [] as string[], allowedBy: [] as { policy: string; rule: number }[] };
  if (!selfPod || !isPolicyPod(selfPod)) {
    return { ...base, isolated: false, allowed: true, reason: `${self.pod ?? self.ip} is not a pod policy applies to` };
  }
  const selecting = policies.filter((p) => appliesTo(p, direction, selfPod));
  if (selecting.length === 0) {
    // "By default, a pod is non-isolated for <direction>; all connections are allowed."
    return { ...base, isolated: false, allowed: true, reason: `no ${direction} policy selects ${self.pod}` };
  }
  const allowedBy: { policy: string; rule: number }[] = [];
  for (const pol of selecting) {
    const rules = direction === 'ingress' ? pol.ingress : pol.egress;
    rules.forEach((r, i) => {
      if (ruleMatches(r, pol, flow, other, otherPod, dstPod, s)) allowedBy.push({ policy: policyKey(pol), rule: i });
    });
  }
  const names = selecting.map(policyKey);
  // "Policies are additive ... the union of all ingress/egress rules of all policies
  // that apply to the pod."
  return {
    direction,
    isolated: true,
    allowed: allowedBy.length > 0,
    policies: names,
    allowedBy,
    reason: allowedBy.length > 0
      ? `allowed by ${allowedBy.map((a) => `${a.policy} ${direction}[${a.rule}]`).join(', ')}`
      : `isolated by ${names.join(', ')} and no ${direction} rule matches`,
  };
}

export function evaluate(s: Snapshot, policies: Policy[], flow: Flow): Verdict {
  if (flow.from.pod !== undefined && flow.from.pod === flow.to.pod) {
    // A pod reaching itself (even by its own IP) never leaves its network
    // namespace: "Pods cannot currently block localhost access" — no CNI filters it
    // (Cyclonus' --ignore-loopback). Reported as allowed, not isolated.
    const self = (direction: Direction): DirectionVerdict => ({ direction, isolated: false, allowed: true, policies: [], allowedBy: [], reason: 'a pod talking to itself is never filtered' });
    return { allowed: true, egress: self('egress'), ingress: self('ingress') };
  }
  const egress = evaluateDirection(s, policies, flow, 'egress');
  const ingress = evaluateDirection(s, policies, flow, 'ingress');
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}

/**
 * The normalised NetworkPolicy model (networking.k8s.io/v1). `validatePolicy` turns
 * an API object into this shape; everything downstream (resolve, evaluate, render)
 * reads only this, never the raw object, so that defaulting happens exactly once:
 * - policyTypes: given, or Ingress always plus Egress when `egress` has a rule;
 * - a port's protocol: TCP when absent;
 * - `from` / `to` / `ports`: absent or empty both mean "all" (peers: 'all', ports: 'all').
 */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export type Direction = 'ingress' | 'egress';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface SelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}

/** A metav1.LabelSelector; both parts empty selects everything. */
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: SelectorRequirement[];
}

export type Peer =
  /** podSelector and/or namespaceSelector; an absent part is undefined. */
  | { kind: 'pods'; podSelector?: LabelSelector; namespaceSelector?: LabelSelector }
  | { kind: 'ipBlock'; cidr: string; except: string[] };

export type PortSpec =
  | { protocol: Protocol; kind: 'any' }
  | { protocol: Protocol; kind: 'number'; port: number; endPort: number }
  | { protocol: Protocol; kind: 'named'; name: string };

export interface Rule {
  /** 'all': `from`/`to` absent or empty — every source/destination. */
  peers: Peer[] | 'all';
  /** 'all': `ports` absent or empty — every port of every protocol. */
  ports: PortSpec[] | 'all';
}

export interface Policy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** Which directions this policy isolates the pods it selects in. */
  ingressIsolating: boolean;
  egressIsolating: boolean;
  ingress: Rule[];
  egress: Rule[];
}

export function policyKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

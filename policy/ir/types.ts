/**
 * The intermediate representation: per local pod, which policy directions apply
 * (none = unrestricted in that direction), and per policy direction its rules with
 * peers and ports fully resolved against a snapshot. Rendering reads only this.
 */
import type { Direction, Protocol } from '../model/types.js';

export type PeerIR =
  /** Pods chosen by selectors: `id` is the canonical selector identity, `ips` the members. */
  | { kind: 'pods'; id: string; ips: string[] }
  /** An ipBlock: CIDR minus the except CIDRs (canonical texts). */
  | { kind: 'cidr'; cidr: string; except: string[] };

export type PortIR =
  | { protocol: Protocol; kind: 'any' }
  | { protocol: Protocol; kind: 'range'; from: number; to: number }
  /**
   * A named port, resolved per destination pod: `members` lists (pod IP, number)
   * for every pod whose container port of that name and protocol exists.
   */
  | { protocol: Protocol; kind: 'named'; name: string; members: { ip: string; port: number }[] };

export interface RuleIR {
  /** Index of the rule in spec.ingress / spec.egress, for comments and explanations. */
  index: number;
  peers: PeerIR[] | 'all';
  ports: PortIR[] | 'all';
}

export interface PolicyDirIR {
  /** `namespace/name/direction`. */
  id: string;
  policy: string;
  direction: Direction;
  rules: RuleIR[];
}

export interface WorkloadIR {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  iface: string;
  ips: string[];
  /** Ids of the policy directions that select this pod; null = not isolated. */
  ingress: string[] | null;
  egress: string[] | null;
  /**
   * Other local pods claiming the same interface name (sorted keys). The dispatch
   * cannot tell them apart, so every pod of the clash fails closed: its interface
   * is dropped in every dispatch chain (rather than letting one pod's chain decide
   * for the other).
   */
  ifaceConflict?: string[];
}

export interface RejectedPolicy {
  name: string;
  errors: { path: string; message: string }[];
}

export interface NodeIR {
  node: string | null;
  workloads: WorkloadIR[];
  policies: PolicyDirIR[];
  /** What could not be enforced as asked, for the log and status (e.g. an interface name two local pods claim). */
  problems?: string[];
}

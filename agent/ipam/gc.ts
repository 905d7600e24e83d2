/**
 * Leaked-address garbage collection. An allocation leaks when the pod it was made
 * for no longer exists (the runtime never called DEL: node crash, lost call).
 * `findLeaks` is pure: blocks + live pods → handles to release. Handles without pod
 * attributes (not made for a Kubernetes pod) are never collected.
 *
 * Race: a pod created after the caller listed pods would look leaked. Callers run
 * two passes and release only handles leaked in both (`confirmLeaks`).
 *
 * `judgeLocalLeaks` is the node-local check that needs no Pod objects (the file
 * datastore's pods may have none): a handle made on this node for a pod whose
 * host-side interface is missing — in two passes in a row, and for at least a grace
 * period since first seen missing — leaked. The caller supplies the interface names
 * present, the CNI naming rule and the clock's reading; the absence record is a
 * plain value passed from pass to pass.
 *
 * `judgeLeaks` is one pass of a node's collector with both rules and their state
 * (`LeakState`); agent/node/leaks.ts is its shell (reads, the CNI queue, release).
 *
 * `judgeGoneNodes` finds deleted Nodes: a node the blocks name (affinity, or the node
 * an allocation was made on) absent from the cluster's Node list in two passes in a
 * row and for at least a grace period since first seen absent is gone; its
 * allocations and blocks are to be freed (agent/ipam/node-release.ts). Nothing is
 * judged without a list, or with one that lacks the judging node itself (not the
 * cluster's whole list); the absence record then starts over. Where Node objects are
 * optional (file datastore: `onlySeen`) only a node seen in an earlier list of this
 * run and then missing can be gone — never one that holds blocks without ever having
 * had a Node object.
 */
import { handlesIn } from './block.js';
import { addrAt, parseCidr } from './cidr.js';
import { ifNameOfHandle } from './handle.js';
import type { Block, HandleAttrs, PodRef } from './types.js';

export interface Leak {
  handle: string;
  pod: PodRef;
  node: string;
  /** the CNI ADD's container ID, when it gave one */
  containerId?: string;
  addresses: string[];
}

export function podKey(p: PodRef): string {
  return `${p.namespace}/${p.name}`;
}

export function findLeaks(blocks: readonly Block[], livePods: readonly PodRef[]): Leak[] {
  const live = new Set(livePods.map(podKey));
  return collect(blocks, (_h, attrs) => !live.has(podKey(attrs.pod)));
}

/** Handles with pod attributes that `pick` chooses, with every address they hold, sorted by handle. */
function collect(blocks: readonly Block[], pick: (handle: string, attrs: HandleAttrs & { pod: PodRef }) => boolean): Leak[] {
  const leaks = new Map<string, Leak>();
  for (const b of blocks) {
    for (const h of handlesIn(b)) {
      const attrs = b.attributes[h];
      if (!attrs?.pod || !pick(h, { ...attrs, pod: attrs.pod })) continue;
      const leak = leaks.get(h) ?? { handle: h, pod: attrs.pod, node: attrs.node, ...(attrs.containerId !== undefined ? { containerId: attrs.containerId } : {}), addresses: [] };
      const cidr = parseCidr(b.cidr);
      b.allocations.forEach((a, i) => { if (a === h) leak.addresses.push(addrAt(cidr, i)); });
      leaks.set(h, leak);
    }
  }
  return [...leaks.values()].sort((a, b) => (a.handle < b.handle ? -1 : 1));
}

/** A handle seen with its host interface missing: since when, in how many passes in a row. */
export interface Absence {
  since: number;
  passes: number;
}
export type AbsenceState = Readonly<Record<string, Absence>>;

export interface LocalLivenessInput {
  node: string;
  blocks: readonly Block[];
  /** names of the network interfaces present on the node now */
  links: ReadonlySet<string>;
  /** the CNI plugin's host-side interface name for a container ID and interface */
  hostIf: (containerId: string, ifName: string) => string;
  /** handles never collected, whatever they look like (the VXLAN tunnel address's) */
  keep: ReadonlySet<string>;
  /** the clock's reading, ms */
  now: number;
  /** how long an interface must have been missing, at the least */
  graceMs: number;
}

export interface LocalVerdict {
  /** leaked: release */
  leaks: Leak[];
  /** missing, not yet for long enough */
  suspects: Leak[];
  /** the absence record for the next pass (only handles still missing) */
  state: AbsenceState;
}

/**
 * This node's handles judged by their host interfaces: one made for a pod (pod
 * attributes and a container ID; never one in `keep`) whose interface is absent is a
 * suspect; a suspect also absent in the previous pass and missing for `graceMs` or
 * more since first seen is a leak. A handle whose interface is back is forgotten.
 */
export function judgeLocalLeaks(previous: AbsenceState, i: LocalLivenessInput): LocalVerdict {
  const state: Record<string, Absence> = {};
  const missing = collect(i.blocks, (h, attrs) => attrs.node === i.node && attrs.containerId !== undefined && !i.keep.has(h) &&
    !i.links.has(i.hostIf(attrs.containerId, ifNameOfHandle(h, attrs.containerId))));
  const leaks: Leak[] = [];
  const suspects: Leak[] = [];
  for (const l of missing) {
    const prev = previous[l.handle];
    const a: Absence = prev ? { since: prev.since, passes: prev.passes + 1 } : { since: i.now, passes: 1 };
    state[l.handle] = a;
    (a.passes >= 2 && i.now - a.since >= i.graceMs ? leaks : suspects).push(l);
  }
  return { leaks, suspects, state };
}

/** Leaks seen in both passes (by handle). */
export function confirmLeaks(previous: readonly Leak[], current: readonly Leak[]): Leak[] {
  const prev = new Set(previous.map((l) => l.handle));
  return current.filter((l) => prev.has(l.handle));
}

/** What one node's collector carries from pass to pass (a plain value). */
export interface LeakState {
  /** handles seen with their host interface missing */
  absent: AbsenceState;
  /** the previous pass's pod-absence leaks (kubernetes) */
  podLeaks: readonly Leak[];
}

export const NO_LEAK_STATE: LeakState = { absent: {}, podLeaks: [] };

export interface LeakPassInput extends LocalLivenessInput {
  /** every Pod of the cluster where Pod objects are the whole truth (kubernetes); undefined elsewhere (files) */
  livePods?: readonly PodRef[];
}

export interface JudgedLeak extends Leak {
  /** why it leaked, for the log */
  why: string;
  /** a veth leak: the host interface to look for once more right before releasing */
  hostIf?: string;
}

/**
 * One pass of a node's two-pass leak check, both rules: the host-interface rule
 * (`judgeLocalLeaks`, every datastore) and, given `livePods`, the Pod rule (this
 * node's handles whose pod is in no snapshot in this pass and the previous one:
 * `findLeaks` + `confirmLeaks`). Never a handle in `keep`; a handle both rules
 * find is reported once, as a veth leak. Returns the leaks and the state for the
 * next pass.
 */
export function judgeLeaks(previous: LeakState, i: LeakPassInput): { leaks: JudgedLeak[]; state: LeakState } {
  const local = judgeLocalLeaks(previous.absent, i);
  const leaks: JudgedLeak[] = local.leaks.map((l) => {
    const hostIf = i.hostIf(l.containerId ?? '', ifNameOfHandle(l.handle, l.containerId));
    return { ...l, hostIf, why: `host interface ${hostIf} missing for ${i.now - (local.state[l.handle]?.since ?? i.now)} ms` };
  });
  let podLeaks = previous.podLeaks;
  if (i.livePods) {
    const current = findLeaks(i.blocks, i.livePods).filter((l) => l.node === i.node && !i.keep.has(l.handle));
    const chosen = new Set(leaks.map((l) => l.handle));
    for (const l of confirmLeaks(previous.podLeaks, current)) if (!chosen.has(l.handle)) leaks.push({ ...l, why: 'no such Pod in two passes' });
    podLeaks = current;
  }
  return { leaks, state: { absent: local.state, podLeaks } };
}

/** The state without any record of a handle (released, or found alive again): it starts over. */
export function forgetLeak(state: LeakState, handle: string): LeakState {
  const { [handle]: _gone, ...absent } = state.absent;
  return { absent, podLeaks: state.podLeaks.filter((l) => l.handle !== handle) };
}

/**
 * What the gone-node judgement carries from pass to pass: the nodes seen absent from
 * the Node list (since when, in how many passes in a row), and the nodes seen in a
 * list (kept while they are listed or still named by a block).
 */
export interface NodeAbsenceState {
  readonly absent: Readonly<Record<string, Absence>>;
  readonly seen: readonly string[];
}

export const NO_NODE_ABSENCE: NodeAbsenceState = { absent: {}, seen: [] };

export interface GoneNodesInput {
  /** the judging node (always in a trustworthy list) */
  self: string;
  blocks: readonly Block[];
  /** the names of the cluster's Nodes; undefined: not known (no snapshot yet, or a Node object rejected) */
  nodes: ReadonlySet<string> | undefined;
  /**
   * only a node seen in an earlier list can be gone (the file datastore, where Node
   * objects are optional: a running node without one holds blocks); without it, any
   * node the blocks name that is absent (kubernetes: the Node objects are the whole truth)
   */
  onlySeen?: boolean;
  /** the clock's reading, ms */
  now: number;
  graceMs: number;
}

/** Nodes the IPAM blocks name: their affinities and the nodes their allocations were made on. */
function nodesInBlocks(blocks: readonly Block[]): Set<string> {
  const out = new Set<string>();
  for (const b of blocks) {
    if (b.affinity?.startsWith('host:')) out.add(b.affinity.slice('host:'.length));
    for (const h of handlesIn(b)) {
      const n = b.attributes[h]?.node;
      if (n !== undefined) out.add(n);
    }
  }
  return out;
}

/** One pass: the nodes gone (sorted), and the state for the next pass. */
export function judgeGoneNodes(previous: NodeAbsenceState, i: GoneNodesInput): { gone: string[]; state: NodeAbsenceState } {
  const named = nodesInBlocks(i.blocks);
  // being seen outlives a pass without a trustworthy list; a node neither listed nor named is forgotten
  const seenBefore = new Set(previous.seen);
  if (i.nodes === undefined || !i.nodes.has(i.self)) return { gone: [], state: { absent: {}, seen: [...seenBefore].filter((n) => named.has(n)).sort() } };
  const seen = [...new Set([...i.nodes, ...[...seenBefore].filter((n) => named.has(n))])].sort();
  const absent: Record<string, Absence> = {};
  const gone: string[] = [];
  for (const n of [...named].sort()) {
    if (n === i.self || i.nodes.has(n) || (i.onlySeen && !seenBefore.has(n))) continue;
    const prev = previous.absent[n];
    const a: Absence = prev ? { since: prev.since, passes: prev.passes + 1 } : { since: i.now, passes: 1 };
    absent[n] = a;
    if (a.passes >= 2 && i.now - a.since >= i.graceMs) gone.push(n);
  }
  return { gone, state: { absent, seen } };
}

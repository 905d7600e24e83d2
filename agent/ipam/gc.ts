/**
 * Leaked-address garbage collection. An allocation leaks when the pod it was made
 * for no longer exists (the runtime never called DEL: node crash, lost call).
 * `findLeaks` is pure: blocks + live pods → handles to release. Handles without pod
 * attributes (not made for a Kubernetes pod) are never collected.
 *
 * Race: a pod created after the caller listed pods would look leaked. Callers run
 * two passes and release only handles leaked in both (`confirmLeaks`), or list pods
 * after reading the blocks.
 *
 * `judgeLocalLeaks` is the node-local check that needs no Pod objects (the file
 * datastore's pods may have none): a handle made on this node for a pod whose
 * host-side interface is missing — in two passes in a row, and for at least a grace
 * period since first seen missing — leaked. The caller supplies the interface names
 * present, the CNI naming rule and the clock's reading; the absence record is a
 * plain value passed from pass to pass.
 */
import { handlesIn } from './block.js';
import { addrAt, parseCidr } from './cidr.js';
import type { Ipam } from './allocator.js';
import type { IpamStore } from './store.js';
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

/** "net.containerId.ifName" → ifName (the CNI handle; interface names have no dots). */
export const ifNameOfHandle = (handle: string): string => handle.slice(handle.lastIndexOf('.') + 1) || 'eth0';

/**
 * This node's handles judged by their host interfaces: one made for a pod (pod
 * attributes and a container ID; never one in `keep`) whose interface is absent is a
 * suspect; a suspect also absent in the previous pass and missing for `graceMs` or
 * more since first seen is a leak. A handle whose interface is back is forgotten.
 */
export function judgeLocalLeaks(previous: AbsenceState, i: LocalLivenessInput): LocalVerdict {
  const state: Record<string, Absence> = {};
  const missing = collect(i.blocks, (h, attrs) => attrs.node === i.node && attrs.containerId !== undefined && !i.keep.has(h) &&
    !i.links.has(i.hostIf(attrs.containerId, ifNameOfHandle(h))));
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

/** Releases the given leaks through an allocator; returns the released addresses. */
export async function releaseLeaks(ipam: Ipam, leaks: readonly Leak[]): Promise<string[]> {
  const out: string[] = [];
  for (const l of leaks) out.push(...(await ipam.release(l.handle)));
  return out;
}

/** One GC pass over a store: reads blocks, returns current leaks. */
export async function scanLeaks(store: IpamStore, livePods: readonly PodRef[]): Promise<Leak[]> {
  return findLeaks((await store.list('block')).map((r) => r.value), livePods);
}

/**
 * The two-pass collector an agent runs periodically: each pass lists leaks and
 * releases those also seen in the previous pass. Keep one per agent; give it the
 * live pod list (all pods of the cluster, or of this node for node-local GC).
 */
export class LeakCollector {
  private previous: Leak[] = [];

  constructor(private readonly ipam: Ipam, private readonly store: IpamStore) {}

  async pass(livePods: readonly PodRef[]): Promise<{ released: Leak[]; pending: Leak[] }> {
    const current = await scanLeaks(this.store, livePods);
    const released = confirmLeaks(this.previous, current);
    await releaseLeaks(this.ipam, released);
    const done = new Set(released.map((l) => l.handle));
    this.previous = current.filter((l) => !done.has(l.handle));
    return { released, pending: this.previous };
  }
}

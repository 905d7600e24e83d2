/**
 * Leaked-address garbage collection. An allocation leaks when the pod it was made
 * for no longer exists (the runtime never called DEL: node crash, lost call).
 * `findLeaks` is pure: blocks + live pods → handles to release. Handles without pod
 * attributes (not made for a Kubernetes pod) are never collected.
 *
 * Race: a pod created after the caller listed pods would look leaked. Callers run
 * two passes and release only handles leaked in both (`confirmLeaks`), or list pods
 * after reading the blocks.
 */
import { handlesIn } from './block.js';
import { addrAt, parseCidr } from './cidr.js';
import type { Ipam } from './allocator.js';
import type { IpamStore } from './store.js';
import type { Block, PodRef } from './types.js';

export interface Leak {
  handle: string;
  pod: PodRef;
  node: string;
  addresses: string[];
}

export function podKey(p: PodRef): string {
  return `${p.namespace}/${p.name}`;
}

export function findLeaks(blocks: readonly Block[], livePods: readonly PodRef[]): Leak[] {
  const live = new Set(livePods.map(podKey));
  const leaks = new Map<string, Leak>();
  for (const b of blocks) {
    for (const h of handlesIn(b)) {
      const attrs = b.attributes[h];
      if (!attrs?.pod || live.has(podKey(attrs.pod))) continue;
      const leak = leaks.get(h) ?? { handle: h, pod: attrs.pod, node: attrs.node, addresses: [] };
      const cidr = parseCidr(b.cidr);
      b.allocations.forEach((a, i) => { if (a === h) leak.addresses.push(addrAt(cidr, i)); });
      leaks.set(h, leak);
    }
  }
  return [...leaks.values()].sort((a, b) => (a.handle < b.handle ? -1 : 1));
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

/**
 * Frees the IPAM data of a node that no longer exists (its Node deleted): every
 * address allocated on it (pods', tunnel devices'), in any block, its handle records,
 * and its blocks (an emptied one deleted, one still holding other nodes' borrowed
 * addresses kept without affinity) — as Calico's kube-controllers do for a deleted
 * node. Deciding that a node is gone is the caller's (gc.ts `judgeGoneNodes`).
 *
 * Every write is a compare-and-swap that re-reads and recomputes on conflict, so
 * several agents may free the same node at once: each address is freed by exactly
 * one of them (the one whose write landed reports it), and only slots whose
 * allocation names that node are touched, never another node's.
 */
import { affinityOf, handlesIn, isEmpty, releaseInBlock } from './block.js';
import { IpamError } from './errors.js';
import type { IpamStore } from './store.js';
import type { Block, PodRef } from './types.js';

export interface NodeFreed {
  node: string;
  handle: string;
  /** the addresses this call freed */
  addresses: string[];
  pod?: PodRef;
}

/** Frees everything of `node`; returns what this call freed, by handle (sorted). */
export async function releaseNodeAllocations(store: IpamStore, node: string, maxAttempts = 50): Promise<NodeFreed[]> {
  const affinity = affinityOf(node);
  const freed = new Map<string, NodeFreed>();
  for (const rec of await store.list('block')) {
    if (rec.value.affinity !== affinity && !handlesIn(rec.value).some((h) => rec.value.attributes[h]?.node === node)) continue;
    for (const f of await releaseInBlockOf(store, rec.value.cidr, node, maxAttempts)) {
      const prev = freed.get(f.handle);
      freed.set(f.handle, prev ? { ...prev, addresses: [...prev.addresses, ...f.addresses] } : f);
    }
  }
  for (const rec of await store.list('handle')) {
    if (rec.value.attrs.node !== node) continue;
    for (let i = 0; i < maxAttempts; i++) {
      const cur = await store.get('handle', rec.value.handle);
      if (!cur || cur.value.attrs.node !== node || (await store.delete('handle', rec.value.handle, cur.version))) break;
    }
  }
  return [...freed.values()].sort((a, b) => (a.handle < b.handle ? -1 : 1));
}

/** One block: the node's slots freed, its affinity dropped; deleted when that leaves it empty and unowned. */
async function releaseInBlockOf(store: IpamStore, cidr: string, node: string, maxAttempts: number): Promise<NodeFreed[]> {
  const affinity = affinityOf(node);
  for (let i = 0; i < maxAttempts; i++) {
    const rec = await store.get('block', cidr);
    if (!rec) return [];
    let b: Block = rec.value;
    const out: NodeFreed[] = [];
    for (const h of handlesIn(b)) {
      const attrs = b.attributes[h];
      if (attrs?.node !== node) continue;
      const r = releaseInBlock(b, h);
      b = r.block;
      out.push({ node, handle: h, addresses: r.released, ...(attrs.pod ? { pod: attrs.pod } : {}) });
    }
    if (b.affinity === affinity) b = { ...b, affinity: null };
    if (b === rec.value) return [];
    const ok = isEmpty(b) && b.affinity === null
      ? await store.delete('block', cidr, rec.version)
      : (await store.put('block', cidr, b, rec.version)).ok;
    if (ok) return out;
  }
  throw new IpamError('contention', `could not free node ${node}'s slots in block ${cidr} (concurrent writers); the next pass retries`);
}

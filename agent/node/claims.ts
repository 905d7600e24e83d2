/**
 * The IPAM store as the agent's allocator uses it, with one addition: the moment a
 * block is claimed for this node (a successful create of a block record with this
 * node's affinity) the agent is told, synchronously with the store's answer and
 * before the allocator goes on (handle record, pod wiring), so that the block's BGP
 * announcement and blackhole route leave at once instead of after the CNI ADD has
 * finished and IPAM has been re-read.
 */
import type { IpamStore } from '../ipam/store.js';
import type { Block, IpamKind } from '../ipam/types.js';
import { affinityOf } from './desired.js';

export function observeClaims(store: IpamStore, node: string, onClaim: (block: Block) => void): IpamStore {
  const mine = affinityOf(node);
  return {
    get: (kind, key) => store.get(kind, key),
    list: (kind) => store.list(kind),
    keys: (kind: IpamKind) => store.keys(kind),
    delete: (kind, key, version) => store.delete(kind, key, version),
    async put(kind, key, value, expectedVersion) {
      const r = await store.put(kind, key, value, expectedVersion);
      if (r.ok && kind === 'block' && expectedVersion === undefined) {
        const b = r.record.value as Block;
        if (b.affinity === mine) onClaim(b);
      }
      return r;
    },
    ...(store.watch ? { watch: store.watch.bind(store) } : {}),
  };
}

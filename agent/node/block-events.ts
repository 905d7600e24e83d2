/**
 * The IPAM store as the agent's allocator uses it, with one addition: the agent is
 * told the moment a block of this node is claimed or released, synchronously with
 * the store's answer and before the allocator goes on, so that the block's BGP
 * announcement and blackhole (or withdrawal and its removal) leave at once instead
 * of after the CNI ADD or DEL has finished and IPAM has been re-read.
 *
 * - Claimed: a successful create of a block record with this node's affinity (inside
 *   a CNI ADD, before the handle record and the pod's wiring).
 * - Released: a successful delete of a block record that had this node's affinity,
 *   which the allocator does when a CNI DEL (or the leak collector) empties a block
 *   that is not the node's last in its pool. A delete names only the key and the
 *   version read, so the wrapper remembers the version of every block record of this
 *   node that passes through it (get, list, put); a delete of exactly that version is
 *   a release of this node's block. The allocator always reads a block before it
 *   deletes it (a CAS loop), so a release is never missed; a delete of a version this
 *   wrapper has not seen as this node's is none of its business.
 *
 * State: key → version of this node's block records last seen (at most the node's
 * blocks: an entry goes when its record is deleted or seen without this affinity).
 */
import type { IpamStore, Versioned } from '../ipam/store.js';
import type { Block, IpamKind, IpamRecords } from '../ipam/types.js';
import { affinityOf } from './desired.js';

export interface OwnBlockEvents {
  claimed(block: Block): void;
  released(cidr: string): void;
}

export function observeOwnBlocks(store: IpamStore, node: string, on: OwnBlockEvents): IpamStore {
  const mine = affinityOf(node);
  const seen = new Map<string, string>();
  const note = (key: string, rec: Versioned<Block> | undefined): void => {
    if (rec && rec.value.affinity === mine) seen.set(key, rec.version);
    else seen.delete(key);
  };
  const noteAny = <K extends IpamKind>(kind: K, key: string, rec: Versioned<IpamRecords[K]> | undefined): void => {
    if (kind === 'block') note(key, rec as Versioned<Block> | undefined);
  };
  return {
    async get(kind, key) {
      const r = await store.get(kind, key);
      noteAny(kind, key, r);
      return r;
    },
    async list(kind) {
      const rs = await store.list(kind);
      if (kind === 'block') for (const r of rs as Versioned<Block>[]) if (r.value.affinity === mine) seen.set(r.value.cidr, r.version);
      return rs;
    },
    keys: (kind: IpamKind) => store.keys(kind),
    async put(kind, key, value, expectedVersion) {
      const r = await store.put(kind, key, value, expectedVersion);
      if (!r.ok) return r;
      noteAny(kind, key, r.record);
      if (kind === 'block' && expectedVersion === undefined && (r.record.value as Block).affinity === mine) on.claimed(r.record.value as Block);
      return r;
    },
    async delete(kind, key, version) {
      const ok = await store.delete(kind, key, version);
      if (ok && kind === 'block') {
        const wasMine = seen.get(key) === version;
        seen.delete(key);
        if (wasMine) on.released(key);
      }
      return ok;
    },
    ...(store.watch ? { watch: store.watch.bind(store) } : {}),
  };
}

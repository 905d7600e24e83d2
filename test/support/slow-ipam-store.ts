/**
 * A MemoryIpamStore behind 1–3 ms of latency per call (a seeded generator, so runs
 * repeat), counting the calls that matter under claim contention: lists, key
 * listings, block creates and the block writes that lost their compare-and-swap.
 * Shared by the claim-contention test and the IPAM claim-stampede bench.
 */
import { MemoryIpamStore, type IpamStore } from '../../agent/ipam/store.js';

export interface SlowStoreCounts {
  /** `list` calls, any kind */
  list: number;
  /** `keys` calls, any kind */
  keys: number;
  /** block creates (`put` without an expected version) */
  creates: number;
  /** block creates that failed (the key existed) */
  conflicts: number;
}

export function slowIpamStore(seed = 7): { store: IpamStore; mem: MemoryIpamStore; counts: SlowStoreCounts } {
  const mem = new MemoryIpamStore();
  const counts: SlowStoreCounts = { list: 0, keys: 0, creates: 0, conflicts: 0 };
  let s = seed;
  const delay = (): Promise<void> => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return new Promise((r) => setTimeout(r, 1 + (s % 3)));
  };
  const store: IpamStore = {
    async get(kind, key) { await delay(); return mem.get(kind, key); },
    async list(kind) { counts.list++; await delay(); return mem.list(kind); },
    async keys(kind) { counts.keys++; await delay(); return mem.keys(kind); },
    async put(kind, key, value, version) {
      await delay();
      const r = await mem.put(kind, key, value, version);
      if (kind === 'block') {
        if (version === undefined) { counts.creates++; if (!r.ok) counts.conflicts++; }
      }
      return r;
    },
    async delete(kind, key, version) { await delay(); return mem.delete(kind, key, version); },
  };
  return { store, mem, counts };
}

/**
 * A hash table from 32-bit integers (IPv4 addresses of one prefix length) to
 * values, for the prefix table's hot path: a lookup that misses followed by an
 * insert of the same key probes once (the position is remembered), and nothing is
 * allocated per entry. Layout: entries in insertion order in dense arrays (keys in
 * an Int32Array, values in an array; a deleted entry leaves a hole, `undefined`),
 * and an open-addressing index (linear probing, Fibonacci hashing of the key, at
 * most half full) holding entry number + 1 (0 = empty). Deletion shifts the probe
 * run back (no tombstones). Holes are squeezed out only when an insert finds the
 * dense arrays full, so setting or deleting keys that are present while iterating
 * is safe, as with a Map. Iteration order: insertion order (a re-set keeps its
 * place). Values must not be `undefined`.
 */

const MIN_ENTRIES = 8;
/** dense capacity below which a full table grows fourfold (see resize) */
const GROW_4X_BELOW = 65_536;

export class V4Table<V> {
  private keys = new Int32Array(MIN_ENTRIES);
  private vals: (V | undefined)[] = [];
  /** dense entries used, holes included */
  private used = 0;
  private live = 0;
  private index = new Int32Array(MIN_ENTRIES * 2);
  private mask = MIN_ENTRIES * 2 - 1;
  private shift = 32 - Math.log2(MIN_ENTRIES * 2);
  /** the key of the last lookup and the index position it ended at (its entry, or the empty slot it would take) */
  private probeKey = 0;
  private probePos = -1;

  get size(): number {
    return this.live;
  }

  /** Index position of `k`: its entry, or the empty slot where it would go. */
  private find(k: number): number {
    if (this.probePos >= 0 && this.probeKey === k) return this.probePos;
    const idx = this.index;
    const mask = this.mask;
    let h = Math.imul(k, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const e = idx[h]!;
      if (e === 0 || this.keys[e - 1] === k) break;
      h = (h + 1) & mask;
    }
    this.probeKey = k;
    this.probePos = h;
    return h;
  }

  get(k: number): V | undefined {
    const e = this.index[this.find(k | 0)]!;
    return e === 0 ? undefined : this.vals[e - 1];
  }

  set(k: number, v: V): void {
    k |= 0;
    let h = this.find(k);
    const e = this.index[h]!;
    if (e !== 0) { this.vals[e - 1] = v; return; }
    if (this.used === this.keys.length) {
      this.resize();
      h = this.find(k);
    }
    const n = this.used++;
    this.keys[n] = k;
    this.vals[n] = v;
    this.index[h] = n + 1;
    this.live++;
  }

  delete(k: number): boolean {
    k |= 0;
    let i = this.find(k);
    const e = this.index[i]!;
    if (e === 0) return false;
    this.vals[e - 1] = undefined;
    this.live--;
    this.probePos = -1;
    // backward-shift deletion: close the gap so every later entry of the run stays reachable
    const idx = this.index;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const f = idx[j]!;
      if (f === 0) break;
      const home = Math.imul(this.keys[f - 1]!, 0x9e3779b1) >>> this.shift;
      // the entry at j may move to i unless its home lies cyclically in (i, j]
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      idx[i] = f;
      i = j;
    }
    idx[i] = 0;
    return true;
  }

  /**
   * The dense arrays are full: squeeze out holes (if at least a quarter are holes)
   * or grow them — fourfold while small (a table being loaded meets its final size
   * with a third of the index rebuilds), twofold from GROW_4X_BELOW on, so a large
   * table's slack stays at most one half; rebuild the index.
   */
  private resize(): void {
    const n = this.keys.length;
    const cap = this.live * 4 <= this.used * 3 ? n : n < GROW_4X_BELOW ? n * 4 : n * 2;
    const keys = new Int32Array(cap);
    if (this.live === this.used) keys.set(this.keys); // no holes: the values stay where they are
    else {
      // squeeze the holes out in place
      const vals = this.vals;
      let m = 0;
      for (let i = 0; i < this.used; i++) {
        const v = vals[i];
        if (v === undefined) continue;
        keys[m] = this.keys[i]!;
        vals[m++] = v;
      }
      vals.length = m; // drops the moved values' old places
      this.used = m;
    }
    this.keys = keys;
    // the values' array made for the new capacity at once (setting the length grows the store in one copy):
    // grown element by element it would reallocate at every 1.5×, in the old generation once large
    this.vals.length = cap;
    this.rebuildIndex(cap * 2);
  }

  private rebuildIndex(size: number): void {
    this.index = new Int32Array(size);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
    this.probePos = -1;
    const idx = this.index;
    for (let i = 0; i < this.used; i++) {
      if (this.vals[i] === undefined) continue;
      let h = Math.imul(this.keys[i]!, 0x9e3779b1) >>> this.shift;
      while (idx[h] !== 0) h = (h + 1) & this.mask;
      idx[h] = i + 1;
    }
  }

  /** Calls `each` for every entry in insertion order (see the header for what may change meanwhile). */
  *entries(): IterableIterator<[number, V]> {
    for (let i = 0; i < this.used; i++) {
      const v = this.vals[i];
      if (v !== undefined) yield [this.keys[i]!, v];
    }
  }
}

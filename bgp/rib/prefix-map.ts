/**
 * A map keyed by prefix text ("10.0.0.0/24", "fd00::/64") that stores IPv4
 * prefixes without their text: one table per prefix length (`V4Table`, an
 * open-addressing hash on typed arrays) keyed by the address as a 32-bit integer —
 * no key object to hold (~32 bytes per route less), no string to hash or compare on
 * lookup, and a miss followed by an insert probes once. Other
 * keys (IPv6, anything not in IPv4 form) are kept by their text. Keys are parsed
 * on each call (the last one is remembered, so a get followed by a set of the
 * same key parses once) and formatted back only when listed. Listing order: IPv4
 * by prefix length (0 … 32), each in insertion order, then the rest in insertion
 * order. An IPv4 key may also be given as numbers (`Ipv4Key`, e.g. a prefix the
 * session decoded with `ipv4Numbers`): then there is no text to parse at all.
 */
import { parseIpv4At } from '../wire/address.js';
import { ipv4PrefixText } from '../wire/prefix.js';
import { V4Table } from './v4-table.js';
import type { Family } from './path.js';

/** An IPv4 prefix as numbers: address (unsigned 32-bit, host bits zero) and length 0–32. */
export interface Ipv4Key {
  readonly bits: number;
  readonly len: number;
}

/** A table key: the prefix text, or an IPv4 prefix as numbers. */
export type PrefixKey = string | Ipv4Key;

/** The family of a key: an IPv4 key as numbers, or text without a colon, is IPv4. */
export function keyFamily(k: PrefixKey): Family {
  return typeof k !== 'string' || !k.includes(':') ? 'ipv4' : 'ipv6';
}

/** The text of a key ("10.0.0.0/24"). */
export function keyText(k: PrefixKey): string {
  return typeof k === 'string' ? k : ipv4PrefixText(k.bits, k.len);
}

export class PrefixMap<V> {
  private readonly v4: V4Table<V>[] = Array.from({ length: 33 }, () => new V4Table<V>());
  private readonly text = new Map<string, V>();
  /** the last key parsed, its length (-1: not IPv4) and address */
  private lastKey: PrefixKey = '';
  private lastLen = -1;
  private lastAddr = 0;

  /** Parses `key` into lastLen / lastAddr ("a.b.c.d/len", canonical decimal: no leading zeros). */
  private parse(key: PrefixKey): void {
    if (key === this.lastKey) return;
    this.lastKey = key;
    if (typeof key !== 'string') {
      this.lastLen = key.len;
      this.lastAddr = key.bits | 0;
      return;
    }
    this.lastLen = -1;
    const slash = key.indexOf('/');
    const n = key.length;
    if (slash < 0 || slash + 1 === n || n - slash > 3) return; // no length, or more than two digits
    if (key.charCodeAt(slash + 1) === 48 && n > slash + 2) return; // a leading zero
    let len = 0;
    for (let i = slash + 1; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c < 48 || c > 57) return;
      len = len * 10 + c - 48;
    }
    if (len > 32) return;
    const addr = parseIpv4At(key, 0, slash);
    if (addr < 0) return;
    this.lastLen = len;
    this.lastAddr = addr | 0;
  }

  get size(): number {
    let n = this.text.size;
    for (const m of this.v4) n += m.size;
    return n;
  }

  /** Entries whose key is IPv4 / not IPv4 (O(1)). */
  counts(): { ipv4: number; other: number } {
    let n = 0;
    for (const m of this.v4) n += m.size;
    return { ipv4: n, other: this.text.size };
  }

  get(key: PrefixKey): V | undefined {
    this.parse(key);
    return this.lastLen >= 0 ? this.v4[this.lastLen]!.get(this.lastAddr) : this.text.get(key as string);
  }

  has(key: PrefixKey): boolean {
    return this.get(key) !== undefined;
  }

  set(key: PrefixKey, v: V): this {
    this.parse(key);
    if (this.lastLen >= 0) this.v4[this.lastLen]!.set(this.lastAddr, v);
    else this.text.set(key as string, v);
    return this;
  }

  delete(key: PrefixKey): boolean {
    this.parse(key);
    return this.lastLen >= 0 ? this.v4[this.lastLen]!.delete(this.lastAddr) : this.text.delete(key as string);
  }

  /**
   * [key, value] of the entries whose value `pick` accepts, formatting only their
   * keys. Setting or deleting keys already present while iterating is allowed.
   */
  *select(pick: (v: V) => boolean): IterableIterator<[string, V]> {
    for (let len = 0; len <= 32; len++) {
      const m = this.v4[len]!;
      if (m.size === 0) continue;
      for (const [a, v] of m.entries()) if (pick(v)) yield [ipv4PrefixText(a >>> 0, len), v];
    }
    for (const e of this.text) if (pick(e[1])) yield e;
  }

  /** Like `select`, but IPv4 keys come as numbers (`Ipv4Key`): no text is made. */
  *selectKeys(pick: (v: V) => boolean): IterableIterator<[PrefixKey, V]> {
    for (let len = 0; len <= 32; len++) {
      const m = this.v4[len]!;
      if (m.size === 0) continue;
      for (const [a, v] of m.entries()) if (pick(v)) yield [{ bits: a >>> 0, len }, v];
    }
    for (const e of this.text) if (pick(e[1])) yield e;
  }

  *entries(): IterableIterator<[string, V]> {
    yield* this.select(() => true);
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}

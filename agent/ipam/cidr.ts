/**
 * Address arithmetic for IPAM on bigints: parse and format IPv4/IPv6 addresses and
 * CIDRs, carve a pool into blocks, map block ordinals to addresses. Pure.
 * The address parser is policy's (one parser for the project).
 */
import { parseIp, type Family } from '../../policy/model/cidr.js';

export type { Family };

export interface Cidr {
  family: Family;
  /** Network address (host bits zero). */
  base: bigint;
  prefix: number;
}

export class CidrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CidrError';
  }
}

export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Parses an address; undefined when it is neither IPv4 nor IPv6. */
export function parseAddr(s: string): { family: Family; value: bigint } | undefined {
  const ip = parseIp(s);
  return ip && { family: ip.family, value: ip.addr };
}

export function formatAddr(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parses "a.b.c.d/n" or "x::/n" strictly (host bits must be zero). */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/');
  if (slash < 0) throw new CidrError(`"${s}" is not a CIDR (no /prefix)`);
  const addr = parseAddr(s.slice(0, slash));
  const pfx = s.slice(slash + 1);
  if (addr === undefined) throw new CidrError(`"${s}" is not a CIDR (bad address)`);
  if (!/^\d{1,3}$/.test(pfx) || Number(pfx) > familyBits(addr.family)) {
    throw new CidrError(`"${s}" is not a CIDR (bad prefix length)`);
  }
  const prefix = Number(pfx);
  const host = hostMask(addr.family, prefix);
  if ((addr.value & host) !== 0n) {
    throw new CidrError(`"${s}" has host bits set; did you mean ${formatCidr({ family: addr.family, base: addr.value & ~host, prefix })}?`);
  }
  return { family: addr.family, base: addr.value, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatAddr(c.family, c.base)}/${c.prefix}`;
}

function hostMask(family: Family, prefix: number): bigint {
  return (1n << BigInt(familyBits(family) - prefix)) - 1n;
}

/** Number of addresses in a CIDR. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(familyBits(c.family) - c.prefix);
}

export function cidrContains(outer: Cidr, family: Family, value: bigint): boolean {
  return outer.family === family && value >= outer.base && value < outer.base + cidrSize(outer);
}

export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.prefix >= outer.prefix && cidrContains(outer, inner.family, inner.base);
}

/** Number of blocks of length `blockPrefix` in `pool`. */
export function blockCount(pool: Cidr, blockPrefix: number): bigint {
  return 1n << BigInt(blockPrefix - pool.prefix);
}

/** The i-th block of length `blockPrefix` inside `pool`. */
export function nthBlock(pool: Cidr, blockPrefix: number, i: bigint): Cidr {
  return { family: pool.family, base: pool.base + i * (1n << BigInt(familyBits(pool.family) - blockPrefix)), prefix: blockPrefix };
}

/** The address at `ordinal` inside a block. */
export function addrAt(block: Cidr, ordinal: number): string {
  return formatAddr(block.family, block.base + BigInt(ordinal));
}

/** Ordinal of an address inside a block, or undefined when outside. */
export function ordinalOf(block: Cidr, addr: string): number | undefined {
  const a = parseAddr(addr);
  if (a === undefined || !cidrContains(block, a.family, a.value)) return undefined;
  return Number(a.value - block.base);
}

/** Parses a CIDR; undefined instead of throwing. */
export function tryParseCidr(s: string): Cidr | undefined {
  try {
    return parseCidr(s);
  } catch {
    return undefined;
  }
}

/** Whether two CIDRs share an address (one covers the other: CIDRs never partly overlap). */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrCovers(a, b) || cidrCovers(b, a);
}

/**
 * The blocks of length `blockPrefix` inside `pool` that share no address with any
 * CIDR in `taken` (of any length: a block claimed under another blockSize counts),
 * lowest first. Walks the taken ranges, not every candidate.
 */
export function freeBlocks(pool: Cidr, blockPrefix: number, taken: readonly Cidr[]): Generator<Cidr> {
  return freeIn(pool, blockPrefix, taken, pool.base, pool.base + cidrSize(pool));
}

/**
 * The same free blocks as `freeBlocks`, starting at the pool's block number `start`
 * (taken modulo the number of blocks) and wrapping round: those at or after it
 * lowest first, then those before it.
 */
export function* freeBlocksFrom(pool: Cidr, blockPrefix: number, taken: readonly Cidr[], start: bigint): Generator<Cidr> {
  const n = blockCount(pool, blockPrefix);
  const from = nthBlock(pool, blockPrefix, ((start % n) + n) % n).base;
  yield* freeIn(pool, blockPrefix, taken, from, pool.base + cidrSize(pool));
  yield* freeIn(pool, blockPrefix, taken, pool.base, from);
}

/** Free blocks of `pool` whose base lies in [lo, hi) (`lo` on a block boundary). */
function* freeIn(pool: Cidr, blockPrefix: number, taken: readonly Cidr[], lo: bigint, hi: bigint): Generator<Cidr> {
  const step = 1n << BigInt(familyBits(pool.family) - blockPrefix);
  const ranges = taken
    .filter((t) => t.family === pool.family)
    .map((t): [bigint, bigint] => [t.base, t.base + cidrSize(t)])
    .filter(([s, e]) => e > lo && s < hi)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const at = (base: bigint): Cidr => ({ family: pool.family, base, prefix: blockPrefix });
  let next = lo;
  for (const [s, e] of ranges) {
    for (; next < hi && next + step <= s; next += step) yield at(next);
    // the candidate at `next` overlaps [s, e): go on at the first block boundary at or after e
    if (e > next) next = pool.base + ((e - pool.base + step - 1n) / step) * step;
  }
  for (; next < hi; next += step) yield at(next);
}

/**
 * A stable number in [0, count) from a text (64-bit FNV-1a of its UTF-16 code units,
 * modulo `count`): where a node starts looking for a free block, so that nodes
 * claiming at once mostly try different blocks (Calico starts from a hash of the
 * hostname too). The same text gives the same number on every run and machine.
 */
export function stableIndex(text: string, count: bigint): bigint {
  if (count <= 0n) return 0n;
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h % count;
}

/**
 * IPPool validation and selection: defaults (blockSize 26 / 122, nodeSelector
 * all()), field checks that name the field, and which pools serve a node. Pure.
 */
import { parseCidr, CidrError, type Cidr, type Family, cidrCovers, cidrOverlaps, tryParseCidr } from './cidr.js';
import { IpamError } from './errors.js';
import { parseSelector, matchSelector, SelectorError, type Selector } from './selector.js';
import type { Block, EncapMode, IpPool } from './types.js';

export interface ResolvedPool {
  name: string;
  cidr: Cidr;
  cidrText: string;
  family: Family;
  blockSize: number;
  selector: Selector;
  disabled: boolean;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
}

const MODES: readonly EncapMode[] = ['Always', 'CrossSubnet', 'Never'];
// Calico's limits: a block holds at most 4096 and at least 1 address.
const BLOCK_RANGE: Record<Family, [number, number]> = { 4: [20, 32], 6: [116, 128] };

function bad(pool: string, field: string, msg: string): never {
  throw new IpamError('invalid-pool', `IPPool ${pool}: spec.${field}: ${msg}`);
}

export function resolvePool(pool: IpPool): ResolvedPool {
  const s = pool.spec;
  let cidr: Cidr;
  try {
    cidr = parseCidr(String(s.cidr));
  } catch (e) {
    return bad(pool.name, 'cidr', e instanceof CidrError ? e.message : String(e));
  }
  const blockSize = s.blockSize ?? (cidr.family === 4 ? 26 : 122);
  const [lo, hi] = BLOCK_RANGE[cidr.family];
  if (!Number.isInteger(blockSize) || blockSize < lo || blockSize > hi) {
    bad(pool.name, 'blockSize', `must be an integer in ${lo}..${hi} for IPv${cidr.family}, got ${String(blockSize)}`);
  }
  if (blockSize < cidr.prefix) bad(pool.name, 'blockSize', `/${blockSize} is larger than the pool /${cidr.prefix}`);
  const ipipMode = s.ipipMode ?? 'Never';
  const vxlanMode = s.vxlanMode ?? 'Never';
  if (!MODES.includes(ipipMode)) bad(pool.name, 'ipipMode', `must be one of ${MODES.join(', ')}`);
  if (!MODES.includes(vxlanMode)) bad(pool.name, 'vxlanMode', `must be one of ${MODES.join(', ')}`);
  if (ipipMode !== 'Never' && vxlanMode !== 'Never') bad(pool.name, 'vxlanMode', 'ipipMode and vxlanMode cannot both be enabled');
  if (ipipMode !== 'Never' && cidr.family === 6) bad(pool.name, 'ipipMode', 'IPIP carries IPv4 only');
  let selector: Selector;
  try {
    selector = parseSelector(s.nodeSelector ?? '');
  } catch (e) {
    return bad(pool.name, 'nodeSelector', e instanceof SelectorError ? e.message : String(e));
  }
  return {
    name: pool.name, cidr, cidrText: String(s.cidr), family: cidr.family, blockSize, selector,
    disabled: s.disabled === true, ipipMode, vxlanMode, natOutgoing: s.natOutgoing === true,
  };
}

/** Validates every pool and rejects overlapping ones. */
export function resolvePools(pools: readonly IpPool[]): ResolvedPool[] {
  const out = pools.map(resolvePool);
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = out[i] as ResolvedPool;
      const b = out[j] as ResolvedPool;
      if (cidrOverlaps(a.cidr, b.cidr)) {
        bad(a.name, 'cidr', `${a.cidrText} overlaps IPPool ${b.name} (${b.cidrText})`);
      }
    }
  }
  return out;
}

/** A pool that served before (`partitionPools`' `previous`): its name and cidr. */
export interface PreviousPool {
  name: string;
  cidrText: string;
}

const UTC_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/** A creationTimestamp as the API server writes it (UTC), made comparable as text; undefined otherwise. */
function createdKey(p: IpPool): string | undefined {
  const m = p.creationTimestamp === undefined ? null : UTC_TIME.exec(p.creationTimestamp);
  return m ? `${m[1] ?? ''}.${(m[2] ?? '').padEnd(9, '0')}` : undefined;
}

interface Seniority { i: number; created: string | undefined; served: boolean; holds: boolean }

/**
 * Which of two overlapping pools keeps serving (negative: `a`): the older by
 * creationTimestamp; a pool without one counts as older than every pool when it
 * already served (same name and cidr) in `previous`, newer than every pool
 * otherwise — and among those, one that holds block records (`blocks` naming it,
 * inside its cidr) before one that does not; then the already serving one, then list
 * order. A total order, so the result never depends on which pair is looked at first.
 */
function bySeniority(a: Seniority, b: Seniority): number {
  const tier = (s: Seniority): number => (s.created !== undefined ? 1 : s.served ? 0 : s.holds ? 2 : 3);
  const ca = a.created ?? '';
  const cb = b.created ?? '';
  return (tier(a) - tier(b)) || (ca < cb ? -1 : ca > cb ? 1 : 0) || (Number(b.served) - Number(a.served)) || (a.i - b.i);
}

/** The IPAM block records `partitionPools` looks at: which pool claimed each block. */
export type BlockOfPool = Pick<Block, 'cidr' | 'pool'>;

/**
 * Lenient form for a running agent: invalid pools are set aside with their error;
 * of overlapping ones the one there first keeps serving (Calico refuses the newcomer
 * at creation) — the older by creationTimestamp, else the one already valid in
 * `previous` (the last result's `valid`), else the one holding block records among
 * `blocks` (after an agent restart, without timestamps: the file datastore), else
 * the one listed first — and the newcomer is set aside with an error naming it and
 * the pool it overlaps. `valid` and `errors` keep the input order. `undecided`: list
 * order settled an overlap that block records could settle (no `blocks` given).
 */
export function partitionPools(pools: readonly IpPool[], previous: readonly PreviousPool[] = [], blocks?: readonly BlockOfPool[]): { valid: ResolvedPool[]; errors: IpamError[]; undecided: boolean } {
  const before = new Set(previous.map((p) => `${p.name}=${p.cidrText}`));
  const claimed = new Map<string, Cidr[]>();
  for (const b of blocks ?? []) {
    const c = tryParseCidr(b.cidr);
    if (c) claimed.set(b.pool, [...(claimed.get(b.pool) ?? []), c]);
  }
  const resolved: (ResolvedPool | IpamError)[] = pools.map((p) => {
    try {
      return resolvePool(p);
    } catch (e) {
      if (!(e instanceof IpamError)) throw e;
      return e;
    }
  });
  const rank = pools.map((p, i): Seniority => {
    const r = resolved[i];
    const ok = !(r instanceof IpamError) && r !== undefined;
    const served = ok && before.has(`${r.name}=${r.cidrText}`);
    const holds = ok && (claimed.get(r.name) ?? []).some((c) => cidrCovers(r.cidr, c));
    return { i, created: createdKey(p), served, holds };
  }).sort(bySeniority);
  const kept: { pool: ResolvedPool; s: Seniority }[] = [];
  let undecided = false;
  for (const s of rank) {
    const r = resolved[s.i];
    if (r === undefined || r instanceof IpamError) continue;
    const clash = kept.find((v) => cidrOverlaps(v.pool.cidr, r.cidr));
    if (clash) {
      if (blocks === undefined && clash.s.created === undefined && !clash.s.served && s.created === undefined && !s.served) undecided = true;
      resolved[s.i] = new IpamError('invalid-pool', `IPPool ${r.name}: spec.cidr: ${r.cidrText} overlaps IPPool ${clash.pool.name} (${clash.pool.cidrText}), which was there first: ${r.name} is set aside`);
    } else {
      kept.push({ pool: r, s });
    }
  }
  const valid: ResolvedPool[] = [];
  const errors: IpamError[] = [];
  for (const r of resolved) {
    if (r instanceof IpamError) errors.push(r);
    else valid.push(r);
  }
  return { valid, errors, undecided };
}

/** A tunnel encapsulation a pool may turn on (its ipipMode / vxlanMode). */
export type Encap = 'ipip' | 'vxlan';

/**
 * Enabled pools of a family whose nodeSelector matches the node's labels; with
 * `encap`, only those with that encapsulation on (mode Always or CrossSubnet).
 */
export function poolsForNode(pools: readonly ResolvedPool[], family: Family, nodeLabels: Readonly<Record<string, string>>, encap?: Encap): ResolvedPool[] {
  return pools.filter((p) => p.family === family && !p.disabled && matchSelector(p.selector, nodeLabels) &&
    (encap === undefined || (encap === 'ipip' ? p.ipipMode : p.vxlanMode) !== 'Never'));
}

/** The pool whose CIDR holds the block (pools never overlap: at most one), or undefined. */
export function poolCovering(pools: readonly ResolvedPool[], blockCidr: string): ResolvedPool | undefined {
  const c = tryParseCidr(blockCidr);
  return c && pools.find((p) => cidrCovers(p.cidr, c));
}

/** The enabled pool selecting a node (by its labels) that holds the block, or undefined. */
export function servingPool(pools: readonly ResolvedPool[], nodeLabels: Readonly<Record<string, string>>, blockCidr: string): ResolvedPool | undefined {
  const c = tryParseCidr(blockCidr);
  return c && poolsForNode(pools, c.family, nodeLabels).find((p) => cidrCovers(p.cidr, c));
}

/** What decides which blocks serve a node: its enabled, selecting pools (names and CIDRs). */
export function servingKey(pools: readonly ResolvedPool[], nodeLabels: Readonly<Record<string, string>>): string {
  return ([4, 6] as const).flatMap((f) => poolsForNode(pools, f, nodeLabels).map((p) => `${p.name}=${p.cidrText}`)).join(',');
}

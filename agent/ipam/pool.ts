/**
 * IPPool validation and selection: defaults (blockSize 26 / 122, nodeSelector
 * all()), field checks that name the field, and which pools serve a node. Pure.
 */
import { parseCidr, CidrError, type Cidr, type Family, cidrCovers, tryParseCidr } from './cidr.js';
import { IpamError } from './errors.js';
import { parseSelector, matchSelector, SelectorError, type Selector } from './selector.js';
import type { EncapMode, IpPool } from './types.js';

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
      if (cidrCovers(a.cidr, b.cidr) || cidrCovers(b.cidr, a.cidr)) {
        bad(a.name, 'cidr', `${a.cidrText} overlaps IPPool ${b.name} (${b.cidrText})`);
      }
    }
  }
  return out;
}

/**
 * Lenient form for a running agent: invalid pools (and a pool overlapping one
 * accepted before it) are set aside with their error; the rest keep working.
 */
export function partitionPools(pools: readonly IpPool[]): { valid: ResolvedPool[]; errors: IpamError[] } {
  const valid: ResolvedPool[] = [];
  const errors: IpamError[] = [];
  for (const p of pools) {
    try {
      const r = resolvePool(p);
      const clash = valid.find((v) => cidrCovers(v.cidr, r.cidr) || cidrCovers(r.cidr, v.cidr));
      if (clash) bad(r.name, 'cidr', `${r.cidrText} overlaps IPPool ${clash.name} (${clash.cidrText})`);
      valid.push(r);
    } catch (e) {
      if (!(e instanceof IpamError)) throw e;
      errors.push(e);
    }
  }
  return { valid, errors };
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
  return c && poolCovering(poolsForNode(pools, c.family, nodeLabels), blockCidr);
}

/** What decides which blocks serve a node: its enabled, selecting pools (names and CIDRs). */
export function servingKey(pools: readonly ResolvedPool[], nodeLabels: Readonly<Record<string, string>>): string {
  return ([4, 6] as const).flatMap((f) => poolsForNode(pools, f, nodeLabels).map((p) => `${p.name}=${p.cidrText}`)).join(',');
}

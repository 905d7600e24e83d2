/**
 * The decision process (RFC 4271 §9.1.2.2, RFC 4456 §9) as small ordered
 * comparators; each returns < 0 when `a` is better, > 0 when `b` is, 0 on a tie,
 * and names the rule so the Loc-RIB can say why a path won (GoBGP's
 * BestPathReason, BIRD's bgp_rte_better). `selectBest` applies them as filters
 * over the whole candidate set (MED is not transitive pairwise: see there);
 * `comparePaths` is the pairwise view, exact for two paths. The IGP-cost step is skipped: margay
 * treats every next hop as equally near. Locally originated paths come first
 * (like a static route's preference over BGP in BIRD).
 */
import type { AsPathSegment, Origin } from '../wire/types.js';
import { ipv4ToNumber } from '../fsm/collision.js';
import type { Path } from './path.js';

export type BestReason =
  | 'only-path' | 'local-origin' | 'local-pref' | 'as-path-length' | 'origin' | 'med'
  | 'ebgp-over-ibgp' | 'router-id' | 'cluster-list-length' | 'peer-address' | 'equal';

export const DEFAULT_LOCAL_PREF = 100;

/** RFC 4271 §9.1.2.2 (a): an AS_SET counts 1, confederation segments count 0. */
export function pathLength(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) n += s.type === 'AS_SEQUENCE' ? s.asns.length : s.type === 'AS_SET' ? 1 : 0;
  return n;
}

/** The neighbouring AS of a path: the first AS of its first AS_SEQUENCE (0 = local). */
export function neighborAs(segs: readonly AsPathSegment[]): number {
  for (const s of segs) {
    if (s.type === 'AS_SEQUENCE') return s.asns[0] ?? 0;
    if (s.type === 'AS_SET') return 0;
  }
  return 0;
}

const ORIGIN_RANK: Record<Origin, number> = { IGP: 0, EGP: 1, INCOMPLETE: 2 };

/** Orders addresses numerically: IPv4 before IPv6. */
export function compareAddresses(a: string, b: string): number {
  if (a === b) return 0;
  const v4a = !a.includes(':');
  const v4b = !b.includes(':');
  if (v4a !== v4b) return v4a ? -1 : 1;
  if (v4a) return ipv4ToNumber(a) - ipv4ToNumber(b);
  const x = expand6(a);
  const y = expand6(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function expand6(a: string): string {
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join(':');
}

export interface Comparator {
  reason: BestReason;
  compare(a: Path, b: Path): number;
}

/** In RFC order; `multipathUntil` marks where equal-cost multipath stops comparing. */
export const COMPARATORS: readonly Comparator[] = [
  { reason: 'local-origin', compare: (a, b) => Number(b.source.local) - Number(a.source.local) },
  // (a) highest degree of preference: LOCAL_PREF (absent = the default)
  { reason: 'local-pref', compare: (a, b) => (b.attrs.localPref ?? DEFAULT_LOCAL_PREF) - (a.attrs.localPref ?? DEFAULT_LOCAL_PREF) },
  // (a) shortest AS_PATH
  { reason: 'as-path-length', compare: (a, b) => pathLength(a.attrs.asPath) - pathLength(b.attrs.asPath) },
  // (b) lowest ORIGIN
  { reason: 'origin', compare: (a, b) => ORIGIN_RANK[a.attrs.origin] - ORIGIN_RANK[b.attrs.origin] },
  // (c) lowest MED, only between paths from the same neighbouring AS; absent = 0
  {
    reason: 'med',
    compare: (a, b) => (neighborAs(a.attrs.asPath) !== neighborAs(b.attrs.asPath) ? 0 : (a.attrs.med ?? 0) - (b.attrs.med ?? 0)),
  },
  // (d) eBGP-learned over iBGP-learned
  { reason: 'ebgp-over-ibgp', compare: (a, b) => Number(a.source.ibgp) - Number(b.source.ibgp) },
  // (e) IGP cost to the next hop: skipped (all next hops are treated as equally near)
  // (f) lowest BGP identifier; the ORIGINATOR_ID stands in for it when present (RFC 4456 §9)
  {
    reason: 'router-id',
    compare: (a, b) => ipv4ToNumber(a.attrs.originatorId ?? a.source.routerId) - ipv4ToNumber(b.attrs.originatorId ?? b.source.routerId),
  },
  // RFC 4456 §9: shortest CLUSTER_LIST
  { reason: 'cluster-list-length', compare: (a, b) => (a.attrs.clusterList?.length ?? 0) - (b.attrs.clusterList?.length ?? 0) },
  // (g) lowest peer address
  { reason: 'peer-address', compare: (a, b) => compareAddresses(a.source.address, b.source.address) },
];

/** Paths equal up to (not including) this rule are equal-cost for multipath. */
export const MULTIPATH_UNTIL: BestReason = 'router-id';

export interface Verdict {
  /** < 0: a is better */
  order: number;
  reason: BestReason;
}

export function comparePaths(a: Path, b: Path): Verdict {
  for (const c of COMPARATORS) {
    const d = c.compare(a, b);
    if (d !== 0) return { order: d, reason: c.reason };
  }
  return { order: 0, reason: 'equal' };
}

const MED_AT = COMPARATORS.findIndex((c) => c.reason === 'med');
const MULTIPATH_AT = COMPARATORS.findIndex((c) => c.reason === MULTIPATH_UNTIL);

/** The first rule in [from, to) that tells `a` and `b` apart: < 0 when `a` is better; 0 if none does. */
function compareRange(a: Path, b: Path, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const d = COMPARATORS[i]!.compare(a, b);
    if (d !== 0) return d;
  }
  return 0;
}

/** Index of the first rule that tells `a` and `b` apart (COMPARATORS.length: none). */
function firstDifference(a: Path, b: Path): number {
  for (let i = 0; i < COMPARATORS.length; i++) if (COMPARATORS[i]!.compare(a, b) !== 0) return i;
  return COMPARATORS.length;
}

export interface Selection {
  best: Path;
  /** the rule that decided against the runner-up */
  reason: BestReason;
  /** with multipath: the best path first, then the equal-cost ones */
  multipath?: Path[];
}

/**
 * RFC 4271 §9.1.2.2 as successive filters over the whole candidate set: the rules
 * before MED and those after it are total orders, but MED compares only paths from
 * the same neighbouring AS, so pairwise comparison is not transitive (A beats B on
 * MED, B beats C and C beats A on later rules) and a pairwise scan would depend on
 * the candidates' order. So: keep the paths tied best on the rules before MED; (c)
 * drop, within each neighbouring AS, every path with a MED above that AS's lowest;
 * then the best of the rest on the later rules. Two candidates (the common case
 * after a single one, which the table decides without this) compare pairwise: the
 * same result, no allocation.
 */
export function selectBest(paths: readonly Path[], multipath = false): Selection | undefined {
  const first = paths[0];
  if (!first) return undefined;
  if (paths.length === 1) return { best: first, reason: 'only-path' };
  if (paths.length === 2) return selectPair(first, paths[1]!, multipath);
  // (a), (b) and what precedes MED: the paths tied best
  let top: Path[] = [first];
  for (let i = 1; i < paths.length; i++) {
    const p = paths[i]!;
    const d = compareRange(p, top[0]!, 0, MED_AT);
    if (d < 0) top = [p];
    else if (d === 0) top.push(p);
  }
  // (c) MED within each neighbouring AS; `dropped`: the paths it removed (none: undefined)
  let left = top;
  let dropped: Set<Path> | undefined;
  if (top.length > 1) {
    const lowest = new Map<number, number>();
    for (const p of top) {
      const as = neighborAs(p.attrs.asPath);
      const m = p.attrs.med ?? 0;
      const l = lowest.get(as);
      if (l === undefined || m < l) lowest.set(as, m);
    }
    left = [];
    for (const p of top) {
      if ((p.attrs.med ?? 0) === lowest.get(neighborAs(p.attrs.asPath))) left.push(p);
      else (dropped ??= new Set()).add(p);
    }
  }
  // (d) onwards: a total order again
  let best = left[0]!;
  for (let i = 1; i < left.length; i++) {
    const p = left[i]!;
    if (compareRange(p, best, MED_AT + 1, COMPARATORS.length) < 0) best = p;
  }
  // why: the rule that beat the closest rival (the one that survived the most rules); a path MED
  // removed left the race there, even if it differs from the best only on a later rule (a path
  // that ties the best beyond MED is in `top`, so it is either in `left` or in `dropped`)
  let at = -1;
  for (const p of paths) {
    if (p === best) continue;
    let idx = firstDifference(best, p);
    if (idx > MED_AT && dropped?.has(p) === true) idx = MED_AT;
    if (idx > at) at = idx;
  }
  const reason: BestReason = at >= COMPARATORS.length ? 'equal' : COMPARATORS[at]!.reason;
  if (!multipath) return { best, reason };
  // equal cost: the paths MED kept that tie with the best up to the router id
  const multi = [best];
  for (const p of left) if (p !== best && compareRange(p, best, MED_AT + 1, MULTIPATH_AT) === 0) multi.push(p);
  return multi.length > 1 ? { best, reason, multipath: multi } : { best, reason };
}

/** Two candidates: pairwise comparison is exact (MED applies only if they share the neighbouring AS). */
function selectPair(a: Path, b: Path, multipath: boolean): Selection {
  const v = comparePaths(b, a);
  const best = v.order < 0 ? b : a;
  const other = best === a ? b : a;
  if (!multipath || compareRange(other, best, 0, MULTIPATH_AT) !== 0) return { best, reason: v.reason };
  return { best, reason: v.reason, multipath: [best, other] };
}

/**
 * Loc-RIB: the selected path per prefix (RFC 4271 §3.2), or with multipath the
 * best path followed by its equal-cost siblings. `decide` runs the decision
 * process for one prefix over the candidate paths and reports what changed, with
 * the next hops the agent programs into the kernel.
 */
import { selectBest, type BestReason } from './best-path.js';
import type { Path } from './path.js';

export interface LocRib {
  /** prefix key → best path (or [best, ...equal-cost] with multipath) */
  readonly routes: Map<string, Path | Path[]>;
  multipath: boolean;
  /** how many of `routes` are IPv6 (kept by `decide`, so counting per family is O(1)) */
  v6: number;
}

export function newLocRib(multipath = false): LocRib {
  return { routes: new Map(), multipath, v6: 0 };
}

/** Loc-RIB routes per family, without walking the table. */
export function locRibFamilies(loc: LocRib): { ipv4: number; ipv6: number } {
  return { ipv4: loc.routes.size - loc.v6, ipv6: loc.v6 };
}

export interface RouteChange {
  prefix: string;
  kind: 'add' | 'change' | 'remove';
  /** the new best path (absent on remove) */
  best?: Path;
  /** why it won */
  reason?: BestReason;
  /** next hops of the best path and, with multipath, of the equal-cost ones; [] = originated here */
  nextHops: string[];
}

export function bestOf(e: Path | Path[] | undefined): Path | undefined {
  return e === undefined ? undefined : Array.isArray(e) ? e[0] : e;
}

/**
 * The next-hop list of a single path, built once per (interned) path and shared
 * by every RouteChange that names it: a full table costs no array per route.
 * Frozen, since many changes hold the same array.
 */
const hopsOfPath = new WeakMap<Path, string[]>();

function singleHops(p: Path): string[] {
  let h = hopsOfPath.get(p);
  if (h === undefined) {
    h = Object.freeze(p.attrs.nextHops.length ? [p.attrs.nextHops[0]!] : []) as string[];
    hopsOfPath.set(p, h);
  }
  return h;
}

function nextHopsOf(e: Path | Path[]): string[] {
  if (!Array.isArray(e)) return singleHops(e);
  const out: string[] = [];
  for (const p of e) { const nh = p.attrs.nextHops[0]; if (nh !== undefined && !out.includes(nh)) out.push(nh); }
  return out;
}

function sameEntry(a: Path | Path[], b: Path | Path[]): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((p, i) => p === b[i]);
}

/**
 * Re-runs the decision for `prefix` over `candidates` (the first `count` of them,
 * all by default); returns the change, if any.
 */
export function decide(loc: LocRib, prefix: string, candidates: readonly Path[], count = candidates.length): RouteChange | undefined {
  const old = loc.routes.get(prefix);
  if (count === 1) {
    // the common case (one peer, or one path per prefix): no comparison to run
    const only = candidates[0]!;
    if (old === only) return undefined;
    loc.routes.set(prefix, only);
    if (old === undefined && prefix.includes(':')) loc.v6++;
    return { prefix, kind: old === undefined ? 'add' : 'change', best: only, reason: 'only-path', nextHops: singleHops(only) };
  }
  const sel = selectBest(count === candidates.length ? candidates : candidates.slice(0, count), loc.multipath);
  if (!sel) {
    if (old === undefined) return undefined;
    loc.routes.delete(prefix);
    if (prefix.includes(':')) loc.v6--;
    return { prefix, kind: 'remove', nextHops: [] };
  }
  const entry: Path | Path[] = sel.multipath ?? sel.best;
  if (old !== undefined && sameEntry(old, entry)) return undefined;
  loc.routes.set(prefix, entry);
  if (old === undefined && prefix.includes(':')) loc.v6++;
  return { prefix, kind: old === undefined ? 'add' : 'change', best: sel.best, reason: sel.reason, nextHops: nextHopsOf(entry) };
}

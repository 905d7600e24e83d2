/**
 * The prefix table: one entry per prefix holding every source's paths (the
 * Adj-RIBs-In, per peer a view: adj-rib-in.ts) and the selected one (the Loc-RIB,
 * RFC 4271 §3.2), like BIRD's one table per channel. A new prefix costs one hash
 * insert. The common entry — one path, no ADD-PATH id — is the interned Path
 * itself (no per-prefix object: it is its own best); an entry with several
 * candidates, or an ADD-PATH id, is a `RibEntry` holding the candidates in
 * decision order (source order: origin, then peers as added; then path ids in
 * arrival order) and the best path (or [best, ...equal-cost] with multipath).
 * Every change of a prefix's candidates re-runs the decision for it and returns
 * the Loc-RIB change, if any. Per-peer events (session down, stale sweep, import
 * filter change) scan the table, as BIRD does; they are rare.
 */
import { selectBest, type BestReason } from './best-path.js';
import { releasePath, type AdjRibIn } from './adj-rib-in.js';
import type { Path } from './path.js';
import { keyText, PrefixMap, type Ipv4Key, type PrefixKey } from './prefix-map.js';

export class RibEntry {
  constructor(
    /** candidates in decision order */
    public paths: Path[],
    /** ADD-PATH id of each candidate; -1 = none */
    public ids: number[],
    /** the Loc-RIB entry: best path, or [best, ...equal-cost] with multipath */
    public best: Path | Path[],
  ) {}
}

export type Slot = Path | RibEntry;

export interface RibTable {
  /** prefix key → its entry; every entry has a best path, so `size` is the Loc-RIB's size */
  readonly routes: PrefixMap<Slot>;
  multipath: boolean;
}

export function newRibTable(multipath = false): RibTable {
  return { routes: new PrefixMap(), multipath };
}

/** Loc-RIB routes per family, without walking the table. */
export function locRibFamilies(t: RibTable): { ipv4: number; ipv6: number } {
  const c = t.routes.counts();
  return { ipv4: c.ipv4, ipv6: c.other };
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

/**
 * A RouteChange of a prefix keyed by numbers (an IPv4 prefix as the session decodes
 * it): its text is made when first read — by the agent, a log line or an export to
 * another peer — and not at all by a speaker nobody listens to.
 */
class Ipv4Change implements RouteChange {
  private text: string | undefined = undefined;
  constructor(
    private readonly key: Ipv4Key,
    readonly kind: 'add' | 'change' | 'remove',
    readonly best: Path | undefined,
    readonly reason: BestReason | undefined,
    readonly nextHops: string[],
  ) {}

  get prefix(): string {
    return (this.text ??= keyText(this.key));
  }
}

/** A change of `key`: a plain record for a text key, an Ipv4Change (text made when read) for a numeric one. */
function changeOf(key: PrefixKey, kind: RouteChange['kind'], best: Path | undefined, reason: BestReason | undefined, nextHops: string[]): RouteChange {
  if (typeof key !== 'string') return new Ipv4Change(key, kind, best, reason, nextHops);
  const c: RouteChange = { prefix: key, kind, nextHops };
  if (best !== undefined) c.best = best;
  if (reason !== undefined) c.reason = reason;
  return c;
}

function removed(key: PrefixKey): RouteChange {
  return changeOf(key, 'remove', undefined, undefined, []);
}

/** The best path of a table entry (the first of [best, ...equal-cost] with multipath). */
export function bestOf(e: Slot): Path {
  if (!(e instanceof RibEntry)) return e;
  const b = e.best;
  return Array.isArray(b) ? b[0]! : b;
}

/**
 * The next-hop list of a single path, built once per (interned) path and kept on
 * it (`Path.hops`: no map lookup per route), shared by every RouteChange that
 * names it: a full table costs no array per route. Frozen, since many changes hold
 * the same array.
 */
function singleHops(p: Path): string[] {
  let h = p.hops;
  if (h === undefined) p.hops = h = Object.freeze(p.attrs.nextHops.length ? [p.attrs.nextHops[0]!] : []);
  return h as string[];
}

function nextHopsOf(e: Path | Path[]): string[] {
  if (!Array.isArray(e)) return singleHops(e);
  const out: string[] = [];
  for (const p of e) { const nh = p.attrs.nextHops[0]; if (nh !== undefined && !out.includes(nh)) out.push(nh); }
  return out;
}

function sameSelection(a: Path | Path[], b: Path | Path[]): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((p, i) => p === b[i]);
}

function onlyChange(key: PrefixKey, kind: 'add' | 'change', only: Path): RouteChange {
  return changeOf(key, kind, only, 'only-path', singleHops(only));
}

function find(e: RibEntry, rib: AdjRibIn, id: number): number {
  const ps = e.paths;
  for (let i = 0; i < ps.length; i++) if (ps[i]!.owner === rib && e.ids[i] === id) return i;
  return -1;
}

function holds(e: RibEntry, rib: AdjRibIn): boolean {
  for (const p of e.paths) if (p.owner === rib) return true;
  return false;
}

/** Picks the entries holding a path of `rib`. */
function touching(rib: AdjRibIn): (s: Slot) => boolean {
  return (s) => (s instanceof RibEntry ? holds(s, rib) : s.owner === rib);
}

/** Where a new candidate of `rib` with `id` goes: after lower sources; within one source, no-id first, then arrival order. */
function insertAt(e: RibEntry, rib: AdjRibIn, id: number): number {
  const ps = e.paths;
  let i = 0;
  for (; i < ps.length; i++) {
    const o = ps[i]!.owner!.order;
    if (o < rib.order || (o === rib.order && (id !== -1 || e.ids[i] === -1))) continue;
    break;
  }
  return i;
}

/** Re-runs the decision for an entry whose candidates changed; stores the result. */
function redecide(t: RibTable, key: PrefixKey, e: RibEntry): RouteChange | undefined {
  const old = e.best;
  const n = e.paths.length;
  if (n === 0) {
    t.routes.delete(key);
    return removed(key);
  }
  if (n === 1) {
    const only = e.paths[0]!;
    if (e.ids[0] === -1) t.routes.set(key, only); // back to the compact form
    else e.best = only;
    return old === only ? undefined : onlyChange(key, 'change', only);
  }
  const sel = selectBest(e.paths, t.multipath)!;
  const entry: Path | Path[] = sel.multipath ?? sel.best;
  if (sameSelection(old, entry)) return undefined;
  e.best = entry;
  return changeOf(key, 'change', sel.best, sel.reason, nextHopsOf(entry));
}

/** `putPath` refused a new route: the peer would hold more than its maximum. */
export const MAX_PREFIX = 'max-prefix';

/**
 * Stores `rib`'s route for `key` (text, or an IPv4 prefix as numbers; with an ADD-PATH id or none) and re-decides the
 * prefix; returns the Loc-RIB change, if any, or MAX_PREFIX (nothing stored) when
 * a new route would take the peer over `max` routes.
 */
export function putPath(
  t: RibTable, rib: AdjRibIn, key: PrefixKey, pathId: number | undefined, path: Path, max?: number,
): RouteChange | undefined | typeof MAX_PREFIX {
  const id = pathId === undefined ? -1 : pathId;
  const full = max !== undefined && rib.count >= max; // a new route is refused, a replacement is not
  const slot = t.routes.get(key);
  if (slot === undefined) {
    if (full) return MAX_PREFIX;
    path.refs++;
    rib.count++;
    rib.prefixes++;
    t.routes.set(key, id === -1 ? path : new RibEntry([path], [id], path));
    return onlyChange(key, 'add', path);
  }
  let e: RibEntry;
  if (slot instanceof RibEntry) e = slot;
  else if (slot.owner === rib && id === -1) {
    // the lone candidate replaced: still the compact form
    if (slot === path) return undefined;
    path.refs++;
    releasePath(rib, slot);
    t.routes.set(key, path);
    return onlyChange(key, 'change', path);
  } else {
    if (full) return MAX_PREFIX;
    e = new RibEntry([slot], [-1], slot);
    t.routes.set(key, e);
  }
  const i = find(e, rib, id);
  if (i >= 0) {
    const old = e.paths[i]!;
    if (old === path) return undefined;
    path.refs++;
    releasePath(rib, old);
    e.paths[i] = path;
  } else {
    if (full) return MAX_PREFIX;
    if (!holds(e, rib)) rib.prefixes++;
    path.refs++;
    rib.count++;
    const at = insertAt(e, rib, id);
    e.paths.splice(at, 0, path);
    e.ids.splice(at, 0, id);
  }
  return redecide(t, key, e);
}

/** Removes `rib`'s route for `key` (and path id) and re-decides; the Loc-RIB change, if any. */
export function removePath(t: RibTable, rib: AdjRibIn, key: PrefixKey, pathId: number | undefined): RouteChange | undefined {
  const slot = t.routes.get(key);
  if (slot === undefined) return undefined;
  const id = pathId === undefined ? -1 : pathId;
  if (!(slot instanceof RibEntry)) {
    if (slot.owner !== rib || id !== -1) return undefined;
    t.routes.delete(key);
    rib.count--;
    rib.prefixes--;
    releasePath(rib, slot);
    return removed(key);
  }
  const i = find(slot, rib, id);
  if (i < 0) return undefined;
  const old = slot.paths[i]!;
  slot.paths.splice(i, 1);
  slot.ids.splice(i, 1);
  rib.count--;
  if (!holds(slot, rib)) rib.prefixes--;
  releasePath(rib, old);
  return redecide(t, key, slot);
}

/** Calls `each` for every route `rib` holds: the key ("#id" appended for ADD-PATH), the path, and whether it is selected. */
export function forEachRoute(t: RibTable, rib: AdjRibIn, each: (key: string, path: Path, selected: boolean) => void): void {
  if (rib.count === 0) return;
  for (const [key, slot] of t.routes.select(touching(rib))) {
    if (!(slot instanceof RibEntry)) {
      if (slot.owner === rib) each(key, slot, true);
      continue;
    }
    const best = slot.best;
    for (let i = 0; i < slot.paths.length; i++) {
      const p = slot.paths[i]!;
      if (p.owner !== rib) continue;
      const id = slot.ids[i]!;
      each(id === -1 ? key : `${key}#${id}`, p, Array.isArray(best) ? best.includes(p) : best === p);
    }
  }
}

/**
 * Removes every route of `rib` that `drop` selects (all when absent) in one scan
 * of the table, re-deciding each prefix touched; `emit` gets the Loc-RIB changes.
 * IPv4 keys come to `drop` as numbers (`Ipv4Key`): a session drop or a
 * graceful-restart sweep makes no prefix text (the changes make theirs when read).
 */
export function dropPaths(
  t: RibTable, rib: AdjRibIn, drop: ((key: PrefixKey, path: Path) => boolean) | undefined, emit: (c: RouteChange) => void,
): void {
  if (rib.count === 0) return;
  for (const [key, slot] of t.routes.selectKeys(touching(rib))) {
    if (!(slot instanceof RibEntry)) {
      if (slot.owner !== rib || (drop && !drop(key, slot))) continue;
      const c = removePath(t, rib, key, undefined);
      if (c) emit(c);
      continue;
    }
    let touched = false;
    for (let i = slot.paths.length - 1; i >= 0; i--) {
      const p = slot.paths[i]!;
      if (p.owner !== rib || (drop && !drop(key, p))) continue;
      slot.paths.splice(i, 1);
      slot.ids.splice(i, 1);
      rib.count--;
      releasePath(rib, p);
      touched = true;
    }
    if (!touched) continue;
    if (!holds(slot, rib)) rib.prefixes--;
    const c = redecide(t, key, slot);
    if (c) emit(c);
  }
}

/** Replaces each path of `rib` by `map(path)` (see `rebaseSource`) and re-decides every prefix touched. */
export function mapPaths(t: RibTable, rib: AdjRibIn, map: (old: Path) => Path, emit: (c: RouteChange) => void): void {
  if (rib.count === 0) return;
  for (const [key, slot] of t.routes.selectKeys(touching(rib))) {
    if (!(slot instanceof RibEntry)) {
      if (slot.owner !== rib) continue;
      const q = map(slot);
      q.refs++;
      t.routes.set(key, q);
      if (q !== slot) emit(onlyChange(key, 'change', q));
      continue;
    }
    let touched = false;
    for (let i = 0; i < slot.paths.length; i++) {
      const p = slot.paths[i]!;
      if (p.owner !== rib) continue;
      const q = map(p);
      q.refs++;
      slot.paths[i] = q;
      touched = true;
    }
    if (!touched) continue;
    const c = redecide(t, key, slot);
    if (c) emit(c);
  }
}

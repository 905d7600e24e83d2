/**
 * Adj-RIB-In of one peer: prefix key → interned Path. Paths are interned per
 * peer by attribute key, so a million prefixes with a few hundred attribute sets
 * cost a few hundred Path objects. Graceful restart (RFC 4724, receiving speaker):
 * `markStale` flags every interned path of the peer (O(attribute sets), not
 * O(routes)) and starts a new intern table, so re-announced routes get fresh,
 * non-stale paths; `sweepStale` then drops whatever is still stale. Paths are
 * reference-counted, so an attribute set no route uses any more leaves the intern
 * table (churning attributes do not grow it).
 */
import { flatJoin } from '../wire/prefix.js';
import { attrsKey, familyOfKey, stripPathId, type Family, type Path, type PeerInfo, type RouteAttrs } from './path.js';

export interface AdjRibIn {
  source: PeerInfo;
  /** prefix key (with "#pathId" for ADD-PATH) → path */
  readonly routes: Map<string, Path>;
  /** ADD-PATH: prefix → the path ids held for it */
  readonly addPath: Map<string, number[]>;
  intern: Map<string, Path>;
  /** paths kept stale by graceful restart, counted per family */
  staleCount: number;
}

export function newAdjRibIn(source: PeerInfo): AdjRibIn {
  return { source, routes: new Map(), addPath: new Map(), intern: new Map(), staleCount: 0 };
}

export function internPath(rib: AdjRibIn, attrs: RouteAttrs): Path {
  const key = attrsKey(attrs);
  let p = rib.intern.get(key);
  if (!p) {
    p = { source: rib.source, attrs, stale: false, key, refs: 0 };
    rib.intern.set(key, p);
  }
  return p;
}

function release(rib: AdjRibIn, p: Path): void {
  if (--p.refs <= 0 && rib.intern.get(p.key) === p) rib.intern.delete(p.key);
}

function replaced(rib: AdjRibIn, old: Path | undefined, path: Path): void {
  if (old === path) return;
  path.refs++;
  if (old) {
    if (old.stale) rib.staleCount--;
    release(rib, old);
  }
}

/** Stores a route; returns the path it replaced, if any. */
export function setRoute(rib: AdjRibIn, prefix: string, pathId: number | undefined, path: Path): Path | undefined {
  if (pathId === undefined) {
    const old = rib.routes.get(prefix);
    rib.routes.set(prefix, path);
    replaced(rib, old, path);
    return old;
  }
  const key = flatJoin(prefix, '#', String(pathId));
  const old = rib.routes.get(key);
  rib.routes.set(key, path);
  replaced(rib, old, path);
  if (!old) {
    const ids = rib.addPath.get(prefix);
    if (ids) ids.push(pathId); else rib.addPath.set(prefix, [pathId]);
  }
  return old;
}

export function deleteRoute(rib: AdjRibIn, prefix: string, pathId: number | undefined): Path | undefined {
  const key = pathId === undefined ? prefix : flatJoin(prefix, '#', String(pathId));
  const old = rib.routes.get(key);
  if (!old) return undefined;
  rib.routes.delete(key);
  if (old.stale) rib.staleCount--;
  release(rib, old);
  if (pathId !== undefined) {
    const ids = rib.addPath.get(prefix);
    if (ids) {
      const rest = ids.filter((x) => x !== pathId);
      if (rest.length) rib.addPath.set(prefix, rest); else rib.addPath.delete(prefix);
    }
  }
  return old;
}

/** Every path this peer holds for `prefix` (one, or several with ADD-PATH), appended to `out`. */
export function pathsFor(rib: AdjRibIn, prefix: string, out: Path[]): void {
  const p = rib.routes.get(prefix);
  if (p) out.push(p);
  if (rib.addPath.size > 0) {
    const ids = rib.addPath.get(prefix);
    if (ids) for (const id of ids) { const q = rib.routes.get(`${prefix}#${id}`); if (q) out.push(q); }
  }
}

/**
 * Like `pathsFor`, but writes into out[n..] and returns the new count, so a caller
 * can reuse one scratch array without `length = 0` (which drops its backing store
 * and makes every push allocate again).
 */
export function collectPaths(rib: AdjRibIn, prefix: string, out: Path[], n: number): number {
  const p = rib.routes.get(prefix);
  if (p) out[n++] = p;
  if (rib.addPath.size > 0) {
    const ids = rib.addPath.get(prefix);
    if (ids) for (const id of ids) { const q = rib.routes.get(`${prefix}#${id}`); if (q) out[n++] = q; }
  }
  return n;
}

/** Number of distinct prefixes held (ADD-PATH paths of one prefix count once). */
export function prefixCount(rib: AdjRibIn): number {
  let extra = 0;
  for (const ids of rib.addPath.values()) extra += ids.length - 1;
  return rib.routes.size - extra;
}

/** Session lost with graceful restart: keep everything, marked stale. */
export function markStale(rib: AdjRibIn): void {
  for (const p of rib.intern.values()) p.stale = true;
  rib.intern = new Map();
  rib.staleCount = rib.routes.size;
}

/** Drops stale routes (of one family, or all); returns the prefix keys removed (without path ids). */
export function sweepStale(rib: AdjRibIn, family?: Family): string[] {
  const removed: string[] = [];
  if (rib.staleCount === 0) return removed;
  for (const [key, p] of rib.routes) {
    if (!p.stale || (family && familyOfKey(key) !== family)) continue;
    const hash = key.indexOf('#');
    if (hash < 0) deleteRoute(rib, key, undefined);
    else deleteRoute(rib, key.slice(0, hash), Number(key.slice(hash + 1)));
    removed.push(stripPathId(key));
  }
  return removed;
}

/** New source info (e.g. route-reflector-client changed): every path is re-created for it. */
export function rebaseSource(rib: AdjRibIn, source: PeerInfo): void {
  rib.source = source;
  rib.intern = new Map();
  const map = new Map<Path, Path>();
  for (const [key, old] of rib.routes) {
    let q = map.get(old);
    if (!q) {
      q = old.stale ? { source, attrs: old.attrs, stale: true, key: old.key, refs: 0 } : internPath(rib, old.attrs);
      map.set(old, q);
    }
    q.refs++;
    rib.routes.set(key, q);
  }
}

/** Empties the table; returns the prefixes it held (for re-running the decision). */
export function clearRib(rib: AdjRibIn): string[] {
  const keys = new Set<string>();
  for (const key of rib.routes.keys()) keys.add(stripPathId(key));
  rib.routes.clear(); rib.addPath.clear(); rib.intern = new Map(); rib.staleCount = 0;
  return [...keys];
}

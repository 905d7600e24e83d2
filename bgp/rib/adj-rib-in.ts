/**
 * Adj-RIB-In of one peer, as a view over the shared prefix table (table.ts): the
 * routes themselves live in that table (one entry per prefix holding every peer's
 * paths, so a new prefix costs one hash insert, as in BIRD without `import
 * table`); this value keeps what is per peer: the intern table, route counters and
 * the graceful-restart stale count. Paths are interned per peer by attribute key,
 * so a million prefixes with a few hundred attribute sets cost a few hundred Path
 * objects, each knowing its owner (the identity of "this peer's path" in a table
 * entry). Graceful restart (RFC 4724, receiving speaker): `markStale` flags every
 * interned path of the peer (O(attribute sets), not O(routes)) and starts a new
 * intern table, so re-announced routes get fresh, non-stale paths; sweeping the
 * stale ones is a table scan (table.ts `dropPaths`). Paths are reference-counted,
 * so an attribute set no route uses any more leaves the intern table.
 */
import { attrsKey, type Path, type PeerInfo, type RouteAttrs } from './path.js';

export interface AdjRibIn {
  source: PeerInfo;
  /** position among the sources (origin 0, peers in the order they were added): candidate order in the table */
  readonly order: number;
  intern: Map<string, Path>;
  /** routes held (an ADD-PATH prefix counts once per path id) */
  count: number;
  /** distinct prefixes held */
  prefixes: number;
  /** routes kept stale by graceful restart */
  staleCount: number;
}

export function newAdjRibIn(source: PeerInfo, order = 0): AdjRibIn {
  return { source, order, intern: new Map(), count: 0, prefixes: 0, staleCount: 0 };
}

export function internPath(rib: AdjRibIn, attrs: RouteAttrs): Path {
  const key = attrsKey(attrs);
  let p = rib.intern.get(key);
  if (!p) {
    p = { source: rib.source, attrs, stale: false, key, refs: 0, owner: rib, hops: undefined };
    rib.intern.set(key, p);
  }
  return p;
}

/** A route of `rib` stops referring to `p`. */
export function releasePath(rib: AdjRibIn, p: Path): void {
  if (p.stale) rib.staleCount--;
  if (--p.refs <= 0 && rib.intern.get(p.key) === p) rib.intern.delete(p.key);
}

/** Number of distinct prefixes held (ADD-PATH paths of one prefix count once). */
export function prefixCount(rib: AdjRibIn): number {
  return rib.prefixes;
}

/** Session lost with graceful restart: keep everything, marked stale. */
export function markStale(rib: AdjRibIn): void {
  for (const p of rib.intern.values()) p.stale = true;
  rib.intern = new Map();
  rib.staleCount = rib.count;
}

/**
 * New source info (e.g. route-reflector-client changed): a fresh intern table and
 * the mapping from each old path to its replacement (table.ts `mapPaths` applies it).
 */
export function rebaseSource(rib: AdjRibIn, source: PeerInfo): (old: Path) => Path {
  rib.source = source;
  rib.intern = new Map();
  const map = new Map<Path, Path>();
  return (old) => {
    let q = map.get(old);
    if (!q) {
      q = old.stale ? { source, attrs: old.attrs, stale: true, key: old.key, refs: 0, owner: rib, hops: undefined } : internPath(rib, old.attrs);
      map.set(old, q);
    }
    return q;
  };
}

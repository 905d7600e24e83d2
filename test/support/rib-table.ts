/**
 * Test readers of the prefix table (bgp/rib/table.ts) built on its public API, so
 * the production module carries no listing that only tests call.
 */
import type { AdjRibIn } from '../../bgp/rib/adj-rib-in.js';
import type { Path } from '../../bgp/rib/path.js';
import { bestOf, forEachRoute, RibEntry, type RibTable, type Slot } from '../../bgp/rib/table.js';

/** `rib`'s routes as key ("#id" appended for ADD-PATH) → path, in the table's listing order. */
export function routesOf(t: RibTable, rib: AdjRibIn): Map<string, Path> {
  const out = new Map<string, Path>();
  forEachRoute(t, rib, (k, p) => out.set(k, p));
  return out;
}

/** The Loc-RIB value of an entry: [best], or [best, ...equal-cost] with multipath. */
export function selectedOf(e: Slot): readonly Path[] {
  const b = e instanceof RibEntry ? e.best : e;
  return Array.isArray(b) ? b : [b];
}

/** The best path of `key` in the table, or undefined when the prefix has no route. */
export function bestAt(t: RibTable, key: string): Path | undefined {
  const e = t.routes.get(key);
  return e === undefined ? undefined : bestOf(e);
}

/**
 * The route writer: desired routes in, the kernel converged, a report out.
 * Stateless between calls — every call dumps what the kernel has (both families),
 * diffs against the desired set (plan/route-diff.ts) and writes only the difference
 * in one batch. Safe to call on every change and on a timer (drift repair); a
 * restart does the same and removes nothing that is still wanted.
 */
import type { Rtnl, RouteWrite } from './kernel/rtnl.js';
import { errnoName } from './kernel/errno.js';
import { RT_TABLE_MAIN } from './netlink/constants.js';
import type { RouteMsg } from './netlink/route.js';
import { diffRoutes, type RouteDiff } from './plan/route-diff.js';
import { MARGAY_ROUTE_PROTOCOL, resolveRoutes } from './plan/resolve.js';
import type { DesiredRoute } from './plan/types.js';

export interface RouteReport {
  added: number;
  replaced: number;
  deleted: number;
  unchanged: number;
  failed: { route: RouteMsg; op: string; error: string }[];
  conflicts: RouteDiff['conflicts'];
  unresolved: { dst: string; missing: string }[];
}

export function reconcileRoutes(nl: Rtnl, desired: readonly DesiredRoute[], opts: { protocol?: number; table?: number } = {}): RouteReport {
  const protocol = opts.protocol ?? MARGAY_ROUTE_PROTOCOL;
  const table = opts.table ?? RT_TABLE_MAIN;
  const byName = new Map(nl.links().map((l) => [l.name, l.index]));
  const { routes, unresolved } = resolveRoutes(desired, byName, { protocol, table });
  const actual = [...nl.routes(4), ...nl.routes(6)].filter((r) => r.table === table);
  // a desired route whose device is missing keeps any route margay already has for it
  const held = new Set(unresolved.map((u) => u.route.dst));
  const diff = diffRoutes(routes, actual.filter((r) => !(r.protocol === protocol && held.has(r.dst))), protocol);
  const writes: RouteWrite[] = diff.ops.map((o) => ({ op: o.op === 'delete' ? 'delete' : o.op === 'add' ? 'add' : 'replace', route: o.route }));
  const failures = writes.length > 0 ? nl.writeRoutes(writes) : [];
  const failedIdx = new Set(failures.map((f) => f.index));
  const count = (op: string): number => diff.ops.filter((o, i) => o.op === op && !failedIdx.has(i)).length;
  return {
    added: count('add'),
    replaced: count('replace'),
    deleted: count('delete'),
    unchanged: diff.unchanged,
    failed: failures.map((f) => {
      const w = writes[f.index] as RouteWrite;
      return { route: w.route, op: w.op, error: `${errnoName(f.errno)}${f.message ? ` (${f.message})` : ''}` };
    }),
    conflicts: diff.conflicts,
    unresolved: unresolved.map((u) => ({ dst: u.route.dst, missing: u.missing })),
  };
}

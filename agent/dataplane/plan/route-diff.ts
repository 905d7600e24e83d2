/**
 * Desired routes vs the kernel's, as the minimal list of operations. Routes are
 * identified by (table, dst). Ownership is by protocol number: routes carrying
 * margay's protocol and not desired are deleted; routes of other protocols are left
 * alone — unless one occupies a destination margay must program (a route to one of
 * margay's blocks changed by hand), which is then replaced; kernel-made routes
 * (proto kernel) and the CNI plugin's pod host routes (MARGAY_POD_ROUTE_PROTOCOL)
 * are never taken over — a learned route for a local pod must not replace the
 * pod's own route. A route already as desired is not touched, so
 * a restart converges without removing a working route.
 */
import { RTPROT_KERNEL } from '../netlink/constants.js';
import type { NextHop, RouteMsg } from '../netlink/route.js';
import { MARGAY_POD_ROUTE_PROTOCOL } from './resolve.js';

export type RouteOp =
  | { op: 'add'; route: RouteMsg }
  | { op: 'replace'; route: RouteMsg; was: RouteMsg }
  | { op: 'delete'; route: RouteMsg };

export interface RouteDiff {
  ops: RouteOp[];
  /** Desired destinations held by a route margay may not take over. */
  conflicts: { want: RouteMsg; have: RouteMsg }[];
  unchanged: number;
}

export const routeKey = (r: Pick<RouteMsg, 'table' | 'dst'>): string => `${r.table} ${r.dst}`;

const nhText = (n: NextHop): string => `${n.gateway ?? '-'}@${n.ifindex ?? 0}${n.onlink ? ' onlink' : ''} w${n.weight}`;
const hopsText = (hs: readonly NextHop[]): string => hs.map(nhText).sort().join(', ');

/**
 * Whether the kernel's route already is what is wanted (the fields margay sets).
 * Next hops count only for unicast: the kernel reports IPv6 blackholes through `lo`.
 */
export function sameRoute(want: RouteMsg, have: RouteMsg): boolean {
  const hopsMatter = want.type === 'unicast';
  return want.dst === have.dst && want.table === have.table && want.type === have.type && want.protocol === have.protocol &&
    want.scope === have.scope && (!hopsMatter || hopsText(want.nexthops) === hopsText(have.nexthops)) &&
    (want.prefsrc === undefined || want.prefsrc === have.prefsrc);
}

export function diffRoutes(desired: readonly RouteMsg[], actual: readonly RouteMsg[], protocol: number): RouteDiff {
  const ops: RouteOp[] = [];
  const conflicts: RouteDiff['conflicts'] = [];
  let unchanged = 0;
  const mine = new Map<string, RouteMsg[]>();
  const foreign = new Map<string, RouteMsg>();
  for (const r of actual) {
    if (r.protocol === protocol) {
      const list = mine.get(routeKey(r)) ?? [];
      list.push(r);
      mine.set(routeKey(r), list);
    } else if (!foreign.has(routeKey(r))) foreign.set(routeKey(r), r);
  }
  const wanted = new Set<string>();
  for (const want of desired) {
    const key = routeKey(want);
    wanted.add(key);
    const have = mine.get(key) ?? [];
    const exact = have.find((h) => sameRoute(want, h));
    if (exact) {
      unchanged++;
      for (const h of have) if (h !== exact) ops.push({ op: 'delete', route: h });
      continue;
    }
    const first = have[0];
    const other = foreign.get(key);
    if (first) {
      ops.push({ op: 'replace', route: want, was: first });
      for (const h of have.slice(1)) ops.push({ op: 'delete', route: h });
    } else if (other && (other.protocol === RTPROT_KERNEL || other.protocol === MARGAY_POD_ROUTE_PROTOCOL)) {
      conflicts.push({ want, have: other });
    } else if (other) {
      ops.push({ op: 'replace', route: want, was: other });
    } else {
      ops.push({ op: 'add', route: want });
    }
  }
  for (const [key, list] of mine) if (!wanted.has(key)) for (const r of list) ops.push({ op: 'delete', route: r });
  return { ops, conflicts, unchanged };
}

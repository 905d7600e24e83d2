/**
 * The fast path's decision (pure, memoized per context): the kernel writes for a few changed prefixes —
 * a learned route added, changed or withdrawn, or an own block just claimed — made
 * by the very functions the full pass plans with (dataplaneInputOf → planRoutes →
 * resolveRoutes), fed the same inputs but only the changed prefixes' learned
 * routes and own blocks. A block's route depends only on its own learned next hops, the nodes, the
 * pools, the node's own blocks and the tunnel addresses, so the result for those
 * prefixes is the one the full pass would reach: direct / VXLAN / IPIP next hop,
 * ECMP over several owners, routers that are no node, blackholes for own blocks.
 * (The import filter for peers that are no node acts in the speaker, before a route
 * reaches `learned`, so both paths see the same routes.) A remote block whose pool,
 * family and next hops were planned before in the same context reuses that route
 * with its own dst (route templates, below: plan ~7.7 → ~4.3 µs hot, and far less
 * code and memory touched on a cold wake-up); the property test holds both paths
 * to the full pass.
 *
 * Ownership stays the full pass's: a destination margay does not hold yet is
 * written with CREATE|EXCL (a foreign route there fails the write, and the full
 * pass decides, as it does today); one it holds is replaced; one no longer wanted
 * is deleted by (dst, protocol 80), which never touches a route of another owner.
 */
import type { RouteWrite } from '../dataplane/kernel/rtnl.js';
import { RT_TABLE_MAIN } from '../dataplane/netlink/constants.js';
import { canonicalPrefix, familyOf, prefixCovers } from '../dataplane/netlink/ip.js';
import type { RouteMsg } from '../dataplane/netlink/route.js';
import { MARGAY_ROUTE_PROTOCOL, resolveRoutes } from '../dataplane/plan/resolve.js';
import { planRoutes, poolOf } from '../dataplane/plan/route-plan.js';
import type { DataplaneConfig, PoolSpec } from '../dataplane/plan/types.js';
import type { Block } from '../ipam/types.js';
import type { NodeBgpInfo } from '../node-config/types.js';
import { dataplaneInputOf, type NodeTunnels } from './desired.js';

/** What the last full pass planned with (everything but the routes themselves). */
export interface RouteContext {
  node: string;
  nodes: readonly NodeBgpInfo[];
  pools: PoolSpec[];
  config: DataplaneConfig;
  /** tunnel device addresses by node (contextKey serialises them all: an IPIP or VXLAN address appearing changes the context) */
  tunnels: ReadonlyMap<string, NodeTunnels>;
  /** device name → ifindex, as the last pass saw the links */
  ifindexByName: ReadonlyMap<string, number>;
}

export interface FastWrites {
  writes: RouteWrite[];
  /** why the fast path steps aside (the full pass then runs at once) */
  fallback?: string;
}

/** RT_SCOPE_NOWHERE: a delete that matches whatever scope the route has. */
const SCOPE_ANY = 255;

/**
 * Routes planned for one RouteContext, by what decides a remote block's route: its
 * pool (the first that covers it), its family and its set of next hops — the same
 * three give the same route but for `dst` (planRoutes plans each block on its own;
 * owners and routers come from the hops, order and repeats aside). A prefix with a
 * template skips the planner; the others go through it and leave a template. Own
 * blocks (blackholes) and withdrawals always take the planner. A new context (a
 * full pass whose inputs changed shape, routes-pass.ts) starts empty.
 */
const templates = new WeakMap<RouteContext, Map<string, RouteMsg>>();

function templateKey(ctx: RouteContext, dst: string, hops: readonly string[]): string {
  const family = familyOf(dst.split('/')[0] ?? '');
  const uniq = hops.length === 1 ? hops : [...new Set(hops)].sort();
  return `${poolOf(ctx.pools, dst)?.cidr ?? '-'}|${family}|${uniq.join(',')}`;
}

/**
 * Kernel writes for `prefixes`. `programmed`: destinations margay's routes hold now
 * (from the last full pass and the fast writes since).
 */
export function planFastWrites(
  ctx: RouteContext,
  now: { own: readonly Block[]; learned: ReadonlyMap<string, readonly string[]> },
  prefixes: readonly string[],
  programmed: ReadonlySet<string>,
): FastWrites {
  let memo = templates.get(ctx);
  if (!memo) templates.set(ctx, memo = new Map());
  const dsts = prefixes.map(canonicalPrefix);
  const distinct = new Set(dsts).size === dsts.length;
  const writes: RouteWrite[] = [];
  const planned: string[] = [];
  const keyOf = new Map<string, string>();
  // own blocks' canonical prefixes, parsed once per call
  const ownDsts = now.own.map((b) => canonicalPrefix(b.cidr));
  // a prefix strictly inside an own block: the full pass decides (it shadows a router's copy, takes a lent address's host route: desired.ts)
  const inOwn = dsts.find((d) => ownDsts.some((o) => o !== d && prefixCovers(o, d)));
  if (inOwn !== undefined) return { writes: [], fallback: `${inOwn} lies inside an own block` };
  prefixes.forEach((p, i) => {
    const dst = dsts[i] as string;
    const hops = now.learned.get(p);
    if (!distinct || !hops || hops.length === 0 || ownDsts.includes(dst)) return void planned.push(p);
    const key = templateKey(ctx, dst, hops);
    const t = memo.get(key);
    if (!t) {
      keyOf.set(dst, key);
      return void planned.push(p);
    }
    writes.push({ op: programmed.has(dst) ? 'replace' : 'add', route: { ...t, dst } });
  });
  if (planned.length > 0) {
    const r = planWithPlanner(ctx, now, ownDsts, planned, programmed);
    if (r.fallback) return r;
    for (const w of r.writes) {
      const key = keyOf.get(w.route.dst);
      if (key !== undefined && w.op !== 'delete') memo.set(key, w.route);
      writes.push(w);
    }
  }
  writes.sort((a, b) => (a.route.dst < b.route.dst ? -1 : a.route.dst > b.route.dst ? 1 : 0));
  return { writes };
}

/** `prefixes` through the full pass's planner (dataplaneInputOf → planRoutes → resolveRoutes). */
function planWithPlanner(
  ctx: RouteContext,
  now: { own: readonly Block[]; learned: ReadonlyMap<string, readonly string[]> },
  /** canonicalPrefix of each of now.own, in order */
  ownDsts: readonly string[],
  prefixes: readonly string[],
  programmed: ReadonlySet<string>,
): FastWrites {
  const wanted = new Set(prefixes.map(canonicalPrefix));
  const learned = new Map<string, readonly string[]>();
  for (const p of prefixes) {
    const hops = now.learned.get(p);
    if (hops) learned.set(p, hops);
  }
  // only the changed prefixes' own blocks: an own block wins over a learned route for the same prefix, and no other block changes these routes
  const own = now.own.filter((_, i) => wanted.has(ownDsts[i] as string));
  const { input } = dataplaneInputOf({ node: ctx.node, nodes: ctx.nodes, pools: ctx.pools, own, learned, config: ctx.config, tunnels: ctx.tunnels });
  const { routes, unresolved } = resolveRoutes(planRoutes(input).routes.filter((r) => wanted.has(r.dst)), ctx.ifindexByName, { protocol: MARGAY_ROUTE_PROTOCOL, table: RT_TABLE_MAIN });
  if (unresolved.length > 0) return { writes: [], fallback: `device ${unresolved[0]?.missing} does not exist` };
  const byDst = new Map(routes.map((r) => [r.dst, r]));
  const writes: RouteWrite[] = [];
  for (const dst of [...wanted].sort()) {
    const route = byDst.get(dst);
    if (route) writes.push({ op: programmed.has(dst) ? 'replace' : 'add', route });
    else if (programmed.has(dst)) writes.push({ op: 'delete', route: deletion(dst) });
  }
  return { writes };
}

/** RTM_DELROUTE matching margay's route for dst whatever its next hops, type or scope. */
export function deletion(dst: string): RouteMsg {
  return { family: familyOf(dst.split('/')[0] ?? ''), dst, table: RT_TABLE_MAIN, protocol: MARGAY_ROUTE_PROTOCOL, scope: SCOPE_ANY, type: 'unspec', nexthops: [] };
}

/**
 * Desired routes by device name → kernel route messages by ifindex, given the
 * node's links. A route whose device does not exist (yet) is returned as unresolved.
 */
import { RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN } from '../netlink/constants.js';
import { familyOf, parsePrefix } from '../netlink/ip.js';
import type { NextHop, RouteMsg } from '../netlink/route.js';
import type { DesiredRoute } from './types.js';

/** margay's route protocol number (rtm_protocol): `ip route show proto 80`. */
export const MARGAY_ROUTE_PROTOCOL = 80;
/** Protocol number suggested for pods' /32 host routes, written by the CNI side (a separate owner). */
export const MARGAY_POD_ROUTE_PROTOCOL = 81;

export interface Resolved {
  routes: RouteMsg[];
  unresolved: { route: DesiredRoute; missing: string }[];
}

export function resolveRoutes(desired: readonly DesiredRoute[], ifindexByName: ReadonlyMap<string, number>, opts: { protocol: number; table?: number }): Resolved {
  const routes: RouteMsg[] = [];
  const unresolved: Resolved['unresolved'] = [];
  for (const d of desired) {
    const nexthops: NextHop[] = [];
    let missing: string | undefined;
    for (const h of d.nexthops) {
      const nh: NextHop = { onlink: h.onlink, weight: h.weight };
      if (h.gateway !== undefined) nh.gateway = h.gateway;
      if (h.dev !== undefined) {
        const index = ifindexByName.get(h.dev);
        if (index === undefined) missing = h.dev;
        else nh.ifindex = index;
      }
      nexthops.push(nh);
    }
    if (missing !== undefined) {
      unresolved.push({ route: d, missing });
      continue;
    }
    const p = parsePrefix(d.dst);
    const deviceRoute = d.type === 'unicast' && nexthops.length === 1 && nexthops[0]?.gateway === undefined;
    routes.push({
      family: familyOf(p.address),
      dst: `${p.address}/${p.length}`,
      table: opts.table ?? RT_TABLE_MAIN,
      protocol: opts.protocol,
      scope: deviceRoute ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE,
      type: d.type,
      nexthops,
    });
  }
  return { routes, unresolved };
}

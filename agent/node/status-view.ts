/** Pure pieces of the agent's status answer: route rows and tunnel rows from the dataplane plan, block rows, rejection sentences. */
import type { Rejection } from '../datastore/datastore.js';
import { isV6Pool } from '../dataplane/plan/route-plan.js';
import type { DataplanePlan, DesiredRoute, PoolSpec } from '../dataplane/plan/types.js';
import { vtepLinkLocal } from '../dataplane/plan/vtep.js';
import type { Block } from '../ipam/types.js';
import type { BlockRow, RouteRow, TunnelRow } from '../status/types.js';

export function routeRows(routes: readonly DesiredRoute[]): RouteRow[] {
  return routes.map((r) => ({
    prefix: r.dst,
    via: r.type === 'blackhole' ? 'blackhole' : r.nexthops.map((n) => `${n.gateway ? `via ${n.gateway} ` : ''}dev ${n.dev ?? '?'}${n.onlink ? ' onlink' : ''}`).join(', '),
    reason: r.reason,
  }));
}

const bare = (a: string): string => a.split('/')[0] ?? a;

/**
 * The tunnel devices of a dataplane plan (the last pass's; none without one), in the
 * order VXLAN, VXLAN over IPv6, IPIP: the device name, the IPv4 tunnel address the
 * plan gives it, and — when an IPv6 pool uses VXLAN (`pools`, as the planner counts
 * them: disabled ones too) — the VTEP link-local that other nodes' IPv6 routes to
 * this node's blocks go via. The IPv6-underlay device exists only for IPv6 and always has it.
 */
export function tunnelRows(plan: DataplanePlan | undefined, pools: readonly PoolSpec[]): TunnelRow[] {
  if (!plan) return [];
  const v6 = pools.some((p) => p.vxlanMode !== 'Never' && isV6Pool(p));
  const out: TunnelRow[] = [];
  if (plan.vxlan) {
    const { device, address, mac } = plan.vxlan;
    out.push({ type: 'vxlan', device, ...(address !== undefined ? { address: bare(address) } : {}), ...(v6 ? { address6: vtepLinkLocal(mac) } : {}), mac });
  }
  if (plan.vxlan6) out.push({ type: 'vxlan-v6', device: plan.vxlan6.device, address6: vtepLinkLocal(plan.vxlan6.mac), mac: plan.vxlan6.mac });
  if (plan.ipip) out.push({ type: 'ipip', device: plan.ipip.device, ...(plan.ipip.address !== undefined ? { address: bare(plan.ipip.address) } : {}) });
  return out;
}

export function blockRows(own: readonly Block[]): BlockRow[] {
  return own.map((b) => ({ cidr: b.cidr, pool: b.pool, used: b.allocations.filter((x) => x !== null).length, size: b.allocations.length }));
}

export function rejectionSentence(r: Rejection): string {
  return `${r.source}: ${r.object} rejected: ${r.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`;
}

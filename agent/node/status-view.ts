/** Pure pieces of the agent's status answer: route rows from the dataplane plan, block rows, rejection sentences. */
import type { Rejection } from '../datastore/datastore.js';
import type { DesiredRoute } from '../dataplane/plan/types.js';
import type { Block } from '../ipam/types.js';
import type { BlockRow, RouteRow } from '../status/types.js';

export function routeRows(routes: readonly DesiredRoute[]): RouteRow[] {
  return routes.map((r) => ({
    prefix: r.dst,
    via: r.type === 'blackhole' ? 'blackhole' : r.nexthops.map((n) => `${n.gateway ? `via ${n.gateway} ` : ''}dev ${n.dev ?? '?'}${n.onlink ? ' onlink' : ''}`).join(', '),
    reason: r.reason,
  }));
}

export function blockRows(own: readonly Block[]): BlockRow[] {
  return own.map((b) => ({ cidr: b.cidr, pool: b.pool, used: b.allocations.filter((x) => x !== null).length, size: b.allocations.length }));
}

export function rejectionSentence(r: Rejection): string {
  return `${r.source}: ${r.object} rejected: ${r.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`;
}

/**
 * From a received UPDATE's attributes to RouteAttrs (RFC 4271 §9.1.1, RFC 4456
 * §8, RFC 6793 §4.2.3): next hops taken from NEXT_HOP or MP_REACH, AS4_PATH /
 * AS4_AGGREGATOR merged for 2-octet peers, LOCAL_PREF ignored from eBGP peers, and
 * checks whose failure treats the route as withdrawn: confederation segments (margay
 * has no confederations: RFC 5065 §5, RFC 7606 §7.2), an eBGP path that is empty or
 * does not start with an AS_SEQUENCE led by the peer's AS (RFC 4271 §6.3, RFC 7606
 * §7.2), and loops (own AS in AS_PATH from eBGP, our router id as ORIGINATOR_ID, our
 * cluster id in CLUSTER_LIST).
 */
import { reconcileAs4 } from '../wire/as4.js';
import type { PathAttributes } from '../wire/types.js';
import type { RouteAttrs } from './path.js';

export interface ImportContext {
  localAs: number;
  routerId: string;
  clusterId: string;
  ibgp: boolean;
  /** the peer's AS: an eBGP path must start with it */
  peerAs: number;
  /** the session carries 4-octet ASNs (no AS4_PATH merging needed) */
  as4: boolean;
}

export type ImportRefusal = 'confed-path' | 'first-as' | 'as-loop' | 'originator-loop' | 'cluster-loop';
export type ImportVerdict = { ok: true; attrs: RouteAttrs } | { ok: false; reason: ImportRefusal };

export function importAttrs(received: PathAttributes, nextHops: string[], ctx: ImportContext): ImportVerdict {
  const a = reconcileAs4(received, ctx.as4); // the codec's RFC 6793 §4.2.3 merge
  const asPath = a.asPath ?? [];
  const aggregator = a.aggregator;
  for (const s of asPath) if (s.type === 'AS_CONFED_SEQUENCE' || s.type === 'AS_CONFED_SET') return { ok: false, reason: 'confed-path' };
  if (!ctx.ibgp) {
    const first = asPath[0];
    if (first === undefined || first.type !== 'AS_SEQUENCE' || first.asns[0] !== ctx.peerAs) return { ok: false, reason: 'first-as' };
    for (const s of asPath) if (s.asns.includes(ctx.localAs)) return { ok: false, reason: 'as-loop' };
  }
  if (a.originatorId !== undefined && a.originatorId === ctx.routerId) return { ok: false, reason: 'originator-loop' };
  if (a.clusterList?.includes(ctx.clusterId)) return { ok: false, reason: 'cluster-loop' };
  // fixed field order: the attribute key depends on it
  const attrs: RouteAttrs = { origin: a.origin ?? 'INCOMPLETE', asPath, nextHops };
  if (a.med !== undefined) attrs.med = a.med;
  if (ctx.ibgp && a.localPref !== undefined) attrs.localPref = a.localPref;
  if (a.atomicAggregate) attrs.atomicAggregate = true;
  if (aggregator) attrs.aggregator = aggregator;
  if (a.communities?.length) attrs.communities = a.communities;
  if (ctx.ibgp && a.originatorId !== undefined) attrs.originatorId = a.originatorId;
  if (ctx.ibgp && a.clusterList?.length) attrs.clusterList = a.clusterList;
  if (a.extendedCommunities?.length) attrs.extendedCommunities = a.extendedCommunities;
  if (a.largeCommunities?.length) attrs.largeCommunities = a.largeCommunities;
  // unknown optional transitive attributes travel on (flag 0x40 transitive); non-transitive ones stop here
  const unknown = a.unknown?.filter((u) => (u.flags & 0x80) !== 0 && (u.flags & 0x40) !== 0);
  if (unknown?.length) attrs.unknown = unknown.map((u) => ({ code: u.code, flags: u.flags | 0x20, hex: u.hex }));
  return { ok: true, attrs };
}

/**
 * From a received UPDATE's attributes to RouteAttrs (RFC 4271 §9.1.1, RFC 4456
 * §8, RFC 6793 §4.2.3): next hops taken from NEXT_HOP or MP_REACH, AS4_PATH /
 * AS4_AGGREGATOR merged for 2-octet peers, LOCAL_PREF ignored from eBGP peers, and
 * loop detection (own AS in AS_PATH from eBGP, our router id as ORIGINATOR_ID, our
 * cluster id in CLUSTER_LIST) — a looped route is treated as withdrawn.
 */
import { AS_TRANS, type AsPathSegment, type PathAttributes } from '../wire/types.js';
import type { RouteAttrs } from './path.js';

export interface ImportContext {
  localAs: number;
  routerId: string;
  clusterId: string;
  ibgp: boolean;
  /** the session carries 4-octet ASNs (no AS4_PATH merging needed) */
  as4: boolean;
}

export type ImportVerdict = { ok: true; attrs: RouteAttrs } | { ok: false; reason: 'as-loop' | 'originator-loop' | 'cluster-loop' };

function countAses(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) n += s.type === 'AS_SEQUENCE' ? s.asns.length : s.type === 'AS_SET' ? 1 : 0;
  return n;
}

/** RFC 6793 §4.2.3: rebuild the 4-octet path from AS_PATH and AS4_PATH. */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const as4 = as4Path.filter((s) => s.type === 'AS_SEQUENCE' || s.type === 'AS_SET');
  const total = countAses(asPath);
  const tail = countAses(as4);
  if (total < tail) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  let keep = total - tail;
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    if (keep <= 0) break;
    if (s.type === 'AS_CONFED_SEQUENCE' || s.type === 'AS_CONFED_SET') { out.push({ type: s.type, asns: [...s.asns] }); continue; }
    if (s.type === 'AS_SET') { out.push({ type: s.type, asns: [...s.asns] }); keep -= 1; continue; }
    const take = s.asns.slice(0, keep);
    out.push({ type: 'AS_SEQUENCE', asns: take });
    keep -= take.length;
  }
  for (const s of as4) {
    const last = out[out.length - 1];
    if (last && last.type === 'AS_SEQUENCE' && s.type === 'AS_SEQUENCE' && last.asns.length + s.asns.length <= 255) last.asns.push(...s.asns);
    else out.push({ type: s.type, asns: [...s.asns] });
  }
  return out;
}

export function importAttrs(a: PathAttributes, nextHops: string[], ctx: ImportContext): ImportVerdict {
  let asPath = a.asPath ?? [];
  let aggregator = a.aggregator;
  if (!ctx.as4 && (a.as4Path || a.as4Aggregator)) {
    // §4.2.3: an AGGREGATOR with a real 2-octet AS means AS4_PATH/AS4_AGGREGATOR are stale: ignore both
    if (!(aggregator && aggregator.asn !== AS_TRANS)) {
      if (a.as4Path) asPath = mergeAs4Path(asPath, a.as4Path);
      if (a.as4Aggregator) aggregator = a.as4Aggregator;
    }
  }
  if (!ctx.ibgp) {
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

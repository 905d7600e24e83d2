/**
 * What a path looks like when sent to one peer, or whether it is sent at all
 * (RFC 4271 §9.1.3, §5.1; RFC 4456 §6, §8; RFC 1997):
 * - never back to the peer it came from; NO_ADVERTISE to nobody; NO_EXPORT and
 *   NO_EXPORT_SUBCONFED to no eBGP peer (margay has no confederations);
 * - iBGP → iBGP only by route reflection: from a client to everyone, from a
 *   non-client to clients only; reflection sets ORIGINATOR_ID (if absent) and
 *   prepends our CLUSTER_ID to CLUSTER_LIST;
 * - to eBGP: prepend our AS (no AS_CONFED_* segment reaches here: import refuses
 *   them, RFC 5065 §5, and local paths have an empty AS_PATH), next hop self
 *   (unless keep-original-next-hop), strip LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST,
 *   and any MED learned from another AS;
 * - to iBGP: LOCAL_PREF always present, next hop unchanged unless next-hop-self
 *   (reflected routes keep theirs);
 * - a next hop passed on unchanged loses its link-local half (RFC 2545 §3: a
 *   32-byte IPv6 next hop's link-local address is only for peers on that link).
 */
import { isLinkLocalText as isLinkLocal } from '../wire/address.js';
import { NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED, type AsPathSegment } from '../wire/types.js';
import { DEFAULT_LOCAL_PREF } from './best-path.js';
import type { Family, Path, RouteAttrs } from './path.js';

export interface ExportTarget {
  id: string;
  asn: number;
  ibgp: boolean;
  rrClient: boolean;
  nextHopSelf: boolean;
  keepOriginalNextHop: boolean;
  /** our address on the session for each family (next hop self) */
  nextHop4?: string;
  nextHop6?: string;
  /** RFC 8950 negotiated: IPv4 routes may carry an IPv6 next hop */
  extendedNextHop: boolean;
}

export interface LocalInfo {
  asn: number;
  routerId: string;
  clusterId: string;
}

export type ExportSkip = 'source' | 'no-advertise' | 'no-export' | 'split-horizon' | 'no-next-hop';

export function prependAs(asPath: readonly AsPathSegment[], asn: number): AsPathSegment[] {
  const first = asPath[0];
  if (first && first.type === 'AS_SEQUENCE' && first.asns.length < 255) {
    return [{ type: 'AS_SEQUENCE', asns: [asn, ...first.asns] }, ...asPath.slice(1)];
  }
  return [{ type: 'AS_SEQUENCE', asns: [asn] }, ...asPath];
}

/**
 * A next hop passed on unchanged without its link-local half: RFC 2545 §3 allows the
 * link-local address only toward a peer sharing that link with the router it names,
 * which the speaker cannot know. A link-local next hop alone stays (nothing global
 * to send instead).
 */
function passedOn(hops: string[]): string[] {
  if (hops.length < 2) return hops;
  const global = hops.filter((h) => !isLinkLocal(h));
  return global.length > 0 && global.length < hops.length ? global : hops;
}

function selfNextHop(t: ExportTarget, family: Family): string[] | undefined {
  if (family === 'ipv6') return t.nextHop6 ? [t.nextHop6] : undefined;
  if (t.nextHop4) return [t.nextHop4];
  return t.extendedNextHop && t.nextHop6 ? [t.nextHop6] : undefined;
}

/** Why `path` is not sent to `t`, or undefined when it is. */
export function exportSkip(path: Path, t: ExportTarget): ExportSkip | undefined {
  const src = path.source;
  if (!src.local && src.id === t.id) return 'source';
  const comms = path.attrs.communities;
  if (comms) {
    if (comms.includes(NO_ADVERTISE)) return 'no-advertise';
    if (!t.ibgp && (comms.includes(NO_EXPORT) || comms.includes(NO_EXPORT_SUBCONFED))) return 'no-export';
  }
  if (t.ibgp && !src.local && src.ibgp && !src.rrClient && !t.rrClient) return 'split-horizon';
  return undefined;
}

/** The attributes to send to `t` for a `family` route, or the reason it is not sent. */
export function exportAttrs(path: Path, t: ExportTarget, local: LocalInfo, family: Family): RouteAttrs | ExportSkip {
  const skip = exportSkip(path, t);
  if (skip) return skip;
  const src = path.source;
  const a = path.attrs;
  const reflected = t.ibgp && !src.local && src.ibgp;
  let nextHops = passedOn(a.nextHops);
  const self = selfNextHop(t, family);
  if (t.ibgp) {
    if (nextHops.length === 0 || (t.nextHopSelf && !reflected)) nextHops = self ?? [];
  } else if (nextHops.length === 0 || !t.keepOriginalNextHop) {
    nextHops = self ?? [];
  }
  // an IPv6 next hop for an IPv4 route needs RFC 8950 on this session
  if (family === 'ipv4' && nextHops[0]?.includes(':') && !t.extendedNextHop) nextHops = t.nextHop4 ? [t.nextHop4] : [];
  if (nextHops.length === 0) return 'no-next-hop';
  const out: RouteAttrs = {
    origin: a.origin,
    asPath: t.ibgp ? a.asPath : prependAs(a.asPath, local.asn),
    nextHops,
  };
  if (a.med !== undefined && (t.ibgp || src.local)) out.med = a.med;
  if (t.ibgp) out.localPref = a.localPref ?? DEFAULT_LOCAL_PREF;
  if (a.atomicAggregate) out.atomicAggregate = true;
  if (a.aggregator) out.aggregator = a.aggregator;
  if (a.communities) out.communities = a.communities;
  if (reflected) {
    out.originatorId = a.originatorId ?? src.routerId;
    out.clusterList = [local.clusterId, ...(a.clusterList ?? [])];
  }
  if (a.extendedCommunities) out.extendedCommunities = a.extendedCommunities;
  if (a.largeCommunities) out.largeCommunities = a.largeCommunities;
  if (a.unknown) out.unknown = a.unknown;
  return out;
}

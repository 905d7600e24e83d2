/**
 * From Adj-RIB-Out differences to UPDATE messages: IPv4 with an IPv4 next hop in
 * the classic fields, everything else in MP_REACH / MP_UNREACH (RFC 4760, 8950);
 * prefixes split so that each message fits 4096 octets even when the codec adds
 * AS4_PATH / AS4_AGGREGATOR for a 2-octet peer (RFC 6793 §4.2.2, done in
 * encodeMessage); End-of-RIB markers (RFC 4724 §2).
 */
import { endOfRib as wireEndOfRib, isEndOfRib } from '../wire/eor.js';
import type { PathAttributes, Prefix, UpdateMessage } from '../wire/types.js';
import type { Family, Negotiated } from '../fsm/types.js';
import type { OutUpdates } from '../rib/adj-rib-out.js';
import type { RouteAttrs } from '../rib/path.js';
import { keyFamily } from '../rib/prefix-map.js';

const MAX_MESSAGE = 4096;
/** header 19 + withdrawn length 2 + attributes length 2, plus slack for MP_REACH framing */
const OVERHEAD = 19 + 4 + 32;

export function keyToPrefix(key: string): Prefix {
  const i = key.lastIndexOf('/');
  const addr = key.slice(0, i);
  return { afi: addr.includes(':') ? 2 : 1, addr, len: Number(key.slice(i + 1)) };
}

const prefixBytes = (key: string, extra: number): number => extra + 1 + ((Number(key.slice(key.lastIndexOf('/') + 1)) + 7) >> 3);

/** An upper bound of the encoded size of the attributes (without NLRI). */
export function attrBytes(a: PathAttributes): number {
  let n = 4 + 4 + 7 + 7 + 7 + 3; // origin, NEXT_HOP, MED, LOCAL_PREF, ORIGINATOR_ID, ATOMIC
  // AS_PATH, and as much again for an AS4_PATH the codec may add for a 2-octet peer
  for (const s of a.asPath ?? []) n += 2 * (2 + 4 * s.asns.length);
  n += 8 + 4 * 2; // path headers
  if (a.aggregator) n += 12;
  if (a.as4Aggregator) n += 12;
  n += 4 + 4 * (a.communities?.length ?? 0) + 4 + 4 * (a.clusterList?.length ?? 0);
  n += 4 + 8 * (a.extendedCommunities?.length ?? 0) + 4 + 12 * (a.largeCommunities?.length ?? 0);
  for (const u of a.unknown ?? []) n += 4 + u.hex.length / 2;
  if (a.mpReach) n += 8 + 16 * a.mpReach.nextHops.length;
  return n;
}

function chunks(keys: readonly string[], budget: number, extra = 0): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let used = 0;
  for (const k of keys) {
    const b = prefixBytes(k, extra);
    if (used + b > budget && cur.length > 0) { out.push(cur); cur = []; used = 0; }
    cur.push(k); used += b;
  }
  if (cur.length) out.push(cur);
  return out;
}

function baseAttributes(a: RouteAttrs): PathAttributes {
  const out: PathAttributes = { origin: a.origin, asPath: a.asPath };
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  if (a.atomicAggregate) out.atomicAggregate = true;
  if (a.aggregator) out.aggregator = a.aggregator;
  if (a.communities) out.communities = a.communities;
  if (a.originatorId !== undefined) out.originatorId = a.originatorId;
  if (a.clusterList) out.clusterList = a.clusterList;
  if (a.extendedCommunities) out.extendedCommunities = a.extendedCommunities;
  if (a.largeCommunities) out.largeCommunities = a.largeCommunities;
  if (a.unknown) out.unknown = a.unknown;
  return out;
}

export function buildUpdates(u: OutUpdates, neg: Negotiated): UpdateMessage[] {
  const msgs: UpdateMessage[] = [];
  const pathIdBytes = neg.codecOut.addPath.size > 0 ? 4 : 0; // ADD-PATH send (not offered today)
  const w4 = u.withdraw.filter((k) => keyFamily(k) === 'ipv4');
  const w6 = u.withdraw.filter((k) => keyFamily(k) === 'ipv6');
  for (const c of chunks(w4, MAX_MESSAGE - OVERHEAD, pathIdBytes)) {
    msgs.push({ type: 'UPDATE', withdrawn: c.map(keyToPrefix), attributes: {}, nlri: [] });
  }
  for (const c of chunks(w6, MAX_MESSAGE - OVERHEAD, pathIdBytes)) {
    msgs.push({ type: 'UPDATE', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: c.map(keyToPrefix) } }, nlri: [] });
  }
  for (const [attrs, keys] of u.announce) {
    const base = baseAttributes(attrs);
    for (const fam of ['ipv4', 'ipv6'] as const) {
      const ks = keys.filter((k) => keyFamily(k) === fam);
      if (ks.length === 0) continue;
      const classic = fam === 'ipv4' && !attrs.nextHops[0]!.includes(':');
      const proto: PathAttributes = classic
        ? { ...base, nextHop: attrs.nextHops[0]! }
        : { ...base, mpReach: { afi: fam === 'ipv4' ? 1 : 2, safi: 1, nextHops: attrs.nextHops, nlri: [] } };
      for (const c of chunks(ks, MAX_MESSAGE - OVERHEAD - attrBytes(proto), pathIdBytes)) {
        const nlri = c.map(keyToPrefix);
        if (classic) msgs.push({ type: 'UPDATE', withdrawn: [], attributes: proto, nlri });
        else msgs.push({ type: 'UPDATE', withdrawn: [], attributes: { ...proto, mpReach: { ...proto.mpReach!, nlri } }, nlri: [] });
      }
    }
  }
  return msgs;
}

/** RFC 4724 §2: IPv4 unicast = an empty UPDATE; others = an empty MP_UNREACH_NLRI. */
export function endOfRib(f: Family): UpdateMessage {
  return wireEndOfRib(f === 'ipv4' ? 1 : 2, 1);
}

/** The family an End-of-RIB marker stands for, or undefined if `u` is not one. */
export function endOfRibFamily(u: UpdateMessage): Family | undefined {
  const e = isEndOfRib(u);
  if (!e || e.safi !== 1) return undefined;
  return e.afi === 1 ? 'ipv4' : e.afi === 2 ? 'ipv6' : undefined;
}

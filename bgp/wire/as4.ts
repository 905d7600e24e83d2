/**
 * RFC 6793 between 4-octet ("NEW") and 2-octet ("OLD") speakers.
 * - reconcileAs4: what a NEW speaker does with an UPDATE from a peer: merge
 *   AS4_PATH / AS4_AGGREGATOR into a 4-octet AS_PATH / AGGREGATOR (§4.2.3), or
 *   drop them when the session itself carries 4-octet ASNs.
 * - toTwoOctetPeer: what a NEW speaker sends an OLD one (§4.2.2): AS_TRANS in place
 *   of each non-mappable ASN, and the true path in AS4_PATH / AS4_AGGREGATOR.
 */
import { AS_TRANS, type AsPathSegment, type PathAttributes } from './types.js';
import { asPathLength } from './as-path.js';

const isConfed = (s: AsPathSegment) => s.type === 'AS_CONFED_SEQUENCE' || s.type === 'AS_CONFED_SET';

export function reconcileAs4(a: PathAttributes, sessionAs4: boolean): PathAttributes {
  if (a.as4Path === undefined && a.as4Aggregator === undefined) return a;
  const { as4Path, as4Aggregator, ...rest } = a;
  if (sessionAs4) return rest; // NEW ↔ NEW: the AS4_* attributes carry nothing (§4.1)
  if (rest.aggregator !== undefined && rest.aggregator.asn !== AS_TRANS) {
    return rest; // §4.2.3: AGGREGATOR is not AS_TRANS → ignore AS4_AGGREGATOR and AS4_PATH
  }
  if (as4Aggregator !== undefined && rest.aggregator !== undefined) rest.aggregator = { ...as4Aggregator };
  if (as4Path !== undefined && rest.asPath !== undefined) rest.asPath = mergeAs4Path(rest.asPath, as4Path);
  return rest;
}

/** §4.2.3: leading part of AS_PATH + AS4_PATH, with as many ASNs as AS_PATH had. */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const tail = as4Path.filter((s) => !isConfed(s)); // confederation segments in AS4_PATH are discarded
  const need = asPathLength(asPath) - asPathLength(tail);
  if (need < 0) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] })); // AS4_PATH longer: ignore it
  const out: AsPathSegment[] = [];
  let taken = 0;
  for (const s of asPath) {
    if (isConfed(s)) {
      out.push({ type: s.type, asns: [...s.asns] });
      continue;
    }
    if (taken >= need) break;
    if (s.type === 'AS_SET') {
      out.push({ type: s.type, asns: [...s.asns] });
      taken += 1;
    } else {
      const n = Math.min(need - taken, s.asns.length);
      out.push({ type: s.type, asns: s.asns.slice(0, n) });
      taken += n;
    }
  }
  tail.forEach((s, i) => {
    const last = out[out.length - 1];
    // join the two halves into one AS_SEQUENCE where they meet (only there)
    if (i === 0 && last !== undefined && last.type === 'AS_SEQUENCE' && s.type === 'AS_SEQUENCE' && last.asns.length + s.asns.length <= 255) {
      last.asns.push(...s.asns);
    } else {
      out.push({ type: s.type, asns: [...s.asns] });
    }
  });
  return out;
}

function hasWideAsn(segs: readonly AsPathSegment[] | undefined): boolean {
  return segs !== undefined && segs.some((s) => s.asns.some((n) => n > 0xffff));
}

/** True when sending `a` to a 2-octet peer needs AS4_PATH or AS4_AGGREGATOR. */
export function needsAs4Attributes(a: PathAttributes): boolean {
  return hasWideAsn(a.asPath) || (a.aggregator !== undefined && a.aggregator.asn > 0xffff);
}

export function toTwoOctetPeer(a: PathAttributes): PathAttributes {
  const { as4Path: _p, as4Aggregator: _g, ...rest } = a;
  const out: PathAttributes = rest;
  if (hasWideAsn(a.asPath)) {
    out.asPath = a.asPath!.map((s) => ({ type: s.type, asns: s.asns.map((n) => (n > 0xffff ? AS_TRANS : n)) }));
    out.as4Path = a.asPath!.filter((s) => !isConfed(s)).map((s) => ({ type: s.type, asns: [...s.asns] }));
  }
  if (a.aggregator !== undefined && a.aggregator.asn > 0xffff) {
    out.aggregator = { asn: AS_TRANS, address: a.aggregator.address };
    out.as4Aggregator = { ...a.aggregator };
  }
  return out;
}

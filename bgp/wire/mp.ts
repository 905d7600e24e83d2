/**
 * MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4): next hops per family —
 * IPv6 global [+ link-local] (RFC 2545), IPv4 NLRI with an IPv6 next hop (RFC 8950)
 * — and the NLRI, with ADD-PATH path ids when negotiated for the family.
 */
import { AFI_IPV4, AFI_IPV6, type Afi, type CodecOptions, type MpReach, type MpUnreach, type Prefix } from './types.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './address.js';
import { readU16 } from './cursor.js';
import { decodePrefixes, familyKey, writePrefix } from './prefix.js';
import { wireError } from './errors.js';
import { ERR_UPDATE, UPD_OPTIONAL_ATTR } from './constants.js';
import type { Writer } from './writer.js';

/** Families whose NLRI this codec decodes (unicast and multicast share the format). */
export function isKnownFamily(afi: number, safi: number): afi is Afi {
  return (afi === AFI_IPV4 || afi === AFI_IPV6) && (safi === 1 || safi === 2);
}

function bad(msg: string) {
  return wireError(ERR_UPDATE, UPD_OPTIONAL_ATTR, msg);
}

/** undefined: a family this codec does not decode (the attribute is then kept as unknown). */
export function decodeMpReach(b: Uint8Array, start: number, end: number, opts: CodecOptions): MpReach | undefined {
  if (end - start < 5) throw bad('MP_REACH_NLRI: shorter than 5 octets');
  const afi = readU16(b, start);
  const safi = b[start + 2] as number;
  const nhLen = b[start + 3] as number;
  if (!isKnownFamily(afi, safi)) return undefined;
  let p = start + 4;
  if (end - p < nhLen + 1) throw bad('MP_REACH_NLRI: next hop overruns the attribute');
  const nextHops: string[] = [];
  if (nhLen === 4 && afi === AFI_IPV4) {
    nextHops.push(formatIpv4(b, p));
  } else if (nhLen === 16 || nhLen === 32) {
    nextHops.push(formatIpv6(b, p));
    if (nhLen === 32) nextHops.push(formatIpv6(b, p + 16));
  } else {
    throw bad(`MP_REACH_NLRI: next hop length ${nhLen} for AFI ${afi}`);
  }
  p += nhLen + 1; // next hop, reserved octet
  const nlri: Prefix[] = [];
  decodePrefixes(b, p, end, afi, opts.addPath.size > 0 && opts.addPath.has(familyKey(afi, safi)), nlri, opts.ipv4Numbers === true);
  return { afi, safi, nextHops, nlri };
}

export function decodeMpUnreach(b: Uint8Array, start: number, end: number, opts: CodecOptions): MpUnreach | undefined {
  if (end - start < 3) throw bad('MP_UNREACH_NLRI: shorter than 3 octets');
  const afi = readU16(b, start);
  const safi = b[start + 2] as number;
  if (!isKnownFamily(afi, safi)) return undefined;
  const withdrawn: Prefix[] = [];
  decodePrefixes(b, start + 3, end, afi, opts.addPath.size > 0 && opts.addPath.has(familyKey(afi, safi)), withdrawn, opts.ipv4Numbers === true);
  return { afi, safi, withdrawn };
}

/** Writes the fixed part of MP_REACH_NLRI (AFI, SAFI, next hops, reserved). */
export function encodeMpReachHead(m: MpReach, w: Writer): void {
  w.u16(m.afi);
  w.u8(m.safi);
  const hops = m.nextHops.map((h) => {
    const v4 = parseIpv4(h);
    if (v4 !== undefined) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff);
    const v6 = parseIpv6(h);
    if (v6 === undefined) throw new RangeError(`MP_REACH_NLRI: bad next hop "${h}"`);
    return v6;
  });
  w.u8(hops.reduce((n, h) => n + h.length, 0));
  for (const h of hops) w.bytes(h);
  w.u8(0);
}

export function encodeMpReach(m: MpReach, opts: CodecOptions, w: Writer): void {
  encodeMpReachHead(m, w);
  const ap = opts.addPath.has(familyKey(m.afi, m.safi));
  for (const p of m.nlri) writePrefix(w, p, ap);
}

export function encodeMpUnreach(m: MpUnreach, opts: CodecOptions, w: Writer): void {
  w.u16(m.afi);
  w.u8(m.safi);
  const ap = opts.addPath.has(familyKey(m.afi, m.safi));
  for (const p of m.withdrawn) writePrefix(w, p, ap);
}

/**
 * NLRI per family (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3): a run of
 * [path id (4, only with ADD-PATH)] length (1) prefix (ceil(length/8)) entries.
 * Trailing host bits are irrelevant on the wire (RFC 4271) and are cleared here, so
 * every decoded Prefix has host bits zero.
 */
import { AFI_IPV4, type Afi, type Prefix } from './types.js';
import { formatIpv4, formatIpv6, ipv4Mask, parseIpv4, parseIpv6, putDec, putIpv4 } from './address.js';
import { readU32 } from './cursor.js';
import { wireError, type WireError } from './errors.js';
import { ERR_UPDATE, UPD_INVALID_NETWORK } from './constants.js';
import type { Writer } from './writer.js';

const V6 = new Uint8Array(16);

function invalid(msg: string, data?: Uint8Array): WireError {
  return wireError(ERR_UPDATE, UPD_INVALID_NETWORK, msg, data ? { data } : {});
}

/**
 * Appends the prefixes coded in b[start, end) to `out`. Throws a WireError
 * (3/10 Invalid Network Field, session reset: RFC 7606 §5.3) on a bad length or
 * a prefix running past the end.
 */
export function decodePrefixes(
  b: Uint8Array, start: number, end: number, afi: Afi, addPath: boolean, out: Prefix[], numbers = false,
): void {
  const max = afi === AFI_IPV4 ? 32 : 128;
  let p = start;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      if (end - p < 5) throw invalid('NLRI: truncated ADD-PATH entry');
      pathId = readU32(b, p);
      p += 4;
    }
    const len = b[p++] as number;
    if (len > max) throw invalid(`NLRI: prefix length ${len} exceeds ${max}`);
    const n = (len + 7) >>> 3;
    if (end - p < n) throw invalid('NLRI: prefix runs past the end of its field');
    let addr: string;
    if (afi === AFI_IPV4) {
      let a = 0, c1 = 0, c2 = 0, c3 = 0;
      if (n > 0) a = b[p] as number;
      if (n > 1) c1 = b[p + 1] as number;
      if (n > 2) c2 = b[p + 2] as number;
      if (n > 3) c3 = b[p + 3] as number;
      const rem = len & 7;
      if (rem !== 0) {
        const mask = (0xff << (8 - rem)) & 0xff;
        if (n === 1) a &= mask; else if (n === 2) c1 &= mask; else if (n === 3) c2 &= mask; else c3 &= mask;
      }
      const bits = ((a << 24) | (c1 << 16) | (c2 << 8) | c3) >>> 0;
      if (numbers) {
        p += n;
        out.push(new Ipv4Prefix(bits, len, addPath ? pathId : undefined));
        continue;
      }
      addr = ipv4Text(bits);
    } else {
      V6.fill(0);
      for (let i = 0; i < n; i++) V6[i] = b[p + i] as number;
      const rem = len & 7;
      if (rem !== 0) V6[n - 1] = (V6[n - 1] as number) & ((0xff << (8 - rem)) & 0xff);
      addr = formatIpv6(V6, 0);
    }
    p += n;
    out.push(addPath ? { afi, addr, len, pathId } : { afi, addr, len });
  }
}

/**
 * An IPv4 prefix decoded as numbers (CodecOptions.ipv4Numbers): the receive path
 * keys the RIB by `bits` and `len`, so no address text is built unless something
 * reads `addr` (a prefix filter, a log line, re-encoding).
 */
export class Ipv4Prefix implements Prefix {
  constructor(readonly bits: number, readonly len: number, readonly pathId: number | undefined) {}
  /** on the prototype: three fields per decoded prefix */
  get afi(): Afi {
    return AFI_IPV4;
  }
  get addr(): string {
    return ipv4Text(this.bits);
  }
}

const DEC: string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** scratch character codes of the flat strings built below */
const C = new Uint16Array(64);

/** C[0..n) as a string; fixed-arity calls for the lengths of IPv4 text (faster than apply). */
function fromCodes(n: number): string {
  const f = String.fromCharCode;
  switch (n) {
    case 7: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!);
    case 8: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!);
    case 9: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!);
    case 10: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!);
    case 11: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!, C[10]!);
    case 12: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!, C[10]!, C[11]!);
    case 13: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!, C[10]!, C[11]!, C[12]!);
    case 14: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!, C[10]!, C[11]!, C[12]!, C[13]!);
    case 15: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!, C[10]!, C[11]!, C[12]!, C[13]!, C[14]!);
    case 16: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!, C[10]!, C[11]!, C[12]!, C[13]!, C[14]!, C[15]!);
    case 17: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!, C[10]!, C[11]!, C[12]!, C[13]!, C[14]!, C[15]!, C[16]!);
    case 18: return f(C[0]!, C[1]!, C[2]!, C[3]!, C[4]!, C[5]!, C[6]!, C[7]!, C[8]!, C[9]!, C[10]!, C[11]!, C[12]!, C[13]!, C[14]!, C[15]!, C[16]!, C[17]!);
    default: return String.fromCharCode.apply(null, Array.from(C.subarray(0, n)));
  }
}

/**
 * "a.b.c.d" as one flat string built from character codes (address.ts putIpv4): a
 * template literal would make one intermediate string per part (seven per address).
 */
function ipv4Text(n: number): string {
  return fromCodes(putIpv4(C, 0, n));
}

/** "a.b.c.d/len" of an IPv4 prefix given as numbers, as one flat string. */
export function ipv4PrefixText(bits: number, len: number): string {
  let k = putIpv4(C, 0, bits);
  C[k++] = 47;
  k = putDec(C, k, len);
  return fromCodes(k);
}

/**
 * `a + sep + b` as one flat string. A concatenation of 13 characters or more is
 * a V8 cons string (a 32-byte node that keeps both parts alive until a GC short-cuts
 * it): per route that is garbage the RIB does not need. `String.fromCharCode`
 * builds a flat string directly.
 */
export function flatJoin(a: string, sep: string, b: string): string {
  const n = a.length + sep.length + b.length;
  if (n < 13) return a + sep + b; // short concatenations are flat copies already
  if (n > C.length) return a + sep + b; // very long IPv6 keys with path ids: rare, left as they are
  let k = 0;
  for (let i = 0; i < a.length; i++) C[k++] = a.charCodeAt(i);
  for (let i = 0; i < sep.length; i++) C[k++] = sep.charCodeAt(i);
  for (let i = 0; i < b.length; i++) C[k++] = b.charCodeAt(i);
  return fromCodes(n);
}

/** Bytes `p` takes on the wire. */
export function prefixWireLength(p: Prefix, addPath: boolean): number {
  return (addPath ? 5 : 1) + ((p.len + 7) >>> 3);
}

/** Writes one prefix; throws on an address that does not parse (a programming error). */
export function writePrefix(w: Writer, p: Prefix, addPath: boolean): void {
  if (addPath) w.u32(p.pathId ?? 0);
  const n = (p.len + 7) >>> 3;
  w.ensure(1 + n);
  w.buf[w.pos++] = p.len;
  if (p.afi === AFI_IPV4) {
    const v = p.bits ?? parseIpv4(p.addr);
    if (v === undefined || p.len > 32) throw new RangeError(`bad IPv4 prefix ${p.addr}/${p.len}`);
    for (let i = 0; i < n; i++) w.buf[w.pos++] = (v >>> (24 - 8 * i)) & 0xff;
  } else {
    const v = parseIpv6(p.addr);
    if (v === undefined || p.len > 128) throw new RangeError(`bad IPv6 prefix ${p.addr}/${p.len}`);
    for (let i = 0; i < n; i++) w.buf[w.pos++] = v[i] as number;
  }
  const rem = p.len & 7;
  if (rem !== 0) w.buf[w.pos - 1] = (w.buf[w.pos - 1] as number) & ((0xff << (8 - rem)) & 0xff);
}

/** "10.0.0.0/24", "fd00::/64". */
export function formatPrefix(p: Prefix): string {
  if (p.bits !== undefined) return ipv4PrefixText(p.bits, p.len);
  return flatJoin(p.addr, '/', DEC[p.len] ?? String(p.len));
}

/** "10.0.0.1/24" → the Prefix (host bits cleared), or undefined. */
export function parsePrefix(s: string, pathId?: number): Prefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  const addrText = s.slice(0, slash);
  const v4 = parseIpv4(addrText);
  let out: Prefix | undefined;
  if (v4 !== undefined) {
    if (len > 32) return undefined;
    const masked = (v4 & ipv4Mask(len)) >>> 0;
    const b = Uint8Array.of(masked >>> 24, (masked >>> 16) & 0xff, (masked >>> 8) & 0xff, masked & 0xff);
    out = { afi: 1, addr: formatIpv4(b, 0), len };
  } else {
    const v6 = parseIpv6(addrText);
    if (v6 === undefined || len > 128) return undefined;
    for (let i = 0; i < 16; i++) {
      const bits = Math.min(8, Math.max(0, len - 8 * i));
      v6[i] = (v6[i] as number) & ((0xff << (8 - bits)) & 0xff);
    }
    out = { afi: 2, addr: formatIpv6(v6, 0), len };
  }
  if (pathId !== undefined) out.pathId = pathId;
  return out;
}

/** "afi/safi" key of CodecOptions.addPath. */
export function familyKey(afi: number, safi: number): string {
  return `${afi}/${safi}`;
}

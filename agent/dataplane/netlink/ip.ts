/**
 * IP addresses and prefixes as text ↔ bytes, for the codec. Canonical text:
 * IPv4 dotted quad, IPv6 RFC 5952 lower-case compressed; prefixes as "addr/len" with
 * host bits cleared.
 */
import { formatIpv4Number, ipv4Mask, parseIpv4, parseIpv4At } from '../../../bgp/wire/address.js';
export type Family = 4 | 6;

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

export const familyOf = (address: string): Family => (address.includes(':') ? 6 : 4);

/** Dotted quad → 4 bytes, or undefined when it is not one (hot path: no regex, no arrays; leading zeros take the general path). */
function v4Bytes(address: string): Buffer | undefined {
  const n = parseIpv4(address);
  if (n === undefined) return undefined;
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(n, 0);
  return out;
}

export function ipToBytes(address: string): Buffer {
  if (familyOf(address) === 4) {
    const fast = v4Bytes(address);
    if (fast) return fast;
    const parts = address.split('.');
    const nums = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
    if (nums.length !== 4 || nums.some((n) => Number.isNaN(n) || n > 255)) throw new AddressError(`not an IPv4 address: ${address}`);
    return Buffer.from(nums);
  }
  const halves = address.split('::');
  if (halves.length > 2) throw new AddressError(`not an IPv6 address: ${address}`);
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new AddressError(`not an IPv6 address: ${address}`);
    return parseInt(g, 16);
  }));
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) throw new AddressError(`not an IPv6 address: ${address}`);
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function bytesToIp(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new AddressError(`address of ${b.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(i * 2));
  // longest run of zeros (length ≥ 2) becomes "::"
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export interface Prefix {
  family: Family;
  address: string;
  length: number;
}

/** "len" → its value when it is 1–2 decimal digits, else undefined (the general path reports it). */
function lengthOf(text: string, start: number): number | undefined {
  const a = text.charCodeAt(start) - 48;
  if (text.length === start + 1) return a >= 0 && a <= 9 ? a : undefined;
  const b = text.charCodeAt(start + 1) - 48;
  return text.length === start + 2 && a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : undefined;
}


/**
 * IPv4 "a.b.c.d/len" (or a bare address) as its masked network number, without
 * Buffers or substrings (the route fast path parses every prefix it plans several
 * times); undefined for anything else, which the general path handles.
 */
function v4Prefix(cidr: string): { n: number; length: number } | undefined {
  const slash = cidr.indexOf('/');
  const n = parseIpv4At(cidr, 0, slash < 0 ? cidr.length : slash);
  if (n < 0) return undefined;
  const length = slash < 0 ? 32 : lengthOf(cidr, slash + 1);
  if (length === undefined || length > 32) return undefined;
  return { n: (n & ipv4Mask(length)) >>> 0, length };
}

/** Parses "a.b.c.d/len" (or a bare address, as a host prefix), clearing host bits. */
export function parsePrefix(cidr: string): Prefix {
  const fast = v4Prefix(cidr);
  if (fast) return { family: 4, address: formatIpv4Number(fast.n), length: fast.length };
  const [addr = '', lenText] = cidr.split('/');
  const bytes = ipToBytes(addr);
  const max = bytes.length * 8;
  const length = lenText === undefined ? max : Number(lenText);
  if (!Number.isInteger(length) || length < 0 || length > max || (lenText !== undefined && !/^\d+$/.test(lenText))) {
    throw new AddressError(`bad prefix length in ${cidr}`);
  }
  return { family: bytes.length === 4 ? 4 : 6, address: bytesToIp(maskBytes(bytes, length)), length };
}

export function maskBytes(bytes: Buffer, length: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    out[i] = (out[i] ?? 0) & (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

export const formatPrefix = (p: Prefix): string => `${p.address}/${p.length}`;
/** Canonical text of a prefix: "10.0.0.0/26". */
export const canonicalPrefix = (cidr: string): string => formatPrefix(parsePrefix(cidr));

/** Whether `address` lies inside `cidr`. */
export function prefixContains(cidr: string, address: string): boolean {
  const v4 = v4Prefix(cidr);
  if (v4) {
    const slash = address.indexOf('/');
    const a = parseIpv4At(address, 0, slash < 0 ? address.length : slash);
    if (a >= 0) return ((a & ipv4Mask(v4.length)) >>> 0) === v4.n;
  }
  const p = parsePrefix(cidr);
  const a = ipToBytes(address.split('/')[0] ?? '');
  if ((a.length === 4 ? 4 : 6) !== p.family) return false;
  return bytesToIp(maskBytes(a, p.length)) === p.address;
}

/** Whether prefix `inner` lies inside prefix `outer`. */
export function prefixCovers(outer: string, inner: string): boolean {
  const o = parsePrefix(outer);
  const i = parsePrefix(inner);
  return o.family === i.family && i.length >= o.length && prefixContains(outer, i.address);
}

export function macToBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new AddressError(`not a MAC address: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}
export const bytesToMac = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/**
 * Community text forms: RFC 1997 "65000:1" and well-known names, RFC 8092 large
 * "a:b:c", and a readable form of common RFC 4360 / RFC 5668 extended communities.
 */
import type { ExtendedCommunity, LargeCommunity } from './types.js';
import { fromHex } from './cursor.js';
import { formatIpv4 } from './address.js';

/** Well-known communities by value (RFC 1997, RFC 3765, RFC 7611, RFC 7999, RFC 8326, RFC 9494). */
export const WELL_KNOWN_COMMUNITIES: ReadonlyMap<number, string> = new Map([
  [0xffff0000, 'GRACEFUL_SHUTDOWN'],
  [0xffff0001, 'ACCEPT_OWN'],
  [0xffff0006, 'LLGR_STALE'],
  [0xffff0007, 'NO_LLGR'],
  [0xffff029a, 'BLACKHOLE'],
  [0xffffff01, 'NO_EXPORT'],
  [0xffffff02, 'NO_ADVERTISE'],
  [0xffffff03, 'NO_EXPORT_SUBCONFED'],
  [0xffffff04, 'NO_PEER'],
]);

const BY_NAME: ReadonlyMap<string, number> = new Map([...WELL_KNOWN_COMMUNITIES].map(([v, n]) => [n, v]));

export function formatCommunity(c: number): string {
  return WELL_KNOWN_COMMUNITIES.get(c) ?? `${c >>> 16}:${c & 0xffff}`;
}

/** "65000:1" or a well-known name (case-insensitive) → the 32-bit value; undefined if neither. */
export function parseCommunity(s: string): number | undefined {
  const named = BY_NAME.get(s.toUpperCase().replace(/-/g, '_'));
  if (named !== undefined) return named;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  if (hi > 0xffff || lo > 0xffff) return undefined;
  return ((hi << 16) >>> 0) + lo;
}

export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c.global}:${c.local1}:${c.local2}`;
}

export function parseLargeCommunity(s: string): LargeCommunity | undefined {
  const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(s);
  if (!m) return undefined;
  const [global, local1, local2] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (global > 0xffffffff || local1 > 0xffffffff || local2 > 0xffffffff) return undefined;
  return { global, local1, local2 };
}

/**
 * Readable text for route-target / route-origin style extended communities
 * ("rt:65000:100", "soo:192.0.2.1:7"), else "0xTTSS:<hex>".
 */
export function formatExtendedCommunity(c: ExtendedCommunity): string {
  const b = fromHex(c.hex);
  if (b === undefined || b.length !== 8) return `0x${c.hex}`;
  const kind = c.subtype === 0x02 ? 'rt' : c.subtype === 0x03 ? 'soo' : undefined;
  const t = c.type & 0x3f; // without the IANA-authority and transitive bits
  if (kind !== undefined) {
    if (t === 0x00) return `${kind}:${(b[2]! << 8) | b[3]!}:${readU32(b, 4)}`;
    if (t === 0x01) return `${kind}:${formatIpv4(b, 2)}:${(b[6]! << 8) | b[7]!}`;
    if (t === 0x02) return `${kind}:${readU32(b, 2)}:${(b[6]! << 8) | b[7]!}`;
  }
  return `0x${c.hex}`;
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

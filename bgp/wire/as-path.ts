/**
 * AS_PATH and AS4_PATH segments (RFC 4271 §4.3, RFC 5065 confederation segments,
 * RFC 6793 widths). The width (2 or 4 octets per ASN) comes from the caller.
 */
import { AS_TRANS, type AsPathSegment, type AsPathSegmentType } from './types.js';
import { wireError, type WireError } from './errors.js';
import { readU16, readU32 } from './cursor.js';
import { ERR_UPDATE, UPD_MALFORMED_AS_PATH } from './constants.js';
import type { Writer } from './writer.js';

const SEGMENT_TYPES: readonly (AsPathSegmentType | undefined)[] = [undefined, 'AS_SET', 'AS_SEQUENCE', 'AS_CONFED_SEQUENCE', 'AS_CONFED_SET'];
const SEGMENT_CODES: Readonly<Record<AsPathSegmentType, number>> = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 };

function malformed(msg: string): WireError {
  return wireError(ERR_UPDATE, UPD_MALFORMED_AS_PATH, msg);
}

/**
 * RFC 7606 §7.2: unknown segment type, zero-length segment, or overrun is malformed
 * (3/11); so is AS 0 anywhere in the path (RFC 7607 §2).
 */
export function decodeAsPath(b: Uint8Array, start: number, end: number, width: 2 | 4): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  let p = start;
  while (p < end) {
    if (end - p < 2) throw malformed('AS_PATH: truncated segment header');
    const type = SEGMENT_TYPES[b[p] as number];
    const count = b[p + 1] as number;
    p += 2;
    if (type === undefined) throw malformed(`AS_PATH: unknown segment type ${b[p - 2]}`);
    if (count === 0) throw malformed('AS_PATH: empty segment');
    if (end - p < count * width) throw malformed('AS_PATH: segment overruns the attribute');
    const asns = new Array<number>(count);
    if (width === 4) {
      for (let i = 0; i < count; i++, p += 4) asns[i] = readU32(b, p);
    } else {
      for (let i = 0; i < count; i++, p += 2) asns[i] = readU16(b, p);
    }
    if (asns.includes(0)) throw malformed('AS_PATH: AS 0 (RFC 7607)');
    out.push({ type, asns });
  }
  return out;
}

/** Writes segments; ASNs above 65535 become AS_TRANS at width 2; long segments are split at 255. */
export function encodeAsPath(segs: readonly AsPathSegment[], width: 2 | 4, w: Writer): void {
  for (const s of segs) {
    for (let i = 0; i < s.asns.length; i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      w.u8(SEGMENT_CODES[s.type]);
      w.u8(chunk.length);
      for (const asn of chunk) {
        if (width === 4) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
}

/** Path length for the decision process (RFC 4271 §9.1.2.2): an AS_SET counts 1, confederation segments 0. */
export function asPathLength(segs: readonly AsPathSegment[] | undefined): number {
  if (!segs) return 0;
  let n = 0;
  for (const s of segs) {
    if (s.type === 'AS_SEQUENCE') n += s.asns.length;
    else if (s.type === 'AS_SET') n += 1;
  }
  return n;
}

/** "65001 65002 {65003,65004}" — the usual text form. */
export function formatAsPath(segs: readonly AsPathSegment[] | undefined): string {
  if (!segs) return '';
  return segs
    .map((s) => {
      const inner = s.asns.join(s.type === 'AS_SET' || s.type === 'AS_CONFED_SET' ? ',' : ' ');
      if (s.type === 'AS_SET') return `{${inner}}`;
      if (s.type === 'AS_CONFED_SEQUENCE') return `(${inner})`;
      if (s.type === 'AS_CONFED_SET') return `[${inner}]`;
      return inner;
    })
    .join(' ');
}

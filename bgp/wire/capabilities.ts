/**
 * OPEN capabilities (RFC 5492) as a table: code → name, decode, encode. A
 * capability this table does not know is kept as UNKNOWN with its value in hex; a
 * known one with a malformed value is an OPEN Message Error (2/0, as BIRD does).
 */
import type { Capability } from './types.js';
import { Cursor, toHex, fromHex } from './cursor.js';
import { wireError, type WireError } from './errors.js';
import {
  CAP_ADD_PATH, CAP_ENHANCED_ROUTE_REFRESH, CAP_EXTENDED_NEXT_HOP, CAP_FOUR_OCTET_AS, CAP_GRACEFUL_RESTART,
  CAP_MP, CAP_ROUTE_REFRESH, ERR_OPEN, OPEN_UNSPECIFIC,
} from './constants.js';
import type { Writer } from './writer.js';

interface CapabilityRow {
  name: Capability['name'];
  decode(c: Cursor, len: number): Capability;
  encode(cap: Capability, w: Writer): void;
}

function malformed(code: number): () => WireError {
  return () => wireError(ERR_OPEN, OPEN_UNSPECIFIC, `malformed capability ${code}`);
}

function exactly(len: number, want: number, code: number): void {
  if (len !== want) throw malformed(code)();
}

function multipleOf(len: number, unit: number, code: number): void {
  if (len % unit !== 0) throw malformed(code)();
}

const TABLE: ReadonlyMap<number, CapabilityRow> = new Map<number, CapabilityRow>([
  [CAP_MP, {
    name: 'MULTIPROTOCOL',
    decode(c, len) {
      exactly(len, 4, CAP_MP);
      const afi = c.u16();
      c.u8(); // reserved
      return { code: 1, name: 'MULTIPROTOCOL', afi, safi: c.u8() };
    },
    encode(cap, w) {
      if (cap.name !== 'MULTIPROTOCOL') return;
      w.u16(cap.afi); w.u8(0); w.u8(cap.safi);
    },
  }],
  [CAP_ROUTE_REFRESH, {
    name: 'ROUTE_REFRESH',
    decode(_c, len) {
      exactly(len, 0, CAP_ROUTE_REFRESH);
      return { code: 2, name: 'ROUTE_REFRESH' };
    },
    encode() {},
  }],
  [CAP_EXTENDED_NEXT_HOP, {
    name: 'EXTENDED_NEXT_HOP',
    decode(c, len) {
      multipleOf(len, 6, CAP_EXTENDED_NEXT_HOP);
      const tuples = [];
      for (let i = 0; i < len; i += 6) tuples.push({ afi: c.u16(), safi: c.u16(), nextHopAfi: c.u16() });
      return { code: 5, name: 'EXTENDED_NEXT_HOP', tuples };
    },
    encode(cap, w) {
      if (cap.name !== 'EXTENDED_NEXT_HOP') return;
      for (const t of cap.tuples) { w.u16(t.afi); w.u16(t.safi); w.u16(t.nextHopAfi); }
    },
  }],
  [CAP_GRACEFUL_RESTART, {
    name: 'GRACEFUL_RESTART',
    decode(c, len) {
      if (len < 2 || (len - 2) % 4 !== 0) throw malformed(CAP_GRACEFUL_RESTART)();
      const head = c.u16();
      const families = [];
      for (let i = 2; i < len; i += 4) {
        const afi = c.u16();
        const safi = c.u8();
        families.push({ afi, safi, forwardingPreserved: (c.u8() & 0x80) !== 0 });
      }
      return {
        code: 64, name: 'GRACEFUL_RESTART', restarted: (head & 0x8000) !== 0, notification: (head & 0x4000) !== 0,
        restartTime: head & 0x0fff, families,
      };
    },
    encode(cap, w) {
      if (cap.name !== 'GRACEFUL_RESTART') return;
      w.u16((cap.restarted ? 0x8000 : 0) | (cap.notification ? 0x4000 : 0) | (cap.restartTime & 0x0fff));
      for (const f of cap.families) { w.u16(f.afi); w.u8(f.safi); w.u8(f.forwardingPreserved ? 0x80 : 0); }
    },
  }],
  [CAP_FOUR_OCTET_AS, {
    name: 'FOUR_OCTET_AS',
    decode(c, len) {
      exactly(len, 4, CAP_FOUR_OCTET_AS);
      return { code: 65, name: 'FOUR_OCTET_AS', asn: c.u32() };
    },
    encode(cap, w) {
      if (cap.name === 'FOUR_OCTET_AS') w.u32(cap.asn);
    },
  }],
  [CAP_ADD_PATH, {
    name: 'ADD_PATH',
    decode(c, len) {
      multipleOf(len, 4, CAP_ADD_PATH);
      const families = [];
      for (let i = 0; i < len; i += 4) {
        const afi = c.u16();
        const safi = c.u8();
        const sr = c.u8();
        // RFC 7911 §4: another Send/Receive value SHOULD be treated as not understood and ignored: drop that family only
        if (sr < 1 || sr > 3) continue;
        families.push({ afi, safi, sendReceive: sr as 1 | 2 | 3 });
      }
      return { code: 69, name: 'ADD_PATH', families };
    },
    encode(cap, w) {
      if (cap.name !== 'ADD_PATH') return;
      for (const f of cap.families) { w.u16(f.afi); w.u8(f.safi); w.u8(f.sendReceive); }
    },
  }],
  [CAP_ENHANCED_ROUTE_REFRESH, {
    name: 'ENHANCED_ROUTE_REFRESH',
    decode(_c, len) {
      exactly(len, 0, CAP_ENHANCED_ROUTE_REFRESH);
      return { code: 70, name: 'ENHANCED_ROUTE_REFRESH' };
    },
    encode() {},
  }],
]);

/** Decodes the capabilities inside one Capabilities optional parameter (type 2). */
export function decodeCapabilities(b: Uint8Array, start: number, end: number, out: Capability[]): void {
  const c = new Cursor(b, start, end, malformed(0));
  while (c.left > 0) {
    const code = c.u8();
    const len = c.u8();
    const body = new Cursor(b, c.pos, c.pos + len, malformed(code));
    c.skip(len);
    const row = TABLE.get(code);
    if (row === undefined) {
      out.push({ code, name: 'UNKNOWN', hex: toHex(b.subarray(body.pos, body.end)) });
    } else {
      out.push(row.decode(body, len));
    }
  }
}

/** Writes one capability TLV (code, length, value). */
export function encodeCapability(cap: Capability, w: Writer): void {
  w.u8(cap.code);
  const lenAt = w.pos;
  w.u8(0);
  if (cap.name === 'UNKNOWN') {
    w.bytes(fromHex(cap.hex) ?? new Uint8Array(0));
  } else {
    TABLE.get(cap.code)?.encode(cap, w);
  }
  const len = w.pos - lenAt - 1;
  if (len > 255) throw new RangeError(`capability ${cap.code} is longer than 255 octets`);
  w.buf[lenAt] = len;
}

export function capabilityName(code: number): string {
  return TABLE.get(code)?.name ?? 'UNKNOWN';
}

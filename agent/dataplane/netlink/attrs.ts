/**
 * Netlink attributes (struct rtattr / struct nlattr): 2-byte length, 2-byte type,
 * payload, padded to 4 bytes. Pure functions on Buffers; host byte order is little
 * endian (x86_64, arm64), network byte order where the kernel says so (ports).
 */
export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

export const align4 = (n: number): number => (n + 3) & ~3;

export interface Attr {
  type: number;
  data: Buffer;
}

export function attr(type: number, data: Buffer): Buffer {
  const len = 4 + data.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, 4);
  return out;
}

export const nested = (type: number, children: Buffer[]): Buffer => attr(type, Buffer.concat(children));
export const u8Attr = (type: number, v: number): Buffer => attr(type, Buffer.from([v & 0xff]));
export function u16Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return attr(type, b);
}
export function be16Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return attr(type, b);
}
export function u32Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(type, b);
}
export const s32Attr = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return attr(type, b);
};
/** A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND). */
export const strAttr = (type: number, s: string): Buffer => attr(type, Buffer.from(`${s}\0`, 'utf8'));

/** Splits an attribute stream; stops at a truncated attribute rather than throwing. */
export function decodeAttrs(buf: Buffer, offset = 0, end = buf.length): Attr[] {
  const out: Attr[] = [];
  let at = offset;
  while (at + 4 <= end) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > end) break;
    out.push({ type: buf.readUInt16LE(at + 2) & NLA_TYPE_MASK, data: buf.subarray(at + 4, at + len) });
    at += align4(len);
  }
  return out;
}

/** Last attribute of each type (the kernel sends each at most once per level). */
export function attrMap(attrs: Attr[]): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (const a of attrs) m.set(a.type, a.data);
  return m;
}

export const readStr = (b: Buffer): string => {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
};
export const readU32 = (b: Buffer): number => b.readUInt32LE(0);
export const readU16 = (b: Buffer): number => b.readUInt16LE(0);
export const readBe16 = (b: Buffer): number => b.readUInt16BE(0);
export const readU8 = (b: Buffer): number => b.readUInt8(0);

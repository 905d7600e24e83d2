import type { WireError } from './errors.js';

/**
 * A bounds-checked reader over [pos, end) of a byte array. Every read checks that
 * the bytes are there and otherwise throws the WireError its owner chose for "too
 * short here" (different places map to different NOTIFICATIONs). Only the codec's
 * decode functions catch it; the public entry points return it as a value.
 */
export class Cursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
    private readonly short: () => WireError,
  ) {}

  get left(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (this.end - this.pos < n) throw this.short();
  }

  u8(): number {
    if (this.pos >= this.end) throw this.short();
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    if (this.end - this.pos < 2) throw this.short();
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return ((b[p] as number) << 8) | (b[p + 1] as number);
  }

  u32(): number {
    if (this.end - this.pos < 4) throw this.short();
    const v = readU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number): Uint8Array {
    if (n < 0 || this.end - this.pos < n) throw this.short();
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    if (n < 0 || this.end - this.pos < n) throw this.short();
    this.pos += n;
  }
}

export function readU16(b: Uint8Array, p: number): number {
  return ((b[p] as number) << 8) | (b[p + 1] as number);
}

export function readU32(b: Uint8Array, p: number): number {
  return (((b[p] as number) << 24) >>> 0) + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number));
}

/** Lower-case hex of bytes (for NOTIFICATION data, unknown attributes and capabilities). */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i] as number];
  return s;
}

export function fromHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

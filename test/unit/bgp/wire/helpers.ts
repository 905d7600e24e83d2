import { DEFAULT_CODEC_OPTIONS, type CodecOptions } from '../../../../bgp/wire/index.js';

/** Bytes from hex written with spaces, newlines and `#` comments. */
export function hex(text: string): Buffer {
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`bad hex: ${clean}`);
  return Buffer.from(clean, 'hex');
}

/** A whole message: the 16-octet marker, the length (computed), the type, then `body`. */
export function frame(type: number, body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? hex(body) : body;
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + b.length, 16);
  head[18] = type;
  return Buffer.concat([head, b]);
}

export const AS4: CodecOptions = DEFAULT_CODEC_OPTIONS;
export const AS2: CodecOptions = { as4: false, addPath: new Set() };
export const ADDPATH: CodecOptions = { as4: true, addPath: new Set(['1/1', '2/1']) };

/** One path attribute: flags, type code, length (1 octet, or 2 with the Extended Length flag 0x10), value. */
export function attr(flags: number, code: number, value: string): string {
  const v = hex(value);
  const len = flags & 0x10 ? v.length.toString(16).padStart(4, '0') : v.length.toString(16).padStart(2, '0');
  return `${flags.toString(16).padStart(2, '0')}${code.toString(16).padStart(2, '0')}${len}${v.toString('hex')}`;
}

/** An UPDATE body: withdrawn routes length + withdrawn, total path attribute length + attributes, NLRI. */
export function updateBody(withdrawn: string, attrs: string, nlri: string): Buffer {
  const w = hex(withdrawn);
  const a = hex(attrs);
  const len = (n: number) => n.toString(16).padStart(4, '0');
  return Buffer.concat([hex(len(w.length)), w, hex(len(a.length)), a, hex(nlri)]);
}

/** One capability TLV. */
export function cap(code: number, value: string): string {
  const v = hex(value);
  return `${code.toString(16).padStart(2, '0')}${v.length.toString(16).padStart(2, '0')}${v.toString('hex')}`;
}

/** An OPEN body with all capabilities in one Capabilities parameter. */
export function openBody(fixed: string, caps: string[]): Buffer {
  const c = hex(caps.join(''));
  return Buffer.concat([hex(fixed), Buffer.from([c.length + 2, 2, c.length]), c]);
}

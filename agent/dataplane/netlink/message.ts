/**
 * Netlink framing: struct nlmsghdr (len, type, flags, seq, pid) + body, 4-byte
 * aligned; many messages per datagram. NLMSG_ERROR bodies carry an errno (0 = ack)
 * and, with extended acks, the kernel's own message text.
 */
import { align4, attrMap, decodeAttrs, readStr } from './attrs.js';
import { NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_ERROR, NLMSG_HDRLEN, NLMSGERR_ATTR_MSG } from './constants.js';

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  body: Buffer;
}

/** Header + body, padded; seq and pid are filled in by the socket (0 here by default). */
export function encodeMessage(m: { type: number; flags: number; seq?: number; pid?: number; body: Buffer }): Buffer {
  const len = NLMSG_HDRLEN + m.body.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(m.type, 4);
  out.writeUInt16LE(m.flags, 6);
  out.writeUInt32LE(m.seq ?? 0, 8);
  out.writeUInt32LE(m.pid ?? 0, 12);
  m.body.copy(out, NLMSG_HDRLEN);
  return out;
}

/** Rewrites the sequence number of an encoded message in place. */
export const setSeq = (encoded: Buffer, seq: number): void => { encoded.writeUInt32LE(seq >>> 0, 8); };

export class NetlinkFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetlinkFrameError';
  }
}

/** Splits a datagram into messages (bodies are views, not copies). */
export function splitMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let at = 0;
  while (at + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(at);
    if (len < NLMSG_HDRLEN || at + len > buf.length) throw new NetlinkFrameError(`bad nlmsg_len ${len} at ${at} of ${buf.length}`);
    out.push({
      type: buf.readUInt16LE(at + 4),
      flags: buf.readUInt16LE(at + 6),
      seq: buf.readUInt32LE(at + 8),
      pid: buf.readUInt32LE(at + 12),
      body: buf.subarray(at + NLMSG_HDRLEN, at + len),
    });
    at += align4(len);
  }
  return out;
}

export interface NlError {
  /** Positive errno; 0 for an acknowledgement. */
  errno: number;
  /** Sequence number of the request it answers. */
  seq: number;
  /** The kernel's extended-ack message, when it gave one. */
  message?: string;
}

/** Decodes an NLMSG_ERROR message (struct nlmsgerr: int error; struct nlmsghdr msg; ...). */
export function decodeError(m: NlMessage): NlError {
  if (m.type !== NLMSG_ERROR || m.body.length < 4 + NLMSG_HDRLEN) throw new NetlinkFrameError('not an NLMSG_ERROR');
  const errno = -m.body.readInt32LE(0);
  const seq = m.body.readUInt32LE(4 + 8);
  const out: NlError = { errno, seq };
  if (m.flags & NLM_F_ACK_TLVS) {
    // the original request follows whole unless the kernel capped it to its header
    const origLen = m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : m.body.readUInt32LE(4);
    const tlvs = attrMap(decodeAttrs(m.body, 4 + align4(origLen)));
    const msg = tlvs.get(NLMSGERR_ATTR_MSG);
    if (msg) out.message = readStr(msg);
  }
  return out;
}

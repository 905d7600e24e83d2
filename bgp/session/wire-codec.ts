/**
 * The driver's codec port over bgp/wire: framing, decodeMessage (with RFC 7606
 * treat-as-withdraw and attribute-discard surfaced as warnings, the message still
 * delivered) and encodeMessage.
 */
import { splitFrames } from '../wire/framing.js';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { DEFAULT_CODEC_OPTIONS, withIpv4Numbers } from '../wire/types.js';
import type { DriverCodec } from './driver.js';

export const wireCodec: DriverCodec = {
  initial: DEFAULT_CODEC_OPTIONS,
  split(buf) {
    const r = splitFrames(buf);
    // the frames are views into `buf` as framing.ts cut them; the rest is copied (it outlives the read)
    if (!r.error) return { frames: r.frames, rest: Buffer.from(r.rest) };
    return { frames: r.frames, rest: Buffer.alloc(0), error: { code: r.error.code, subcode: r.error.subcode, data: r.error.data, message: r.error.message } };
  },
  decode(frame, opts) {
    const r = decodeMessage(frame, withIpv4Numbers(opts));
    if (r.ok) {
      return r.discarded && r.discarded.length > 0
        ? { message: r.message, warning: `attribute discard: ${r.discarded.map((e) => e.message).join('; ')}` }
        : { message: r.message };
    }
    if (r.message && r.error.action === 'treat-as-withdraw') {
      // The reduced UPDATE always withdraws a prefix (bgp/wire: one with no reachable
      // NLRI is a session reset, RFC 7606 §5.2), so it never reads as an End-of-RIB.
      return { message: r.message, warning: `treat-as-withdraw (${r.error.code}/${r.error.subcode}): ${r.error.message}` };
    }
    return { error: { code: r.error.code, subcode: r.error.subcode, data: r.error.data, message: r.error.message } };
  },
  encode: (m, opts) => encodeMessage(m, opts),
};

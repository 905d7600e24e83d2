/**
 * The driver's codec port over bgp/wire: framing, decodeMessage (with RFC 7606
 * treat-as-withdraw and attribute-discard surfaced as warnings, the message still
 * delivered) and encodeMessage.
 */
import { splitFrames } from '../wire/framing.js';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { DEFAULT_CODEC_OPTIONS, withIpv4Numbers, type Message } from '../wire/types.js';
import type { DriverCodec } from './driver.js';

function withdrawsSomething(m: Message): boolean {
  if (m.type !== 'UPDATE') return true;
  return m.withdrawn.length > 0 || m.nlri.length > 0 || (m.attributes.mpUnreach?.withdrawn.length ?? 0) > 0 || (m.attributes.mpReach?.nlri.length ?? 0) > 0;
}

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
      const warning = `treat-as-withdraw (${r.error.code}/${r.error.subcode}): ${r.error.message}`;
      // Nothing to withdraw: delivering the emptied UPDATE would read as an IPv4
      // End-of-RIB (RFC 4724) and sweep graceful-restart stale routes early.
      return withdrawsSomething(r.message) ? { message: r.message, warning } : { warning: `${warning}; it carried no prefixes` };
    }
    return { error: { code: r.error.code, subcode: r.error.subcode, data: r.error.data, message: r.error.message } };
  },
  encode: (m, opts) => encodeMessage(m, opts),
};

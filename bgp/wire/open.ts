/**
 * OPEN (RFC 4271 §4.2) with Capabilities optional parameters (RFC 5492) and the
 * RFC 9072 extended optional-parameters length (decoded; encoded when needed).
 * Checks here are the syntactic ones of RFC 4271 §6.2; Bad Peer AS and capability
 * negotiation belong to the FSM.
 */
import { AS_TRANS, type Capability, type OpenMessage } from './types.js';
import { Cursor } from './cursor.js';
import { wireError, u16Data } from './errors.js';
import { formatIpv4, parseIpv4 } from './address.js';
import { decodeCapabilities, encodeCapability } from './capabilities.js';
import {
  BGP_VERSION, ERR_OPEN, OPEN_BAD_BGP_ID, OPEN_UNACCEPTABLE_HOLD_TIME, OPEN_UNSPECIFIC,
  OPEN_UNSUPPORTED_OPT_PARAM, OPEN_UNSUPPORTED_VERSION,
} from './constants.js';
import type { Writer } from './writer.js';

const PARAM_CAPABILITIES = 2;
const PARAM_EXTENDED = 255;

const short = () => wireError(ERR_OPEN, OPEN_UNSPECIFIC, 'OPEN: optional parameters overrun the message');

export function decodeOpen(b: Uint8Array, start: number, end: number): OpenMessage {
  const c = new Cursor(b, start, end, short);
  const version = c.u8();
  if (version !== BGP_VERSION) {
    throw wireError(ERR_OPEN, OPEN_UNSUPPORTED_VERSION, `OPEN: unsupported version ${version}`, { data: u16Data(BGP_VERSION) });
  }
  const myAs = c.u16();
  const holdTime = c.u16();
  if (holdTime === 1 || holdTime === 2) {
    throw wireError(ERR_OPEN, OPEN_UNACCEPTABLE_HOLD_TIME, `OPEN: unacceptable hold time ${holdTime}`);
  }
  c.need(4);
  const bgpId = formatIpv4(b, c.pos);
  const idNum = c.u32();
  if (idNum === 0) throw wireError(ERR_OPEN, OPEN_BAD_BGP_ID, 'OPEN: BGP Identifier 0.0.0.0');
  let optLen = c.u8();
  let extended = false;
  if (optLen === 255 && c.left > 0 && b[c.pos] === PARAM_EXTENDED) {
    c.u8();
    optLen = c.u16();
    extended = true;
  }
  if (optLen !== c.left) throw wireError(ERR_OPEN, OPEN_UNSPECIFIC, `OPEN: optional parameters length ${optLen} but ${c.left} octets follow`);
  const capabilities: Capability[] = [];
  while (c.left > 0) {
    const type = c.u8();
    const len = extended ? c.u16() : c.u8();
    const at = c.pos;
    c.skip(len);
    if (type !== PARAM_CAPABILITIES) {
      throw wireError(ERR_OPEN, OPEN_UNSUPPORTED_OPT_PARAM, `OPEN: unsupported optional parameter ${type}`);
    }
    decodeCapabilities(b, at, at + len, capabilities);
  }
  return { type: 'OPEN', version, myAs, holdTime, bgpId, capabilities };
}

/** The OPEN body; all capabilities go in one Capabilities parameter (as BIRD and GoBGP do). */
export function encodeOpen(m: OpenMessage, w: Writer): void {
  w.u8(m.version);
  w.u16(m.myAs > 0xffff ? AS_TRANS : m.myAs);
  w.u16(m.holdTime);
  const id = parseIpv4(m.bgpId);
  if (id === undefined) throw new RangeError(`OPEN: bad BGP Identifier "${m.bgpId}"`);
  w.u32(id);
  if (m.capabilities.length === 0) {
    w.u8(0);
    return;
  }
  const lenAt = w.pos;
  w.u8(0); // optional parameters length, patched
  w.u8(PARAM_CAPABILITIES);
  w.u8(0); // parameter length, patched
  const capsAt = w.pos;
  for (const cap of m.capabilities) encodeCapability(cap, w);
  const capsLen = w.pos - capsAt;
  if (capsLen + 2 <= 255) {
    w.buf[lenAt + 2] = capsLen;
    w.buf[lenAt] = capsLen + 2;
    return;
  }
  // RFC 9072: rewrite with the extended layout (255, 255, u16 len; param type, u16 len).
  const caps = w.buf.slice(capsAt, w.pos);
  w.pos = lenAt;
  w.u8(255);
  w.u8(PARAM_EXTENDED);
  w.u16(caps.length + 3);
  w.u8(PARAM_CAPABILITIES);
  w.u16(caps.length);
  w.bytes(caps);
}

/**
 * The message union's entry points: decodeMessage (one frame → Message or a
 * WireError value, never a throw) and encodeMessage (Message → one frame).
 */
import type { CodecOptions, Message, NotificationMessage, RouteRefreshMessage, UpdateMessage } from './types.js';
import { DEFAULT_CODEC_OPTIONS } from './types.js';
import { readU16 } from './cursor.js';
import { WireError, wireError, u16Data } from './errors.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeUpdate, encodeUpdate } from './update.js';
import { Writer } from './writer.js';
import * as K from './constants.js';

export type DecodeResult =
  | {
      ok: true;
      message: Message;
      /** attributes dropped under RFC 7606 "attribute discard"; the message is otherwise good */
      discarded?: WireError[];
    }
  | {
      ok: false;
      error: WireError;
      /**
       * With error.action "treat-as-withdraw" only: the UPDATE reduced to withdrawals.
       * Its `withdrawn` lists every prefix the UPDATE carried, of every family (each
       * Prefix carries its afi); `nlri` is empty and `attributes` is {}.
       */
      message?: UpdateMessage;
    };

/** Checks the 19-octet header of b[0..) (RFC 4271 §6.1); undefined when it is good. */
export function checkHeader(b: Uint8Array, available: number): WireError | undefined {
  for (let i = 0; i < K.MARKER_LEN; i++) {
    if (b[i] !== 0xff) return wireError(K.ERR_HEADER, K.HDR_NOT_SYNCHRONIZED, 'header: marker is not all ones');
  }
  const length = readU16(b, 16);
  if (length < K.HEADER_LEN || length > K.MAX_MESSAGE_LEN) {
    return wireError(K.ERR_HEADER, K.HDR_BAD_LENGTH, `header: length ${length} outside 19..4096`, { data: u16Data(length) });
  }
  if (available < K.HEADER_LEN) return undefined;
  const type = b[18] as number;
  const min = K.MIN_LEN[type];
  if (min === undefined) return wireError(K.ERR_HEADER, K.HDR_BAD_TYPE, `header: unknown message type ${type}`, { data: Uint8Array.of(type) });
  if (type === K.MSG_ROUTE_REFRESH) return undefined; // its length errors are RFC 7313's own
  if (length < min || (type === K.MSG_KEEPALIVE && length !== K.HEADER_LEN)) {
    return wireError(K.ERR_HEADER, K.HDR_BAD_LENGTH, `header: length ${length} is wrong for ${K.TYPE_NAMES[type]}`, { data: u16Data(length) });
  }
  return undefined;
}

/**
 * Decodes one complete frame (marker, length, type, body), as splitFrames yields
 * them. Never throws: a malformed message gives `{ ok: false, error }` whose
 * error carries the NOTIFICATION to send and the RFC 7606 action.
 */
export function decodeMessage(frame: Uint8Array, opts: CodecOptions = DEFAULT_CODEC_OPTIONS): DecodeResult {
  try {
    return decodeUnsafe(frame, opts);
  } catch (err) {
    if (err instanceof WireError) return { ok: false, error: err };
    // A decoder bug, not the peer's fault; still a value, still a reset, never a crash.
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, error: wireError(K.ERR_CEASE, 0, `internal decoder error: ${msg}`) };
  }
}

function decodeUnsafe(b: Uint8Array, opts: CodecOptions): DecodeResult {
  if (b.length < K.HEADER_LEN) {
    return { ok: false, error: wireError(K.ERR_HEADER, K.HDR_BAD_LENGTH, `header: frame of ${b.length} octets is shorter than 19`, { data: u16Data(b.length) }) };
  }
  const bad = checkHeader(b, b.length);
  if (bad) return { ok: false, error: bad };
  const length = readU16(b, 16);
  if (length !== b.length) {
    return { ok: false, error: wireError(K.ERR_HEADER, K.HDR_BAD_LENGTH, `header: length ${length} but the frame holds ${b.length}`, { data: u16Data(length) }) };
  }
  const start = K.HEADER_LEN;
  switch (b[18]) {
    case K.MSG_OPEN:
      return { ok: true, message: decodeOpen(b, start, length) };
    case K.MSG_UPDATE: {
      const r = decodeUpdate(b, start, length, opts);
      if (r.error !== undefined && r.error.action === 'treat-as-withdraw') return { ok: false, error: r.error, message: r.message };
      return r.discarded.length > 0 ? { ok: true, message: r.message, discarded: r.discarded } : { ok: true, message: r.message };
    }
    case K.MSG_NOTIFICATION:
      return { ok: true, message: { type: 'NOTIFICATION', code: b[19] as number, subcode: b[20] as number, data: new Uint8Array(b.subarray(21, length)) } };
    case K.MSG_KEEPALIVE:
      return { ok: true, message: { type: 'KEEPALIVE' } };
    default: { // ROUTE-REFRESH (checkHeader rejected unknown types)
      if (length !== 23) {
        return { ok: false, error: wireError(K.ERR_ROUTE_REFRESH, K.RR_INVALID_LENGTH, `ROUTE-REFRESH: length ${length}, want 23`, { data: b.slice() }) };
      }
      return { ok: true, message: { type: 'ROUTE-REFRESH', afi: readU16(b, 19), subtype: b[21] as number, safi: b[22] as number } };
    }
  }
}

/** Encodes one message as a complete frame. Throws RangeError if it exceeds 4096 octets. */
export function encodeMessage(m: Message, opts: CodecOptions = DEFAULT_CODEC_OPTIONS): Buffer {
  const w = new Writer(m.type === 'KEEPALIVE' ? 19 : 256); // grows by doubling; most UPDATEs of a node's blocks are far smaller than 4096
  w.ensure(K.HEADER_LEN);
  w.buf.fill(0xff, 0, K.MARKER_LEN);
  w.pos = K.HEADER_LEN;
  let type: number;
  switch (m.type) {
    case 'OPEN': type = K.MSG_OPEN; encodeOpen(m, w); break;
    case 'UPDATE': type = K.MSG_UPDATE; encodeUpdate(m, opts, w); break;
    case 'NOTIFICATION': type = K.MSG_NOTIFICATION; encodeNotification(m, w); break;
    case 'KEEPALIVE': type = K.MSG_KEEPALIVE; break;
    case 'ROUTE-REFRESH': type = K.MSG_ROUTE_REFRESH; encodeRouteRefresh(m, w); break;
  }
  if (w.pos > K.MAX_MESSAGE_LEN) throw new RangeError(`${m.type} of ${w.pos} octets exceeds ${K.MAX_MESSAGE_LEN}`);
  w.patchU16(16, w.pos);
  w.buf[18] = type;
  return w.finish();
}

function encodeNotification(m: NotificationMessage, w: Writer): void {
  w.u8(m.code);
  w.u8(m.subcode);
  w.bytes(m.data);
}

function encodeRouteRefresh(m: RouteRefreshMessage, w: Writer): void {
  w.u16(m.afi);
  w.u8(m.subtype);
  w.u8(m.safi);
}

const KEEPALIVE_FRAME = encodeMessage({ type: 'KEEPALIVE' });

/** A fresh copy of the 19-octet KEEPALIVE. */
export function keepaliveFrame(): Buffer {
  return Buffer.from(KEEPALIVE_FRAME);
}

/**
 * Framing of a TCP byte stream into BGP messages (RFC 4271 §4.1): each message
 * starts with 16 octets of ones and a 2-octet length in 19..4096. Frames are views
 * into the input (no copy): the caller must not overwrite the input while it uses
 * them.
 */
import { readU16 } from './cursor.js';
import { wireError, u16Data, type WireError } from './errors.js';
import * as K from './constants.js';

export interface Frames {
  /** complete messages, in order */
  frames: Uint8Array[];
  /** the bytes after the last complete message (an incomplete one, to be completed by more input) */
  rest: Uint8Array;
  /** a framing error at the start of `rest` (bad marker, or length outside 19..4096): the stream cannot go on */
  error?: WireError;
}

/** Splits a buffer into complete frames. Never throws. */
export function splitFrames(buf: Uint8Array): Frames {
  const frames: Uint8Array[] = [];
  let p = 0;
  while (buf.length - p >= K.HEADER_LEN) {
    const error = frameError(buf, p);
    if (error) return { frames, rest: buf.subarray(p), error };
    const len = readU16(buf, p + 16);
    if (buf.length - p < len) break;
    // a plain view (a Buffer's subarray constructs a Buffer through its species: dearer, and cold on a new session)
    frames.push(new Uint8Array(buf.buffer, buf.byteOffset + p, len));
    p += len;
  }
  // A partial header can already be known bad by its marker.
  for (let i = p; i < buf.length && i < p + K.MARKER_LEN; i++) {
    if (buf[i] !== 0xff) return { frames, rest: buf.subarray(p), error: notSynchronized() };
  }
  return { frames, rest: buf.subarray(p) };
}

function notSynchronized(): WireError {
  return wireError(K.ERR_HEADER, K.HDR_NOT_SYNCHRONIZED, 'header: marker is not all ones');
}

/** The framing error of the header at buf[p..p+19), if any (marker and length bounds only). */
export function frameError(buf: Uint8Array, p: number): WireError | undefined {
  for (let i = 0; i < K.MARKER_LEN; i++) if (buf[p + i] !== 0xff) return notSynchronized();
  const len = readU16(buf, p + 16);
  if (len < K.HEADER_LEN || len > K.MAX_MESSAGE_LEN) {
    return wireError(K.ERR_HEADER, K.HDR_BAD_LENGTH, `header: length ${len} outside 19..4096`, { data: u16Data(len) });
  }
  return undefined;
}

/**
 * The offset of the next plausible message header at or after `from`, or -1 (to resynchronise a capture):
 * a 16-octet marker whose length is 19..4096 and whose type is 1..5. Candidates in a run of ones whose
 * "length" or "type" octets are themselves ones (a bad header's own marker) are skipped. A marker too near
 * the end to carry a length and type is taken as is (the caller reports the input ends inside a message).
 */
export function findMarker(buf: Uint8Array, from: number): number {
  let run = 0;
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 0xff) { run = 0; continue; }
    if (++run < K.MARKER_LEN) continue;
    const s = i - K.MARKER_LEN + 1; // the marker's first octet
    if (s + K.HEADER_LEN > buf.length) return s;
    const len = readU16(buf, s + 16);
    const type = buf[s + 18] as number;
    if (len >= K.HEADER_LEN && len <= K.MAX_MESSAGE_LEN && type >= K.MSG_OPEN && type <= K.MSG_ROUTE_REFRESH) return s;
  }
  return -1;
}

/**
 * UPDATE (RFC 4271 §4.3) with the revised error handling of RFC 7606: every
 * attribute is checked against its table row; a malformed one costs the row's
 * action; when several are bad the strongest action wins; a treat-as-withdraw
 * UPDATE still yields all of its prefixes, as withdrawals, unless it announces
 * nothing (§5.2: then it resets the session).
 */
import { AFI_IPV4, type CodecOptions, type PathAttributes, type Prefix, type UnknownAttribute, type UpdateMessage } from './types.js';
import { readU16, toHex } from './cursor.js';
import { decodePrefixes, writePrefix } from './prefix.js';
import { ATTRIBUTE_TABLE, encodeAttributes } from './attributes.js';
import { strongest, wireError, WireError } from './errors.js';
import * as K from './constants.js';
import { needsAs4Attributes, toTwoOctetPeer } from './as4.js';
import type { Writer } from './writer.js';

export interface UpdateDecode {
  message: UpdateMessage;
  /** the strongest error, when there was one */
  error?: WireError;
  /** attributes dropped under "attribute discard" (the message is still good) */
  discarded: WireError[];
}

// "seen" marks for duplicate detection without allocating per UPDATE: seen[code] === epoch.
const seen = new Uint32Array(256);
let epoch = 0;

/** Subcodes whose NOTIFICATION data is the erroneous attribute itself (RFC 4271 §6.3). */
const DATA_IS_ATTRIBUTE = new Set([K.UPD_UNRECOGNIZED_WELL_KNOWN, K.UPD_ATTR_FLAGS, K.UPD_ATTR_LENGTH,
  K.UPD_INVALID_ORIGIN, K.UPD_INVALID_NEXT_HOP, K.UPD_OPTIONAL_ATTR]);

function malformedList(msg: string, action: 'session-reset' | 'treat-as-withdraw' | 'attribute-discard', attrCode?: number): WireError {
  return wireError(K.ERR_UPDATE, K.UPD_MALFORMED_ATTR_LIST, msg, attrCode === undefined ? { action } : { action, attrCode });
}

/**
 * Decodes the UPDATE body b[start, end). Throws only WireErrors that reset the
 * session (framing of the withdrawn / attribute / NLRI fields); everything else
 * is reported in the result.
 */
export function decodeUpdate(b: Uint8Array, start: number, end: number, opts: CodecOptions): UpdateDecode {
  if (end - start < 4) throw malformedList('UPDATE: shorter than its two length fields', 'session-reset');
  const wLen = readU16(b, start);
  const wEnd = start + 2 + wLen;
  if (wEnd + 2 > end) throw malformedList(`UPDATE: withdrawn routes length ${wLen} overruns the message`, 'session-reset');
  const v4AddPath = opts.addPath.size > 0 && opts.addPath.has('1/1');
  const withdrawn: Prefix[] = [];
  decodePrefixes(b, start + 2, wEnd, AFI_IPV4, v4AddPath, withdrawn, opts.ipv4Numbers === true);
  const aLen = readU16(b, wEnd);
  const aStart = wEnd + 2;
  const aEnd = aStart + aLen;
  if (aEnd > end) throw malformedList(`UPDATE: total path attribute length ${aLen} overruns the message`, 'session-reset');

  const attributes: PathAttributes = {};
  const discarded: WireError[] = [];
  let error: WireError | undefined;
  const note = (e: WireError) => {
    if (e.action === 'session-reset') throw e;
    if (e.action === 'attribute-discard') discarded.push(e);
    error = strongest(error, e);
  };

  // RFC 4760 §3: NEXT_HOP belongs to the NLRI field; with that field empty the receiver
  // ignores it, so a bad one is attribute discard there (and withdraws no MP_REACH route)
  const classicNlri = aEnd < end;
  epoch = (epoch + 1) >>> 0;
  if (epoch === 0) { seen.fill(0); epoch = 1; }
  let p = aStart;
  while (p < aEnd) {
    const left = aEnd - p;
    const flags = b[p] as number;
    const hdr = flags & K.FLAG_EXTENDED ? 4 : 3;
    if (left < hdr) {
      if (left >= 2) cutMp(b, p, aEnd, 'header is cut short by');
      note(malformedList('UPDATE: truncated attribute header', 'treat-as-withdraw'));
      break;
    }
    const code = b[p + 1] as number;
    const len = hdr === 4 ? readU16(b, p + 2) : (b[p + 2] as number);
    const vs = p + hdr;
    const ve = vs + len;
    if (ve > aEnd) {
      cutMp(b, p, aEnd, `length ${len} overruns`);
      note(malformedList(`UPDATE: attribute ${code} overruns the path attributes`, 'treat-as-withdraw', code));
      break;
    }
    const at = p; // the attribute's bytes b[at, ve) are copied only into an error's data
    p = ve;
    const row = ATTRIBUTE_TABLE[code];
    if (seen[code] === epoch) {
      // RFC 7606 §3 g: keep the first, discard the others; repeated MP_* reset the session.
      const mp = code === K.ATTR_MP_REACH || code === K.ATTR_MP_UNREACH;
      note(malformedList(`UPDATE: attribute ${code} appears more than once`, mp ? 'session-reset' : 'attribute-discard', code));
      continue;
    }
    seen[code] = epoch;
    // RFC 7606 §7.5: LOCAL_PREF from an external neighbour is discarded, not decoded
    if (code === K.ATTR_LOCAL_PREF && opts.ibgp === false) continue;
    if (row === undefined) {
      if ((flags & K.FLAG_OPTIONAL) === 0) {
        note(wireError(K.ERR_UPDATE, K.UPD_UNRECOGNIZED_WELL_KNOWN, `UPDATE: unrecognized well-known attribute ${code}`, { data: copyOf(b, at, ve), attrCode: code }));
      } else {
        keepUnknown(attributes, code, flags, b, vs, ve);
      }
      continue;
    }
    const ignored = code === K.ATTR_NEXT_HOP && !classicNlri;
    if ((flags & (K.FLAG_OPTIONAL | K.FLAG_TRANSITIVE)) !== row.flags) {
      // RFC 7606 §3 c: treat-as-withdraw unless the attribute's own spec says otherwise
      // (§7.6 / §7.7 set attribute discard for lengths only; MP_* keep their session reset)
      const action = ignored ? 'attribute-discard' : row.onMalformed === 'session-reset' ? 'session-reset' : 'treat-as-withdraw';
      note(wireError(K.ERR_UPDATE, K.UPD_ATTR_FLAGS, `${row.name}: flags 0x${flags.toString(16)} conflict with the attribute type`,
        { data: copyOf(b, at, ve), action, attrCode: code }));
      continue;
    }
    try {
      if (row.decode(b, vs, ve, opts, attributes) === false) keepUnknown(attributes, code, flags, b, vs, ve);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      const data = err.data.length === 0 && DATA_IS_ATTRIBUTE.has(err.subcode) ? copyOf(b, at, ve) : err.data;
      note(new WireError(err.code, err.subcode, data, ignored ? 'attribute-discard' : row.onMalformed, err.message, code));
    }
  }

  const nlri: Prefix[] = [];
  decodePrefixes(b, aEnd, end, AFI_IPV4, v4AddPath, nlri, opts.ipv4Numbers === true);

  // RFC 7606 §3 d: a missing well-known mandatory attribute is treat-as-withdraw.
  const mpNlri = attributes.mpReach !== undefined && attributes.mpReach.nlri.length > 0;
  if (nlri.length > 0 || mpNlri) {
    const missing = attributes.origin === undefined ? K.ATTR_ORIGIN
      : attributes.asPath === undefined ? K.ATTR_AS_PATH
        : nlri.length > 0 && attributes.nextHop === undefined ? K.ATTR_NEXT_HOP : 0;
    if (missing !== 0) {
      note(wireError(K.ERR_UPDATE, K.UPD_MISSING_WELL_KNOWN, `UPDATE: missing well-known attribute ${missing}`,
        { data: Uint8Array.of(missing), action: 'treat-as-withdraw', attrCode: missing }));
    }
  }

  if (error !== undefined && error.action === 'treat-as-withdraw') {
    // RFC 7606 §5.2: an UPDATE that encodes no reachable NLRI (no NLRI field prefixes,
    // no MP_REACH_NLRI prefixes — an MP_REACH without any counts as none) and meets an
    // error other than attribute discard: session reset. So a treat-as-withdraw result
    // always withdraws at least one prefix.
    if (nlri.length === 0 && !mpNlri) {
      throw new WireError(error.code, error.subcode, error.data, 'session-reset',
        `${error.message} (no reachable NLRI: RFC 7606 §5.2 session reset)`, error.attrCode);
    }
    const all = withdrawn.concat(nlri, attributes.mpReach?.nlri ?? [], attributes.mpUnreach?.withdrawn ?? []);
    return { message: { type: 'UPDATE', withdrawn: all, attributes: {}, nlri: [] }, error, discarded };
  }
  const out: UpdateDecode = { message: { type: 'UPDATE', withdrawn, attributes, nlri }, discarded };
  if (error !== undefined) out.error = error;
  return out;
}

/**
 * RFC 7606 §4: treat-as-withdraw needs MP_REACH_NLRI / MP_UNREACH_NLRI parsed
 * whole (the prefixes it withdraws are in them); one cut off by the end of the
 * path attribute field cannot be, so RFC 4760 §7 applies: session reset with
 * Optional Attribute Error, data = the attribute as far as the field holds it.
 * Other attributes cut off this way stay treat-as-withdraw (the caller).
 */
function cutMp(b: Uint8Array, at: number, aEnd: number, what: string): void {
  const code = b[at + 1] as number;
  if (code !== K.ATTR_MP_REACH && code !== K.ATTR_MP_UNREACH) return;
  const name = code === K.ATTR_MP_REACH ? 'MP_REACH_NLRI' : 'MP_UNREACH_NLRI';
  throw wireError(K.ERR_UPDATE, K.UPD_OPTIONAL_ATTR, `${name}: ${what} the path attributes`,
    { data: copyOf(b, at, aEnd), action: 'session-reset', attrCode: code });
}

/** A copy of b[s, e) (TypedArray slice: a copy even when `b` is a Buffer, whose own slice is a view). */
function copyOf(b: Uint8Array, s: number, e: number): Uint8Array {
  return Uint8Array.prototype.slice.call(b, s, e);
}

function keepUnknown(a: PathAttributes, code: number, flags: number, b: Uint8Array, s: number, e: number): void {
  const u: UnknownAttribute = { code, flags: flags & 0xe0, hex: toHex(b.subarray(s, e)) };
  (a.unknown ??= []).push(u);
}

/** The UPDATE body. `withdrawn` and `nlri` are the IPv4 fields; other families go in mpReach / mpUnreach. */
export function encodeUpdate(m: UpdateMessage, opts: CodecOptions, w: Writer): void {
  const v4AddPath = opts.addPath.has('1/1');
  const wAt = w.pos;
  w.u16(0);
  for (const p of m.withdrawn) writeIpv4Prefix(w, p, v4AddPath);
  w.patchU16(wAt, w.pos - wAt - 2);
  const aAt = w.pos;
  w.u16(0);
  encodeAttributes(!opts.as4 && m.attributes.as4Path === undefined && needsAs4Attributes(m.attributes) ? toTwoOctetPeer(m.attributes) : m.attributes, opts, w);
  w.patchU16(aAt, w.pos - aAt - 2);
  for (const p of m.nlri) writeIpv4Prefix(w, p, v4AddPath);
}

/** The Withdrawn Routes and NLRI fields carry IPv4 unicast only; other families go in MP_* attributes. */
function writeIpv4Prefix(w: Writer, p: Prefix, addPath: boolean): void {
  if (p.afi !== AFI_IPV4) throw new RangeError(`${p.addr}/${p.len}: the UPDATE's own prefix fields are IPv4; use mpReach / mpUnreach`);
  writePrefix(w, p, addPath);
}

/**
 * Egress packing: many prefixes sharing one set of attributes become as few
 * UPDATEs of at most 4096 octets as possible. The attributes are encoded once;
 * each UPDATE then only copies them and appends prefixes.
 */
import { AFI_IPV4, type CodecOptions, type MpReach, type PathAttributes, type Prefix } from './types.js';
import { DEFAULT_CODEC_OPTIONS } from './types.js';
import { encodeAttributes } from './attributes.js';
import { encodeMpReachHead } from './mp.js';
import { familyKey, prefixWireLength, writePrefix } from './prefix.js';
import { needsAs4Attributes, toTwoOctetPeer } from './as4.js';
import { Writer } from './writer.js';
import * as K from './constants.js';

/** The attributes as they must go to a peer with these options (RFC 6793 for 2-octet peers). */
export function attributesForPeer(a: PathAttributes, opts: CodecOptions): PathAttributes {
  return !opts.as4 && a.as4Path === undefined && needsAs4Attributes(a) ? toTwoOctetPeer(a) : a;
}

function startFrame(w: Writer): void {
  w.pos = 0;
  w.ensure(K.MAX_MESSAGE_LEN);
  w.buf.fill(0xff, 0, K.MARKER_LEN);
  w.buf[18] = K.MSG_UPDATE;
  w.pos = K.HEADER_LEN;
}

function endFrame(w: Writer, out: Buffer[]): void {
  w.patchU16(16, w.pos);
  out.push(w.finish());
}

/** Where an MP frame (startMpFrame) holds the Total Path Attribute Length and its MP attribute's length. */
const MP_ATTRS_LEN_AT = K.HEADER_LEN + 2;
const MP_LEN_AT = K.HEADER_LEN + 6;

/**
 * Starts an UPDATE with no withdrawn routes whose first attribute is MP_REACH or
 * MP_UNREACH (`type`, extended length); the caller writes the attribute's body,
 * endMpFrame patches both lengths.
 */
function startMpFrame(w: Writer, type: number): void {
  startFrame(w);
  w.u16(0);
  w.u16(0);
  w.u8(K.FLAG_OPTIONAL | K.FLAG_EXTENDED);
  w.u8(type);
  w.u16(0);
}

/** Ends the MP attribute, appends `rest` (the other attributes, if any), ends the frame. */
function endMpFrame(w: Writer, out: Buffer[], rest?: Uint8Array): void {
  w.patchU16(MP_LEN_AT, w.pos - MP_LEN_AT - 2);
  if (rest !== undefined) w.bytes(rest);
  w.patchU16(MP_ATTRS_LEN_AT, w.pos - MP_ATTRS_LEN_AT - 2);
  endFrame(w, out);
}

/**
 * UPDATEs announcing `prefixes` with `attributes`. When `attributes.mpReach` is set
 * the prefixes go in MP_REACH_NLRI with its afi, safi and next hops (its own nlri
 * is ignored) — IPv6, or IPv4 with an IPv6 next hop (RFC 8950); otherwise they are
 * IPv4 prefixes in the NLRI field with attributes.nextHop.
 */
export function encodeUpdates(attributes: PathAttributes, prefixes: readonly Prefix[], opts: CodecOptions = DEFAULT_CODEC_OPTIONS): Buffer[] {
  const a = attributesForPeer(attributes, opts);
  const aw = new Writer(1024);
  encodeAttributes(a, opts, aw, new Set([K.ATTR_MP_REACH]));
  const attrBytes = aw.buf.subarray(0, aw.pos);
  const out: Buffer[] = [];
  const w = new Writer(K.MAX_MESSAGE_LEN);
  const mp: MpReach | undefined = a.mpReach;
  if (mp === undefined) {
    const addPath = opts.addPath.has(familyKey(AFI_IPV4, 1));
    const fixed = K.HEADER_LEN + 4 + attrBytes.length;
    if (fixed > K.MAX_MESSAGE_LEN) throw new RangeError('path attributes alone exceed 4096 octets');
    for (let i = 0; i < prefixes.length; ) {
      startFrame(w);
      w.u16(0);
      w.u16(attrBytes.length);
      w.bytes(attrBytes);
      while (i < prefixes.length && w.pos + prefixWireLength(prefixes[i]!, addPath) <= K.MAX_MESSAGE_LEN) writePrefix(w, prefixes[i++]!, addPath);
      endFrame(w, out);
    }
    return out;
  }
  const head = new Writer(64);
  encodeMpReachHead(mp, head);
  const headBytes = head.buf.subarray(0, head.pos);
  const addPath = opts.addPath.has(familyKey(mp.afi, mp.safi));
  const fixed = K.HEADER_LEN + 4 + 4 + headBytes.length + attrBytes.length;
  if (fixed > K.MAX_MESSAGE_LEN) throw new RangeError('path attributes alone exceed 4096 octets');
  for (let i = 0; i < prefixes.length; ) {
    startMpFrame(w, K.ATTR_MP_REACH);
    w.bytes(headBytes);
    const budget = K.MAX_MESSAGE_LEN - attrBytes.length;
    while (i < prefixes.length && w.pos + prefixWireLength(prefixes[i]!, addPath) <= budget) writePrefix(w, prefixes[i++]!, addPath);
    endMpFrame(w, out, attrBytes);
  }
  return out;
}

/**
 * UPDATEs withdrawing `prefixes`: IPv4 unicast in the Withdrawn Routes field, other
 * families in MP_UNREACH_NLRI (`safi` for those; unicast by default).
 */
export function encodeWithdrawals(prefixes: readonly Prefix[], opts: CodecOptions = DEFAULT_CODEC_OPTIONS, safi = 1): Buffer[] {
  const out: Buffer[] = [];
  const w = new Writer(K.MAX_MESSAGE_LEN);
  const v4 = prefixes.filter((p) => p.afi === AFI_IPV4);
  const v6 = prefixes.filter((p) => p.afi !== AFI_IPV4);
  const v4AddPath = opts.addPath.has(familyKey(AFI_IPV4, 1));
  for (let i = 0; i < v4.length; ) {
    startFrame(w);
    w.u16(0);
    const budget = K.MAX_MESSAGE_LEN - 2;
    while (i < v4.length && w.pos + prefixWireLength(v4[i]!, v4AddPath) <= budget) writePrefix(w, v4[i++]!, v4AddPath);
    w.patchU16(K.HEADER_LEN, w.pos - K.HEADER_LEN - 2);
    w.u16(0);
    endFrame(w, out);
  }
  const v6AddPath = opts.addPath.has(familyKey(2, safi));
  for (let i = 0; i < v6.length; ) {
    startMpFrame(w, K.ATTR_MP_UNREACH);
    w.u16(2);
    w.u8(safi);
    while (i < v6.length && w.pos + prefixWireLength(v6[i]!, v6AddPath) <= K.MAX_MESSAGE_LEN) writePrefix(w, v6[i++]!, v6AddPath);
    endMpFrame(w, out);
  }
  return out;
}

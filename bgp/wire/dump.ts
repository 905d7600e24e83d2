/**
 * The JSON form of decoded messages, as `margay bgp decode` prints it (issue 3
 * fixes the field names: scripts read them). Pure: bytes in, plain objects out.
 */
import type { Capability, CodecOptions, Message, PathAttributes, Prefix } from './types.js';
import { decodeMessage } from './message.js';
import { splitFrames, findMarker } from './framing.js';
import { readU16, toHex } from './cursor.js';
import { formatCommunity, formatExtendedCommunity, formatLargeCommunity } from './communities.js';
import { notificationName, shutdownCommunication } from './notification.js';
import { isEndOfRib } from './eor.js';
import { formatPrefix } from './prefix.js';
import { TYPE_NAMES, HEADER_LEN, ERR_HEADER, HDR_BAD_LENGTH } from './constants.js';
import type { WireError } from './errors.js';

export type Json = { [key: string]: unknown };

export interface DumpOptions {
  /** auto: 4-octet AS_PATH unless an OPEN earlier in the stream lacked the capability */
  as4: 'auto' | 'yes' | 'no';
  /** "afi/safi" keys whose NLRI carry ADD-PATH path ids */
  addPath: ReadonlySet<string>;
}

function prefixJson(p: Prefix): string | Json {
  return p.pathId === undefined ? formatPrefix(p) : { prefix: formatPrefix(p), pathId: p.pathId };
}

function capabilityJson(c: Capability): Json {
  return { ...c };
}

export function attributesJson(a: PathAttributes): Json {
  const o: Json = {};
  if (a.origin !== undefined) o.origin = a.origin;
  if (a.asPath !== undefined) o.asPath = a.asPath;
  if (a.nextHop !== undefined) o.nextHop = a.nextHop;
  if (a.med !== undefined) o.med = a.med;
  if (a.localPref !== undefined) o.localPref = a.localPref;
  if (a.atomicAggregate) o.atomicAggregate = true;
  if (a.aggregator !== undefined) o.aggregator = a.aggregator;
  if (a.communities !== undefined) o.communities = a.communities.map(formatCommunity);
  if (a.largeCommunities !== undefined) o.largeCommunities = a.largeCommunities.map(formatLargeCommunity);
  if (a.extendedCommunities !== undefined) o.extendedCommunities = a.extendedCommunities.map(formatExtendedCommunity);
  if (a.originatorId !== undefined) o.originatorId = a.originatorId;
  if (a.clusterList !== undefined) o.clusterList = a.clusterList;
  if (a.mpReach !== undefined) {
    o.mpReach = { afi: a.mpReach.afi, safi: a.mpReach.safi, nextHops: a.mpReach.nextHops, nlri: a.mpReach.nlri.map(prefixJson) };
  }
  if (a.mpUnreach !== undefined) {
    o.mpUnreach = { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi, withdrawn: a.mpUnreach.withdrawn.map(prefixJson) };
  }
  if (a.as4Path !== undefined) o.as4Path = a.as4Path;
  if (a.as4Aggregator !== undefined) o.as4Aggregator = a.as4Aggregator;
  if (a.unknown !== undefined) o.unknown = a.unknown;
  return o;
}

export function errorJson(e: WireError): Json {
  return {
    code: e.code, subcode: e.subcode, name: notificationName(e.code, e.subcode), dataHex: toHex(e.data),
    action: e.action, message: e.message,
  };
}

export function messageJson(m: Message, length: number): Json {
  switch (m.type) {
    case 'OPEN': {
      const four = m.capabilities.find((c) => c.name === 'FOUR_OCTET_AS');
      return {
        type: m.type, length, version: m.version, asn: four && four.name === 'FOUR_OCTET_AS' ? four.asn : m.myAs, myAs: m.myAs,
        holdTime: m.holdTime, bgpId: m.bgpId, capabilities: m.capabilities.map(capabilityJson),
      };
    }
    case 'UPDATE': {
      const o: Json = { type: m.type, length, withdrawn: m.withdrawn.map(prefixJson), nlri: m.nlri.map(prefixJson), attributes: attributesJson(m.attributes) };
      const eor = isEndOfRib(m);
      if (eor) o.endOfRib = eor;
      return o;
    }
    case 'NOTIFICATION': {
      const o: Json = { type: m.type, length, code: m.code, subcode: m.subcode, name: notificationName(m.code, m.subcode), dataHex: toHex(m.data) };
      const text = shutdownCommunication(m.code, m.subcode, m.data);
      if (text !== undefined) o.shutdownMessage = text;
      return o;
    }
    case 'KEEPALIVE':
      return { type: m.type, length };
    case 'ROUTE-REFRESH':
      return { type: m.type, length, afi: m.afi, safi: m.safi, subtype: m.subtype };
  }
}

/**
 * Decodes a captured one-direction stream: one object per message; a malformed
 * message gives an object with `error` (its NOTIFICATION and RFC 7606 action) and
 * decoding goes on with the next frame; after a framing error it resynchronises on
 * the next plausible header (`findMarker`; past the whole bad header after a Bad
 * Message Length). Error objects carry `length` (and `type`) only when read from a
 * valid header: a Bad Message Length, or a last message cut short after its header.
 */
export function* dumpStream(buf: Uint8Array, o: DumpOptions): Generator<Json> {
  let opts: CodecOptions = { as4: o.as4 !== 'no', addPath: o.addPath };
  let base = 0;
  while (base < buf.length) {
    const view = buf.subarray(base);
    const { frames, rest, error } = splitFrames(view);
    let off = base;
    for (const f of frames) {
      const r = decodeMessage(f, opts);
      const typeName = TYPE_NAMES[f[18] as number];
      if (r.ok) {
        const j = messageJson(r.message, f.length);
        if (r.discarded) j.discarded = r.discarded.map(errorJson);
        yield j;
        if (r.message.type === 'OPEN' && o.as4 === 'auto') {
          opts = { as4: r.message.capabilities.some((c) => c.name === 'FOUR_OCTET_AS'), addPath: o.addPath };
        }
      } else {
        const j: Json = {};
        if (typeName !== undefined) j.type = typeName;
        j.length = f.length;
        j.offset = off;
        j.error = errorJson(r.error);
        if (r.message) j.withdrawn = r.message.withdrawn.map(prefixJson);
        yield j;
      }
      off += f.length;
    }
    base = off;
    if (error === undefined) {
      if (rest.length > 0) {
        const j: Json = {};
        let want = HEADER_LEN;
        if (rest.length >= HEADER_LEN) { // the header is whole: say what was cut short
          want = readU16(rest, 16);
          const typeName = TYPE_NAMES[rest[18] as number];
          if (typeName !== undefined) j.type = typeName;
          j.length = want;
        }
        j.offset = base;
        j.error = { message: `input ends inside a message (${rest.length} of ${want} octets)` };
        yield j;
      }
      return;
    }
    const j: Json = { offset: base };
    // the length is meaningful only when the marker was valid (a Bad Message Length), not in unsynchronised bytes
    const badLength = error.code === ERR_HEADER && error.subcode === HDR_BAD_LENGTH;
    if (badLength) j.length = readU16(rest, 16);
    j.error = errorJson(error);
    yield j;
    // after a Bad Message Length the marker was valid: its own ones (and a 0xffff length) must not look like the next one
    const next = findMarker(buf, base + (badLength ? HEADER_LEN : 1));
    if (next < 0) return;
    base = next;
  }
}

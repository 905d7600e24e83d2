/**
 * bgp/wire — the BGP-4 codec: pure functions between bytes and the values of
 * types.ts. No I/O, no clock, no logging. See bgp/DESIGN.md (section "wire").
 *
 * Ingress (a session's byte stream):
 *   splitFrames(buf)            → { frames, rest, error? }   complete frames (views, no copy),
 *                                 the incomplete remainder, and a framing error (bad marker or
 *                                 length outside 19..4096) that stops the stream.
 *   decodeMessage(frame, opts)  → { ok: true, message, discarded? }
 *                               | { ok: false, error, message? }
 *       Never throws. `error` is a WireError: code/subcode/data are the NOTIFICATION to
 *       send (RFC 4271 §6), `action` is the RFC 7606 handling: "session-reset" (send the
 *       NOTIFICATION, close), "treat-as-withdraw" (`message` then holds an UPDATE whose
 *       `withdrawn` lists every prefix of every family the UPDATE carried — never none:
 *       an UPDATE with no reachable NLRI resets instead, RFC 7606 §5.2), or — within `discarded` of a
 *       good result — "attribute-discard". When several attributes are bad the strongest
 *       action wins.
 *   opts: CodecOptions          { as4, addPath } negotiated in OPEN (see types.ts); the
 *                               codec never guesses them.
 *   reconcileAs4(attrs, as4)    RFC 6793 §4.2.3: AS4_PATH/AS4_AGGREGATOR merged into a
 *                               4-octet asPath/aggregator (or dropped on a 4-octet session).
 *   isEndOfRib(message)         → { afi, safi } | undefined (RFC 4724 markers, IPv4 and MP).
 *
 * Egress:
 *   encodeMessage(msg, opts)    → Buffer, one frame (RangeError beyond 4096 octets). With
 *                               opts.as4 false, 4-octet ASNs go as AS_TRANS + AS4_PATH.
 *   encodeUpdates(attrs, prefixes, opts) → Buffer[]  many prefixes sharing attributes, packed
 *                               into UPDATEs of ≤ 4096 octets (MP_REACH when attrs.mpReach).
 *   encodeWithdrawals(prefixes, opts)    → Buffer[]  the same for withdrawals.
 *   endOfRib(afi, safi), keepaliveFrame(), toTwoOctetPeer(attrs), forPropagation(attrs)
 *                               (unknown optional transitive attributes with Partial set).
 *
 * Text forms: formatPrefix / parsePrefix ("10.0.0.0/24"), formatCommunity /
 * parseCommunity ("65000:1", "NO_EXPORT"), formatLargeCommunity / parseLargeCommunity
 * ("a:b:c"), formatExtendedCommunity, formatAsPath, notificationName.
 */
export * from './types.js';
export { WireError, strongest, type ErrorAction } from './errors.js';
export { splitFrames, findMarker, frameError, type Frames } from './framing.js';
export { decodeMessage, encodeMessage, checkHeader, keepaliveFrame, type DecodeResult } from './message.js';
export { encodeUpdates, encodeWithdrawals, attributesForPeer } from './pack.js';
export { isEndOfRib, endOfRib } from './eor.js';
export { reconcileAs4, mergeAs4Path, toTwoOctetPeer, needsAs4Attributes } from './as4.js';
export { forPropagation, unknownForPropagation } from './propagate.js';
export { asPathLength, formatAsPath } from './as-path.js';
export { formatPrefix, parsePrefix, familyKey, flatJoin } from './prefix.js';
export {
  formatCommunity, parseCommunity, formatLargeCommunity, parseLargeCommunity, formatExtendedCommunity, WELL_KNOWN_COMMUNITIES,
} from './communities.js';
export { errorCodeName, errorSubcodeName, notificationName, shutdownCommunication } from './notification.js';
export { attributeName, ATTRIBUTE_TABLE, type AttributeRow } from './attributes.js';
export { capabilityName } from './capabilities.js';
export { toHex, fromHex } from './cursor.js';
export { canonicalAddress, formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './address.js';
export * as wireConstants from './constants.js';

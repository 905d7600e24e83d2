/**
 * The decoded forms of BGP-4 messages and path attributes (RFC 4271 and the
 * extensions margay speaks). These are plain values shared by the codec, the FSM,
 * the RIB and the speaker; the codec turns bytes into these and back.
 *
 * Addresses are strings (dotted quad / RFC 5952 IPv6); prefixes are
 * `{ afi, addr, len }` so that they sort and compare without parsing.
 */

export type Afi = 1 | 2; // IPv4 | IPv6
export type Safi = 1; // unicast (the only SAFI margay carries)
export const AFI_IPV4: Afi = 1;
export const AFI_IPV6: Afi = 2;
export const SAFI_UNICAST: Safi = 1;

export interface Prefix {
  afi: Afi;
  /** the network address, host bits zero, e.g. "10.244.1.0" or "fd00:1::" */
  addr: string;
  len: number;
  /** ADD-PATH path identifier (RFC 7911), present only when negotiated */
  pathId?: number;
  /**
   * IPv4 only, when the decoder was asked for it (`CodecOptions.ipv4Numbers`): the
   * address as an unsigned 32-bit number; `addr` is then made from it at each read.
   */
  bits?: number;
}

export type MessageType = 'OPEN' | 'UPDATE' | 'NOTIFICATION' | 'KEEPALIVE' | 'ROUTE-REFRESH';

// ---- OPEN and capabilities (RFC 4271 §4.2, RFC 5492) ----

export interface AfiSafi {
  afi: Afi | number;
  safi: Safi | number;
}

export type Capability =
  | { code: 1; name: 'MULTIPROTOCOL'; afi: number; safi: number }
  | { code: 2; name: 'ROUTE_REFRESH' }
  | { code: 5; name: 'EXTENDED_NEXT_HOP'; tuples: { afi: number; safi: number; nextHopAfi: number }[] }
  | {
      code: 64;
      name: 'GRACEFUL_RESTART';
      restarted: boolean; // R bit
      notification: boolean; // N bit (RFC 8538)
      restartTime: number; // seconds, 12 bits
      families: { afi: number; safi: number; forwardingPreserved: boolean }[];
    }
  | { code: 65; name: 'FOUR_OCTET_AS'; asn: number }
  | { code: 69; name: 'ADD_PATH'; families: { afi: number; safi: number; sendReceive: 1 | 2 | 3 }[] }
  | { code: 70; name: 'ENHANCED_ROUTE_REFRESH' }
  | { code: number; name: 'UNKNOWN'; hex: string };

export interface OpenMessage {
  type: 'OPEN';
  version: number;
  /** the 2-octet "My Autonomous System" field as on the wire (AS_TRANS when > 65535) */
  myAs: number;
  holdTime: number;
  bgpId: string;
  capabilities: Capability[];
}

// ---- path attributes (RFC 4271 §4.3, §5) ----

export type Origin = 'IGP' | 'EGP' | 'INCOMPLETE';

export type AsPathSegmentType = 'AS_SET' | 'AS_SEQUENCE' | 'AS_CONFED_SEQUENCE' | 'AS_CONFED_SET';

export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: number[];
}

export interface Aggregator {
  asn: number;
  address: string;
}

/** "65000:1" style for regular communities is a rendering; the value is the 32-bit number. */
export type Community = number;

export interface LargeCommunity {
  global: number;
  local1: number;
  local2: number;
}

/** An RFC 4360 extended community, kept as its 8 octets (hex) with type/subtype split out. */
export interface ExtendedCommunity {
  type: number;
  subtype: number;
  hex: string;
}

export interface UnknownAttribute {
  code: number;
  flags: number;
  hex: string;
}

export interface MpReach {
  afi: number;
  safi: number;
  /** one global next hop, or global + link-local for IPv6 (RFC 2545) */
  nextHops: string[];
  nlri: Prefix[];
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: Prefix[];
}

/**
 * Decoded path attributes. AS_PATH and AGGREGATOR are held as decoded with the
 * session's AS width; after RFC 6793 reconciliation (a separate step) `asPath`
 * carries 4-octet ASNs and `as4Path` / `as4Aggregator` are dropped.
 */
export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  communities?: Community[];
  originatorId?: string;
  clusterList?: string[];
  extendedCommunities?: ExtendedCommunity[];
  largeCommunities?: LargeCommunity[];
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  unknown?: UnknownAttribute[];
}

export interface UpdateMessage {
  type: 'UPDATE';
  withdrawn: Prefix[];
  attributes: PathAttributes;
  nlri: Prefix[];
}

export interface NotificationMessage {
  type: 'NOTIFICATION';
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface KeepaliveMessage {
  type: 'KEEPALIVE';
}

export interface RouteRefreshMessage {
  type: 'ROUTE-REFRESH';
  afi: number;
  /** 0 normal, 1 BoRR, 2 EoRR (RFC 7313) */
  subtype: number;
  safi: number;
}

export type Message = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/**
 * Facts negotiated in OPEN that change how UPDATEs are coded (GoBGP's
 * MarshallingOption): handed to the codec explicitly, never guessed inside it.
 */
export interface CodecOptions {
  /** both sides advertised the 4-octet AS capability: AS_PATH carries 4-octet ASNs */
  as4: boolean;
  /** families ("afi/safi", e.g. "1/1") whose NLRI carry ADD-PATH path identifiers */
  addPath: ReadonlySet<string>;
  /**
   * Decode IPv4 prefixes with `bits` set and their `addr` text made only when read
   * (the session's receive path: the RIB keys IPv4 by number). Off by default, so
   * decoded values are plain objects (what `bgp decode` and the tests see).
   */
  ipv4Numbers?: boolean;
  /**
   * The session is iBGP (true) or eBGP (false); absent: unknown (`bgp decode`, tests).
   * On eBGP LOCAL_PREF is discarded without being decoded (RFC 7606 §7.5).
   */
  ibgp?: boolean;
}

export const DEFAULT_CODEC_OPTIONS: CodecOptions = { as4: true, addPath: new Set() };

/**
 * A session's options with IPv4 prefixes decoded as numbers (the speaker keys its
 * table by them; the text is made only where something reads `addr`), one copy per
 * negotiated options object: what a receiving session decodes with.
 */
const numeric = new WeakMap<CodecOptions, CodecOptions>();
export function withIpv4Numbers(opts: CodecOptions): CodecOptions {
  if (opts.ipv4Numbers) return opts;
  let o = numeric.get(opts);
  if (o === undefined) numeric.set(opts, (o = { ...opts, ipv4Numbers: true }));
  return o;
}

/** Well-known communities (RFC 1997, RFC 8326 for GRACEFUL_SHUTDOWN). */
export const NO_EXPORT = 0xffffff01;
export const NO_ADVERTISE = 0xffffff02;
export const NO_EXPORT_SUBCONFED = 0xffffff03;
export const AS_TRANS = 23456;

/**
 * Reading a Node object (pure): labels, BGP addresses, AS number, router ID and
 * route-reflector cluster ID from the annotations in types.ts, falling back to the
 * cluster defaults and to status.addresses (InternalIP). Also the value forms the
 * BGP kinds share with Calico: AS numbers (plain or AS-dot), BGPPeer.peerIP with a port.
 */
import { parseIP, parseIPv4 } from '../../crds/net.js';
import type { Resource } from '../datastore/resources.js';
import { formatAddr, parseAddr } from '../ipam/cidr.js';
import { ANNOTATIONS, type NodeBgpInfo } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An address in its one text form (RFC 5952 for IPv6: lower case, zeros compressed); undefined if invalid. */
export function canonicalAddress(text: string): string | undefined {
  const a = parseAddr(text.trim());
  return a && formatAddr(a.family, a.value);
}

/**
 * "a.b.c.d/len" or a bare address (gets a host prefix) of the wanted family, the
 * address in canonical form (canonicalAddress); undefined if invalid.
 */
export function parseAddressPrefix(text: string, family: 4 | 6): string | undefined {
  const [addr, len, extra] = text.trim().split('/');
  if (extra !== undefined || addr === undefined) return undefined;
  const a = parseAddr(addr);
  if (!a || a.family !== family) return undefined;
  const canonical = formatAddr(a.family, a.value);
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return `${canonical}/${max}`;
  if (!/^\d+$/.test(len) || Number(len) > max) return undefined;
  return `${canonical}/${Number(len)}`;
}

export const hostOf = (cidr: string): string => cidr.split('/')[0] ?? cidr;

/** Numeric order of two addresses of one family (the mesh's passive rule). */
export function compareAddresses(a: string, b: string): number {
  const x = parseAddr(hostOf(a));
  const y = parseAddr(hostOf(b));
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  if (x.family !== y.family) return x.family - y.family;
  return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
}

/**
 * An AS number 1..4294967295: an integer, its decimal text, or AS-dot text "a.b"
 * (RFC 5396, each part 0..65535) = a×65536 + b, as Calico's numorstring.ASNumber
 * reads it (leading zeros included: "065000" is 65000). The CRDs' asNumber pattern
 * accepts exactly these strings.
 */
export function parseAsn(v: unknown): number | undefined {
  let n = NaN;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(v.trim());
    const hi = Number(m?.[1]);
    const lo = Number(m?.[2]);
    if (m && m[2] === undefined) n = hi;
    else if (m && hi <= 0xffff && lo <= 0xffff) n = hi * 0x10000 + lo;
  }
  return Number.isInteger(n) && n >= 1 && n <= 0xffffffff ? n : undefined;
}

/**
 * A dotted quad as Go's netip (and so Calico and the API server's isIP) reads it:
 * no leading zeros — "010.0.0.1" is 8.0.0.1 to inet_aton and 10.0.0.1 to others, so
 * it is refused rather than guessed; undefined if invalid.
 */
function parseDottedQuad(text: string): string | undefined {
  return parseIPv4(text.trim())?.join('.');
}

/**
 * BGPPeer.peerIP as Calico reads it: an address, "IPv4:port" or "[IPv6]:port" (port
 * 1..65535). An IPv6 address without brackets is an address, never address and port
 * ("fd00::1:1179" is one address). Addresses are strict (as the CRD's isIP) and
 * returned canonical (canonicalAddress); undefined if invalid. The CRD's peerIP rule
 * accepts exactly these.
 */
export function parsePeerIP(text: string): { address: string; port?: number } | undefined {
  const t = text.trim();
  const m = /^\[([^\]]*)\]:(\d{1,5})$/.exec(t) ?? /^([0-9.]+):(\d{1,5})$/.exec(t);
  const host = m ? (m[1] as string) : t;
  const ip = parseIP(host);
  if (!ip || (m && ip.family !== (t.startsWith('[') ? 6 : 4))) return undefined;
  const address = canonicalAddress(host);
  if (address === undefined) return undefined;
  if (!m) return { address };
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { address, port } : undefined;
}

function internalIp(node: Resource, family: 4 | 6): string | undefined {
  const status = isObj(node.status) ? node.status : {};
  const list = Array.isArray(status.addresses) ? status.addresses : [];
  for (const a of list) {
    if (isObj(a) && a.type === 'InternalIP' && typeof a.address === 'string') {
      const p = parseAddressPrefix(a.address, family);
      if (p) return p;
    }
  }
  return undefined;
}

export function readNode(node: Resource, defaultAsn: number, problems: string[]): NodeBgpInfo {
  const ann = node.metadata.annotations ?? {};
  const name = node.metadata.name;
  const info: NodeBgpInfo = { name, labels: { ...(node.metadata.labels ?? {}) }, asn: defaultAsn };
  const addr = (key: string, family: 4 | 6): string | undefined => {
    const v = ann[key];
    if (v === undefined) return internalIp(node, family);
    const p = parseAddressPrefix(v, family);
    if (!p) problems.push(`Node ${name}: annotation ${key}: "${v}" is not an IPv${family} address[/prefix]`);
    return p;
  };
  const a4 = addr(ANNOTATIONS.ipv4Address, 4);
  const a6 = addr(ANNOTATIONS.ipv6Address, 6);
  if (a4) info.address = a4;
  if (a6) info.address6 = a6;
  const asText = ann[ANNOTATIONS.asNumber];
  if (asText !== undefined) {
    const asn = parseAsn(asText);
    if (asn === undefined) problems.push(`Node ${name}: annotation ${ANNOTATIONS.asNumber}: "${asText}" is not an AS number (1..4294967295, or AS-dot a.b with a and b 0..65535)`);
    else info.asn = asn;
  }
  const dotted = (key: string): string | undefined => {
    const v = ann[key];
    if (v === undefined) return undefined;
    const quad = parseDottedQuad(v);
    if (quad === undefined) {
      problems.push(`Node ${name}: annotation ${key}: "${v}" must be a dotted quad like 10.0.0.1 (no leading zeros)`);
    } else if (quad === '0.0.0.0' && key === ANNOTATIONS.routerId) {
      // RFC 6286 §2.1: a BGP Identifier is non-zero; peers refuse an OPEN carrying 0.0.0.0.
      // A cluster ID has no such rule (RFC 4456: any 4 octets), so it may be 0.0.0.0.
      problems.push(`Node ${name}: annotation ${key}: "${v}" is not a BGP router ID (it must be non-zero, RFC 6286)`);
      return undefined;
    }
    return quad;
  };
  const cid = dotted(ANNOTATIONS.routeReflectorClusterId);
  if (cid) info.clusterId = cid;
  // a bad annotation falls back to the IPv4 address (the problem is reported): BGP keeps running
  const own = a4 ? hostOf(a4) : undefined;
  const rid = dotted(ANNOTATIONS.routerId) ?? (own !== '0.0.0.0' ? own : undefined);
  if (rid) info.routerId = rid;
  const vx = ann[ANNOTATIONS.vxlanTunnelAddress];
  if (vx !== undefined) {
    const p = parseAddressPrefix(vx, 4);
    if (p) info.vxlanTunnelAddress = hostOf(p);
    else problems.push(`Node ${name}: annotation ${ANNOTATIONS.vxlanTunnelAddress}: "${vx}" is not an IPv4 address`);
  }
  return info;
}

/** Go-style duration ("120s", "1m30s", "1.5h") → seconds (rounded down); undefined if invalid. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let i = 0;
  if (text === '') return undefined;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * (unit[m[2] as string] as number);
    i = re.lastIndex;
  }
  return Math.floor(total);
}

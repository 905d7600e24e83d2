/**
 * Reading a Node object (pure): labels, BGP addresses, AS number, router ID and
 * route-reflector cluster ID from the annotations in types.ts, falling back to the
 * cluster defaults and to status.addresses (InternalIP).
 */
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

export function parseAsn(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 0xffffffff ? n : undefined;
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
    if (asn === undefined) problems.push(`Node ${name}: annotation ${ANNOTATIONS.asNumber}: "${asText}" is not an AS number 1..4294967295`);
    else info.asn = asn;
  }
  const dotted = (key: string): string | undefined => {
    const v = ann[key];
    if (v === undefined) return undefined;
    if (parseAddr(v.trim())?.family !== 4) {
      problems.push(`Node ${name}: annotation ${key}: "${v}" must be a dotted quad like 10.0.0.1`);
      return undefined;
    }
    return v.trim();
  };
  const cid = dotted(ANNOTATIONS.routeReflectorClusterId);
  if (cid) info.clusterId = cid;
  const rid = dotted(ANNOTATIONS.routerId) ?? (a4 ? hostOf(a4) : undefined);
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

/**
 * Routes (struct rtmsg + RTA_*), both directions. One model for single-path and
 * multipath routes: `nexthops` (empty for blackhole and friends); one next hop is
 * encoded with RTA_GATEWAY/RTA_OIF and RTNH_F_ONLINK in rtm_flags, several with
 * RTA_MULTIPATH (struct rtnexthop list), as the kernel itself does.
 */
import { attr, attrMap, decodeAttrs, readU32, s32Attr, u32Attr } from './attrs.js';
import {
  AF_INET, AF_INET6, ROUTE_TYPES, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, RTA_DST, RTA_GATEWAY,
  RTA_MULTIPATH, RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE, RTNH_F_ONLINK, type RouteType,
} from './constants.js';
import { bytesToIp, type Family, ipToBytes, parsePrefix } from './ip.js';

export interface NextHop {
  gateway?: string;
  ifindex?: number;
  onlink: boolean;
  /** ECMP weight (rtnh_hops + 1); 1 for single-path routes. */
  weight: number;
}

export interface RouteMsg {
  family: Family;
  /** Canonical prefix, "0.0.0.0/0" for default. */
  dst: string;
  table: number;
  protocol: number;
  scope: number;
  type: RouteType;
  priority?: number;
  prefsrc?: string;
  nexthops: NextHop[];
}

const RTMSG_LEN = 12;
const famNum = (f: Family): number => (f === 4 ? AF_INET : AF_INET6);

/** Scope the kernel would give: link for a device route, universe otherwise. */
export const defaultScope = (r: Pick<RouteMsg, 'type' | 'nexthops'>): number =>
  r.type === 'unicast' && r.nexthops.length === 1 && r.nexthops[0]?.gateway === undefined ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;

function encodeNexthop(nh: NextHop): Buffer {
  const attrs = nh.gateway !== undefined ? attr(RTA_GATEWAY, ipToBytes(nh.gateway)) : Buffer.alloc(0);
  const out = Buffer.alloc(8 + attrs.length);
  out.writeUInt16LE(out.length, 0);
  out.writeUInt8(nh.onlink ? RTNH_F_ONLINK : 0, 2);
  out.writeUInt8(Math.max(0, nh.weight - 1), 3);
  out.writeInt32LE(nh.ifindex ?? 0, 4);
  attrs.copy(out, 8);
  return out;
}

/** Body of RTM_NEWROUTE / RTM_DELROUTE. */
export function encodeRoute(r: RouteMsg): Buffer {
  const p = parsePrefix(r.dst);
  const head = Buffer.alloc(RTMSG_LEN);
  head.writeUInt8(famNum(r.family), 0);
  head.writeUInt8(p.length, 1);
  head.writeUInt8(r.table < 256 ? r.table : 0, 4);
  head.writeUInt8(r.protocol, 5);
  head.writeUInt8(r.scope, 6);
  head.writeUInt8(ROUTE_TYPES.indexOf(r.type), 7);
  const single = r.nexthops.length === 1 ? r.nexthops[0] : undefined;
  head.writeUInt32LE(single?.onlink ? RTNH_F_ONLINK : 0, 8);
  const parts = [head, u32Attr(RTA_TABLE, r.table)];
  if (p.length > 0) parts.push(attr(RTA_DST, ipToBytes(p.address)));
  if (r.priority !== undefined) parts.push(u32Attr(RTA_PRIORITY, r.priority));
  if (r.prefsrc !== undefined) parts.push(attr(RTA_PREFSRC, ipToBytes(r.prefsrc)));
  if (single) {
    if (single.gateway !== undefined) parts.push(attr(RTA_GATEWAY, ipToBytes(single.gateway)));
    if (single.ifindex !== undefined) parts.push(s32Attr(RTA_OIF, single.ifindex));
  } else if (r.nexthops.length > 1) {
    parts.push(attr(RTA_MULTIPATH, Buffer.concat(r.nexthops.map(encodeNexthop))));
  }
  return Buffer.concat(parts);
}

function decodeMultipath(b: Buffer): NextHop[] {
  const out: NextHop[] = [];
  let at = 0;
  while (at + 8 <= b.length) {
    const len = b.readUInt16LE(at);
    if (len < 8 || at + len > b.length) break;
    const attrs = attrMap(decodeAttrs(b, at + 8, at + len));
    const gw = attrs.get(RTA_GATEWAY);
    const nh: NextHop = { onlink: (b.readUInt8(at + 2) & RTNH_F_ONLINK) !== 0, weight: b.readUInt8(at + 3) + 1 };
    const ifindex = b.readInt32LE(at + 4);
    if (gw) nh.gateway = bytesToIp(gw);
    if (ifindex !== 0) nh.ifindex = ifindex;
    out.push(nh);
    at += (len + 3) & ~3;
  }
  return out;
}

/** Decodes an RTM_NEWROUTE body, or undefined for families other than IPv4/IPv6. */
export function decodeRoute(body: Buffer): RouteMsg | undefined {
  if (body.length < RTMSG_LEN) return undefined;
  const fam = body.readUInt8(0);
  if (fam !== AF_INET && fam !== AF_INET6) return undefined;
  const family: Family = fam === AF_INET ? 4 : 6;
  const attrs = attrMap(decodeAttrs(body, RTMSG_LEN));
  const dstLen = body.readUInt8(1);
  const dstBytes = attrs.get(RTA_DST);
  const zero = family === 4 ? '0.0.0.0' : '::';
  const table = attrs.get(RTA_TABLE);
  const r: RouteMsg = {
    family,
    dst: `${dstBytes ? bytesToIp(dstBytes) : zero}/${dstLen}`,
    table: table ? readU32(table) : body.readUInt8(4),
    protocol: body.readUInt8(5),
    scope: body.readUInt8(6),
    type: ROUTE_TYPES[body.readUInt8(7)] ?? 'unspec',
    nexthops: [],
  };
  const prio = attrs.get(RTA_PRIORITY);
  if (prio) r.priority = readU32(prio);
  const src = attrs.get(RTA_PREFSRC);
  if (src) r.prefsrc = bytesToIp(src);
  const mp = attrs.get(RTA_MULTIPATH);
  if (mp) {
    r.nexthops = decodeMultipath(mp);
  } else {
    const gw = attrs.get(RTA_GATEWAY);
    const oif = attrs.get(RTA_OIF);
    if (gw || oif) {
      const nh: NextHop = { onlink: (body.readUInt32LE(8) & RTNH_F_ONLINK) !== 0, weight: 1 };
      if (gw) nh.gateway = bytesToIp(gw);
      if (oif) nh.ifindex = oif.readInt32LE(0);
      r.nexthops = [nh];
    }
  }
  return r;
}

/** Body of an RTM_GETROUTE dump request for one family. */
export function encodeRouteDump(family: Family): Buffer {
  const head = Buffer.alloc(RTMSG_LEN);
  head.writeUInt8(famNum(family), 0);
  return head;
}

export { RT_TABLE_MAIN };

/**
 * Routes (struct rtmsg + RTA_*), both directions. One model for single-path and
 * multipath routes: `nexthops` (empty for blackhole and friends); one next hop is
 * encoded with RTA_GATEWAY/RTA_OIF and RTNH_F_ONLINK in rtm_flags, several with
 * RTA_MULTIPATH (struct rtnexthop list), as the kernel itself does.
 */
import { attr, attrMap, decodeAttrs, readU32 } from './attrs.js';
import {
  AF_INET, AF_INET6, ROUTE_TYPES, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, RTA_DST, RTA_GATEWAY,
  RTA_MULTIPATH, RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE, RTNH_F_ONLINK, type RouteType,
} from './constants.js';
import { AddressError, bytesToIp, type Family, ipToBytes, maskBytes } from './ip.js';

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

/** Body of RTM_NEWROUTE / RTM_DELROUTE, written into one buffer (this is the hot path of a large batch). */
export function encodeRoute(r: RouteMsg): Buffer {
  const slash = r.dst.indexOf('/');
  const length = slash < 0 ? (r.family === 4 ? 32 : 128) : Number(r.dst.slice(slash + 1));
  const addr = ipToBytes(slash < 0 ? r.dst : r.dst.slice(0, slash));
  if (!Number.isInteger(length) || length < 0 || length > addr.length * 8) throw new AddressError(`bad prefix ${r.dst}`);
  const dst = length === addr.length * 8 ? addr : maskBytes(addr, length);
  const single = r.nexthops.length === 1 ? r.nexthops[0] : undefined;
  const gw = single?.gateway !== undefined ? ipToBytes(single.gateway) : undefined;
  const src = r.prefsrc !== undefined ? ipToBytes(r.prefsrc) : undefined;
  const multipath = r.nexthops.length > 1 ? Buffer.concat(r.nexthops.map(encodeNexthop)) : undefined;
  const size = RTMSG_LEN + 8 + (length > 0 ? 4 + dst.length : 0) + (r.priority !== undefined ? 8 : 0) +
    (src ? 4 + src.length : 0) + (gw ? 4 + gw.length : 0) + (single?.ifindex !== undefined ? 8 : 0) +
    (multipath ? 4 + multipath.length : 0);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt8(famNum(r.family), 0);
  out.writeUInt8(length, 1);
  out.writeUInt16LE(0, 2); // src_len, tos
  out.writeUInt8(r.table < 256 ? r.table : 0, 4);
  out.writeUInt8(r.protocol, 5);
  out.writeUInt8(r.scope, 6);
  out.writeUInt8(ROUTE_TYPES.indexOf(r.type), 7);
  out.writeUInt32LE(single?.onlink ? RTNH_F_ONLINK : 0, 8);
  let at = RTMSG_LEN;
  const put = (type: number, data: Buffer): void => {
    out.writeUInt16LE(4 + data.length, at);
    out.writeUInt16LE(type, at + 2);
    data.copy(out, at + 4);
    at += 4 + data.length; // every payload here is a multiple of 4 bytes
  };
  const putU32 = (type: number, v: number, signed = false): void => {
    out.writeUInt16LE(8, at);
    out.writeUInt16LE(type, at + 2);
    if (signed) out.writeInt32LE(v, at + 4);
    else out.writeUInt32LE(v >>> 0, at + 4);
    at += 8;
  };
  putU32(RTA_TABLE, r.table);
  if (length > 0) put(RTA_DST, dst);
  if (r.priority !== undefined) putU32(RTA_PRIORITY, r.priority);
  if (src) put(RTA_PREFSRC, src);
  if (gw) put(RTA_GATEWAY, gw);
  if (single?.ifindex !== undefined) putU32(RTA_OIF, single.ifindex, true);
  if (multipath) put(RTA_MULTIPATH, multipath);
  return out;
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

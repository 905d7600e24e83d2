/**
 * Links (struct ifinfomsg + IFLA_*), with IFLA_LINKINFO for the kinds margay
 * creates: veth (peer in another namespace), vxlan, ipip. Per-device IPv4 sysctls
 * (forwarding, proxy_arp, rp_filter) ride in IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF.
 */
import {
  attr, attrMap, be16Attr, decodeAttrs, nested, readBe16, readStr, readU32, readU8, s32Attr, strAttr, u32Attr, u8Attr,
} from './attrs.js';
import {
  AF_INET, AF_UNSPEC, IFLA_ADDRESS, IFLA_AF_SPEC, IFLA_IFNAME, IFLA_INET_CONF, IFLA_INFO_DATA, IFLA_INFO_KIND,
  IFLA_IPTUN_LINK, IFLA_IPTUN_LOCAL, IFLA_IPTUN_PMTUDISC, IFLA_IPTUN_REMOTE, IFLA_IPTUN_TTL, IFLA_LINK,
  IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU, IFLA_NET_NS_FD, IFLA_VXLAN_ID, IFLA_VXLAN_LEARNING, IFLA_VXLAN_LINK,
  IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, IFLA_VXLAN_PORT, IFLA_VXLAN_TTL, IFF_UP, VETH_INFO_PEER,
} from './constants.js';
import { bytesToIp, bytesToMac, ipToBytes, macToBytes } from './ip.js';

export interface VxlanInfo {
  vni: number;
  port: number;
  local?: string;
  /** Underlay device index (IFLA_VXLAN_LINK). */
  link?: number;
  learning: boolean;
  ttl?: number;
}

export interface IpipInfo {
  local?: string;
  remote?: string;
  link?: number;
  ttl?: number;
  pmtudisc?: boolean;
}

export type LinkKind =
  | { kind: 'veth'; peer?: { name: string; netnsFd?: number; mac?: string; mtu?: number } }
  | { kind: 'vxlan'; vxlan: VxlanInfo }
  | { kind: 'ipip'; ipip: IpipInfo }
  | { kind: 'other'; name: string };

export interface LinkMsg {
  index: number;
  name: string;
  flags: number;
  mtu?: number;
  mac?: string;
  master?: number;
  /** IFLA_LINK: the peer's index for veth, the underlay for tunnels. */
  link?: number;
  info?: LinkKind;
}

/** What to create or change; absent fields are left alone by the kernel. */
export interface LinkRequest {
  index?: number;
  name?: string;
  up?: boolean;
  mtu?: number;
  mac?: string;
  master?: number;
  /** Move the link into the namespace this file descriptor refers to. */
  netnsFd?: number;
  info?: LinkKind;
  /** IPv4 per-device sysctls by IPV4_DEVCONF_* index, e.g. { 3: 1 } for proxy_arp. */
  inetConf?: Record<number, number>;
}

const IFINFO_LEN = 16;

function ifinfo(index: number, flags: number, change: number): Buffer {
  const b = Buffer.alloc(IFINFO_LEN);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

function encodeInfo(info: LinkKind): Buffer {
  switch (info.kind) {
    case 'veth': {
      if (!info.peer) return nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'veth')]);
      const peerAttrs = [ifinfo(0, 0, 0), strAttr(IFLA_IFNAME, info.peer.name)];
      if (info.peer.mac) peerAttrs.push(attr(IFLA_ADDRESS, macToBytes(info.peer.mac)));
      if (info.peer.mtu !== undefined) peerAttrs.push(u32Attr(IFLA_MTU, info.peer.mtu));
      if (info.peer.netnsFd !== undefined) peerAttrs.push(u32Attr(IFLA_NET_NS_FD, info.peer.netnsFd));
      return nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'veth'), nested(IFLA_INFO_DATA, [nested(VETH_INFO_PEER, peerAttrs)])]);
    }
    case 'vxlan': {
      const v = info.vxlan;
      const data = [u32Attr(IFLA_VXLAN_ID, v.vni), be16Attr(IFLA_VXLAN_PORT, v.port), u8Attr(IFLA_VXLAN_LEARNING, v.learning ? 1 : 0)];
      if (v.local !== undefined) data.push(attr(v.local.includes(':') ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, ipToBytes(v.local)));
      if (v.link !== undefined) data.push(u32Attr(IFLA_VXLAN_LINK, v.link));
      if (v.ttl !== undefined) data.push(u8Attr(IFLA_VXLAN_TTL, v.ttl));
      return nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'vxlan'), nested(IFLA_INFO_DATA, data)]);
    }
    case 'ipip': {
      const t = info.ipip;
      const data: Buffer[] = [];
      if (t.link !== undefined) data.push(u32Attr(IFLA_IPTUN_LINK, t.link));
      if (t.local !== undefined) data.push(attr(IFLA_IPTUN_LOCAL, ipToBytes(t.local)));
      if (t.remote !== undefined) data.push(attr(IFLA_IPTUN_REMOTE, ipToBytes(t.remote)));
      if (t.ttl !== undefined) data.push(u8Attr(IFLA_IPTUN_TTL, t.ttl));
      if (t.pmtudisc !== undefined) data.push(u8Attr(IFLA_IPTUN_PMTUDISC, t.pmtudisc ? 1 : 0));
      return nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'ipip'), nested(IFLA_INFO_DATA, data)]);
    }
    case 'other':
      return nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, info.name)]);
  }
}

/** Body of RTM_NEWLINK / RTM_SETLINK / RTM_DELLINK / RTM_GETLINK. */
export function encodeLink(r: LinkRequest): Buffer {
  const parts = [ifinfo(r.index ?? 0, r.up ? IFF_UP : 0, r.up === undefined ? 0 : IFF_UP)];
  if (r.name !== undefined) parts.push(strAttr(IFLA_IFNAME, r.name));
  if (r.mtu !== undefined) parts.push(u32Attr(IFLA_MTU, r.mtu));
  if (r.mac !== undefined) parts.push(attr(IFLA_ADDRESS, macToBytes(r.mac)));
  if (r.master !== undefined) parts.push(u32Attr(IFLA_MASTER, r.master));
  if (r.netnsFd !== undefined) parts.push(s32Attr(IFLA_NET_NS_FD, r.netnsFd));
  if (r.info) parts.push(encodeInfo(r.info));
  if (r.inetConf) {
    const conf = Object.entries(r.inetConf).map(([k, v]) => u32Attr(Number(k), v));
    parts.push(nested(IFLA_AF_SPEC, [nested(AF_INET, [nested(IFLA_INET_CONF, conf)])]));
  }
  return Buffer.concat(parts);
}

function decodeInfo(b: Buffer): LinkKind | undefined {
  const li = attrMap(decodeAttrs(b));
  const kindB = li.get(IFLA_INFO_KIND);
  if (!kindB) return undefined;
  const kind = readStr(kindB);
  const data = attrMap(decodeAttrs(li.get(IFLA_INFO_DATA) ?? Buffer.alloc(0)));
  if (kind === 'veth') return { kind: 'veth' };
  if (kind === 'vxlan') {
    const v: VxlanInfo = {
      vni: data.has(IFLA_VXLAN_ID) ? readU32(data.get(IFLA_VXLAN_ID) as Buffer) : 0,
      port: data.has(IFLA_VXLAN_PORT) ? readBe16(data.get(IFLA_VXLAN_PORT) as Buffer) : 0,
      learning: data.has(IFLA_VXLAN_LEARNING) ? readU8(data.get(IFLA_VXLAN_LEARNING) as Buffer) !== 0 : true,
    };
    const local = data.get(IFLA_VXLAN_LOCAL) ?? data.get(IFLA_VXLAN_LOCAL6);
    if (local) v.local = bytesToIp(local);
    const link = data.get(IFLA_VXLAN_LINK);
    if (link) v.link = readU32(link);
    const ttl = data.get(IFLA_VXLAN_TTL);
    if (ttl) v.ttl = readU8(ttl);
    return { kind: 'vxlan', vxlan: v };
  }
  if (kind === 'ipip') {
    const t: IpipInfo = {};
    const local = data.get(IFLA_IPTUN_LOCAL);
    if (local) t.local = bytesToIp(local);
    const remote = data.get(IFLA_IPTUN_REMOTE);
    if (remote) t.remote = bytesToIp(remote);
    const link = data.get(IFLA_IPTUN_LINK);
    if (link) t.link = readU32(link);
    const ttl = data.get(IFLA_IPTUN_TTL);
    if (ttl) t.ttl = readU8(ttl);
    const pm = data.get(IFLA_IPTUN_PMTUDISC);
    if (pm) t.pmtudisc = readU8(pm) !== 0;
    return { kind: 'ipip', ipip: t };
  }
  return { kind: 'other', name: kind };
}

export function decodeLink(body: Buffer): LinkMsg | undefined {
  if (body.length < IFINFO_LEN) return undefined;
  const attrs = attrMap(decodeAttrs(body, IFINFO_LEN));
  const l: LinkMsg = {
    index: body.readInt32LE(4),
    flags: body.readUInt32LE(8),
    name: readStr(attrs.get(IFLA_IFNAME) ?? Buffer.alloc(0)),
  };
  const mtu = attrs.get(IFLA_MTU);
  if (mtu) l.mtu = readU32(mtu);
  const mac = attrs.get(IFLA_ADDRESS);
  if (mac && mac.length === 6) l.mac = bytesToMac(mac);
  const master = attrs.get(IFLA_MASTER);
  if (master) l.master = readU32(master);
  const link = attrs.get(IFLA_LINK);
  if (link) l.link = readU32(link);
  const info = attrs.get(IFLA_LINKINFO);
  if (info) {
    const k = decodeInfo(info);
    if (k) l.info = k;
  }
  return l;
}

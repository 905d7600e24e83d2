/** Interface addresses (struct ifaddrmsg + IFA_*). */
import { attr, attrMap, decodeAttrs, readStr, readU32, u32Attr } from './attrs.js';
import { AF_INET, AF_INET6, IFA_ADDRESS, IFA_FLAGS, IFA_LABEL, IFA_LOCAL, RT_SCOPE_UNIVERSE } from './constants.js';
import { bytesToIp, type Family, familyOf, ipToBytes } from './ip.js';

export interface AddrMsg {
  family: Family;
  ifindex: number;
  /** "10.0.0.1/24": the local address with its prefix length. */
  address: string;
  /** Peer address for point-to-point links (IFA_ADDRESS when it differs from IFA_LOCAL). */
  peer?: string;
  scope: number;
  flags: number;
  label?: string;
}

const IFADDR_LEN = 8;

/** Body of RTM_NEWADDR / RTM_DELADDR. */
export function encodeAddr(a: { ifindex: number; address: string; scope?: number; flags?: number; peer?: string }): Buffer {
  const [ip = '', lenText] = a.address.split('/');
  const family = familyOf(ip);
  const bytes = ipToBytes(ip);
  const head = Buffer.alloc(IFADDR_LEN);
  head.writeUInt8(family === 4 ? AF_INET : AF_INET6, 0);
  head.writeUInt8(lenText === undefined ? bytes.length * 8 : Number(lenText), 1);
  head.writeUInt8((a.flags ?? 0) & 0xff, 2);
  head.writeUInt8(a.scope ?? RT_SCOPE_UNIVERSE, 3);
  head.writeUInt32LE(a.ifindex, 4);
  const parts = [head, attr(IFA_LOCAL, bytes), attr(IFA_ADDRESS, a.peer !== undefined ? ipToBytes(a.peer) : bytes)];
  if (a.flags !== undefined && a.flags > 0xff) parts.push(u32Attr(IFA_FLAGS, a.flags));
  return Buffer.concat(parts);
}

export function decodeAddr(body: Buffer): AddrMsg | undefined {
  if (body.length < IFADDR_LEN) return undefined;
  const fam = body.readUInt8(0);
  if (fam !== AF_INET && fam !== AF_INET6) return undefined;
  const attrs = attrMap(decodeAttrs(body, IFADDR_LEN));
  const local = attrs.get(IFA_LOCAL);
  const address = attrs.get(IFA_ADDRESS);
  const mine = local ?? address;
  if (!mine) return undefined;
  const out: AddrMsg = {
    family: fam === AF_INET ? 4 : 6,
    ifindex: body.readUInt32LE(4),
    address: `${bytesToIp(mine)}/${body.readUInt8(1)}`,
    scope: body.readUInt8(3),
    flags: attrs.has(IFA_FLAGS) ? readU32(attrs.get(IFA_FLAGS) as Buffer) : body.readUInt8(2),
  };
  if (local && address && !local.equals(address)) out.peer = bytesToIp(address);
  const label = attrs.get(IFA_LABEL);
  if (label) out.label = readStr(label);
  return out;
}

export function encodeAddrDump(family: Family | 0): Buffer {
  const head = Buffer.alloc(IFADDR_LEN);
  head.writeUInt8(family === 0 ? 0 : family === 4 ? AF_INET : AF_INET6, 0);
  return head;
}

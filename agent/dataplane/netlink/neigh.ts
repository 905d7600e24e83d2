/**
 * Neighbours and bridge FDB entries (struct ndmsg + NDA_*). A VXLAN FDB entry is an
 * AF_BRIDGE neighbour on the vxlan device with NTF_SELF, the remote VTEP's MAC as
 * NDA_LLADDR and the remote underlay address as NDA_DST.
 */
import { attr, attrMap, decodeAttrs, readU32 } from './attrs.js';
import { AF_BRIDGE, AF_INET, AF_INET6, NDA_DST, NDA_LLADDR, NDA_MASTER } from './constants.js';
import { bytesToIp, bytesToMac, ipToBytes, macToBytes } from './ip.js';

export type NeighFamily = 4 | 6 | 'bridge';

export interface NeighMsg {
  family: NeighFamily;
  ifindex: number;
  /** NUD_* bits. */
  state: number;
  /** NTF_* bits. */
  flags: number;
  dst?: string;
  lladdr?: string;
  master?: number;
}

const NDMSG_LEN = 12;
const famNum = (f: NeighFamily): number => (f === 4 ? AF_INET : f === 6 ? AF_INET6 : AF_BRIDGE);

export function encodeNeigh(n: NeighMsg): Buffer {
  const head = Buffer.alloc(NDMSG_LEN);
  head.writeUInt8(famNum(n.family), 0);
  head.writeInt32LE(n.ifindex, 4);
  head.writeUInt16LE(n.state, 8);
  head.writeUInt8(n.flags, 10);
  const parts: Buffer[] = [head];
  if (n.dst !== undefined) parts.push(attr(NDA_DST, ipToBytes(n.dst)));
  if (n.lladdr !== undefined) parts.push(attr(NDA_LLADDR, macToBytes(n.lladdr)));
  return Buffer.concat(parts);
}

export function decodeNeigh(body: Buffer): NeighMsg | undefined {
  if (body.length < NDMSG_LEN) return undefined;
  const fam = body.readUInt8(0);
  const family: NeighFamily | undefined = fam === AF_INET ? 4 : fam === AF_INET6 ? 6 : fam === AF_BRIDGE ? 'bridge' : undefined;
  if (family === undefined) return undefined;
  const attrs = attrMap(decodeAttrs(body, NDMSG_LEN));
  const n: NeighMsg = { family, ifindex: body.readInt32LE(4), state: body.readUInt16LE(8), flags: body.readUInt8(10) };
  const dst = attrs.get(NDA_DST);
  if (dst && (dst.length === 4 || dst.length === 16)) n.dst = bytesToIp(dst);
  const ll = attrs.get(NDA_LLADDR);
  if (ll && ll.length === 6) n.lladdr = bytesToMac(ll);
  const master = attrs.get(NDA_MASTER);
  if (master) n.master = readU32(master);
  return n;
}

/** Dump request body; `ifindex` narrows an AF_BRIDGE dump to one device's FDB (kernel ≥ 5.x filters by NDA_IFINDEX only with strict checking, so callers also filter). */
export function encodeNeighDump(family: NeighFamily): Buffer {
  const head = Buffer.alloc(NDMSG_LEN);
  head.writeUInt8(famNum(family), 0);
  return head;
}

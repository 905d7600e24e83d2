/**
 * A minimal MRT TABLE_DUMP_V2 writer (RFC 6396): one PEER_INDEX_TABLE and one
 * RIB_IPV4_UNICAST record per prefix, for feeding GoBGP (`gobgp mrt inject
 * global FILE`). Prefixes are consecutive /24s from 11.0.0.0 (or another base);
 * attributes vary over `attributeSets` combinations of MED and community so the
 * receiver sees realistic grouping. AS_PATH is 4-octet, as MRT requires.
 */
import { writeFile } from 'node:fs/promises';

export interface MrtFeed {
  count: number;
  nextHop: string;
  peerAs: number;
  /** first octet of the first /24 (default 11) */
  base?: number;
  /** distinct attribute sets (default 100) */
  attributeSets?: number;
}

const ipBytes = (a: string): number[] => a.split('.').map(Number);

function record(subtype: number, body: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32BE(1700000000, 0);
  h.writeUInt16BE(13, 4); // TABLE_DUMP_V2
  h.writeUInt16BE(subtype, 6);
  h.writeUInt32BE(body.length, 8);
  return Buffer.concat([h, body]);
}

function attributes(feed: MrtFeed, set: number): Buffer {
  const asPath = [feed.peerAs, 64512 + (set % 50)];
  const parts: number[] = [];
  parts.push(0x40, 1, 1, 0); // ORIGIN IGP
  const seg = Buffer.alloc(2 + 4 * asPath.length);
  seg[0] = 2; seg[1] = asPath.length;
  asPath.forEach((a, i) => seg.writeUInt32BE(a, 2 + 4 * i));
  parts.push(0x40, 2, seg.length, ...seg);
  parts.push(0x40, 3, 4, ...ipBytes(feed.nextHop));
  const med = Buffer.alloc(4); med.writeUInt32BE(set, 0);
  parts.push(0x80, 4, 4, ...med);
  const comm = Buffer.alloc(4); comm.writeUInt16BE(feed.peerAs & 0xffff, 0); comm.writeUInt16BE(set, 2);
  parts.push(0xc0, 8, 4, ...comm);
  return Buffer.from(parts);
}

/** The i-th /24 of the feed as "a.b.c.0/24". */
export function feedPrefix(i: number, base = 11): string {
  return `${base + (i >>> 16)}.${(i >>> 8) & 0xff}.${i & 0xff}.0/24`;
}

export async function writeMrt(path: string, feed: MrtFeed): Promise<void> {
  const base = feed.base ?? 11;
  const sets = feed.attributeSets ?? 100;
  const attrs = Array.from({ length: sets }, (_, i) => attributes(feed, i));
  const peerIndex = Buffer.concat([
    Buffer.from(ipBytes('10.255.255.1')), Buffer.from([0, 0]), Buffer.from([0, 1]),
    Buffer.from([0x02]), Buffer.from(ipBytes('10.255.255.2')), Buffer.from(ipBytes(feed.nextHop)),
    (() => { const b = Buffer.alloc(4); b.writeUInt32BE(feed.peerAs, 0); return b; })(),
  ]);
  const chunks: Buffer[] = [record(1, peerIndex)];
  for (let i = 0; i < feed.count; i++) {
    const a = attrs[i % sets] as Buffer;
    const body = Buffer.alloc(4 + 1 + 3 + 2 + 2 + 4 + 2 + a.length);
    let p = body.writeUInt32BE(i, 0);
    p = body.writeUInt8(24, p);
    body[p++] = base + (i >>> 16); body[p++] = (i >>> 8) & 0xff; body[p++] = i & 0xff;
    p = body.writeUInt16BE(1, p); // entry count
    p = body.writeUInt16BE(0, p); // peer index
    p = body.writeUInt32BE(1700000000, p);
    p = body.writeUInt16BE(a.length, p);
    a.copy(body, p);
    chunks.push(record(2, body));
  }
  await writeFile(path, Buffer.concat(chunks));
}

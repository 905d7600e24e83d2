/**
 * Raw socket syscalls Node has no API for (TCP MD5, minimum TTL, a socket that must
 * be configured before connect), through `syscall-napi`. Every function here works
 * on a plain file descriptor; `transport.ts` hands the finished fd to Node.
 *
 * Linux x86_64/arm64 only (the syscall numbers come from syscall-napi's tables).
 */
import { isIPv4, isIPv6 } from 'node:net';
import sys from 'syscall-napi';

export const AF_INET = 2;
export const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_SNDTIMEO = 21;
export const IPPROTO_IP = 0;
export const IP_TTL = 2;
export const IP_MINTTL = 21;
export const IPPROTO_TCP = 6;
export const TCP_MD5SIG = 14;
export const IPPROTO_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MINHOPCOUNT = 73;
const SHUT_RDWR = 2;

function nr(name: string): bigint {
  const n = sys[`__NR_${name}`];
  if (typeof n !== 'bigint') throw new Error(`syscall ${name} not available on this architecture`);
  return n;
}

/** The address family of an IP literal; throws for anything else. */
export function familyOf(address: string): typeof AF_INET | typeof AF_INET6 {
  if (isIPv4(address)) return AF_INET;
  if (isIPv6(address)) return AF_INET6;
  throw new Error(`not an IP address: "${address}"`);
}

/** `struct sockaddr_in` / `sockaddr_in6` for an address and port, in a buffer of `size` bytes. */
export function sockaddr(address: string, port: number, size?: number): Buffer {
  const fam = familyOf(address);
  const buf = Buffer.alloc(size ?? (fam === AF_INET ? 16 : 28));
  buf.writeUInt16LE(fam, 0); // sa_family is host order (little-endian on x86_64/arm64)
  buf.writeUInt16BE(port, 2);
  if (fam === AF_INET) {
    address.split('.').forEach((o, i) => buf.writeUInt8(Number(o), 4 + i));
  } else {
    ipv6Bytes(address).copy(buf, 8); // after sin6_flowinfo
  }
  return buf;
}

/** The 16 bytes of an IPv6 literal (with `::` and an embedded dotted quad). */
export function ipv6Bytes(address: string): Buffer {
  let addr = address.split('%')[0] as string;
  const out = Buffer.alloc(16);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (dotted) {
    const o = (dotted[1] as string).split('.').map(Number);
    addr = addr.slice(0, dotted.index) + `${(((o[0] as number) << 8) | (o[1] as number)).toString(16)}:${(((o[2] as number) << 8) | (o[3] as number)).toString(16)}`;
  }
  const [head, tail] = addr.includes('::') ? addr.split('::') as [string, string] : [addr, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}

export function setsockopt(fd: number, level: number, name: number, value: Buffer): void {
  sys.syscall.sync(nr('setsockopt'), BigInt(fd), BigInt(level), BigInt(name), value, BigInt(value.length));
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  setsockopt(fd, level, name, int32(value));
}

/** A new blocking TCP socket (close-on-exec) of the family of `address`. */
export function tcpSocket(family: number): number {
  return Number(sys.syscall.sync(nr('socket'), BigInt(family), BigInt(SOCK_STREAM | SOCK_CLOEXEC), 0n));
}

export function bindTo(fd: number, address: string, port: number): void {
  const sa = sockaddr(address, port);
  sys.syscall.sync(nr('bind'), BigInt(fd), sa, BigInt(sa.length));
}

/** A blocking connect run on libuv's thread pool; bounded by SO_SNDTIMEO (set by the caller). */
export async function connectFd(fd: number, address: string, port: number): Promise<void> {
  const sa = sockaddr(address, port);
  await sys.syscall(nr('connect'), BigInt(fd), sa, BigInt(sa.length));
}

/** Send timeout (also bounds a blocking connect on Linux). */
export function setSendTimeout(fd: number, ms: number): void {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv);
}

export function shutdownFd(fd: number): void {
  try {
    sys.syscall.sync(nr('shutdown'), BigInt(fd), BigInt(SHUT_RDWR));
  } catch {
    // not connected: nothing to shut down
  }
}

export function closeFd(fd: number): void {
  try {
    sys.syscall.sync(nr('close'), BigInt(fd));
  } catch {
    // already closed
  }
}

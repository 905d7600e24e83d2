/**
 * Raw socket syscalls Node has no API for (TCP MD5, minimum TTL, a socket that must
 * be configured before connect), through `syscall-napi`. Every function here works
 * on a plain file descriptor; `transport.ts` hands the finished fd to Node.
 *
 * Linux x86_64/arm64 only (the syscall numbers come from syscall-napi's tables).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { constants } from 'node:os';
import sys from 'syscall-napi';

export const AF_INET = 2;
export const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
const SO_ERROR = 4;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
/** strerror(EINPROGRESS): syscall-napi reports an errno only as its strerror text */
const EINPROGRESS_TEXT = 'Operation now in progress';
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

/** A new non-blocking TCP socket (close-on-exec) of the family of `address`. */
export function tcpSocket(family: number): number {
  return Number(sys.syscall.sync(nr('socket'), BigInt(family), BigInt(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK), 0n));
}

export function bindTo(fd: number, address: string, port: number): void {
  const sa = sockaddr(address, port);
  sys.syscall.sync(nr('bind'), BigInt(fd), sa, BigInt(sa.length));
}

/**
 * Starts a connect on a non-blocking socket, on the calling thread (never libuv's
 * pool): true when it completed at once, false when in progress (EINPROGRESS; watch
 * it with `connectResult`); throws on an immediate failure.
 */
export function startConnect(fd: number, address: string, port: number): boolean {
  const sa = sockaddr(address, port);
  try {
    sys.syscall.sync(nr('connect'), BigInt(fd), sa, BigInt(sa.length));
    return true;
  } catch (err) {
    if ((err as Error).message === EINPROGRESS_TEXT) return false;
    throw err;
  }
}

/**
 * A connect in progress, without blocking: `ppoll` with a zero timeout (arm64 has no
 * `poll`), then `SO_ERROR` once the socket is writable or in error. 'pending' while
 * the handshake runs, 'connected', or `{error}` with the errno's name (ECONNREFUSED, …).
 */
export function connectResult(fd: number): ConnectState {
  const pfd = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLOUT, 4);
  const zero = Buffer.alloc(16); // struct timespec {0, 0}
  const n = sys.syscall.sync(nr('ppoll'), pfd, 1n, zero, 0n, 8n);
  if (n === 0n || (pfd.readInt16LE(6) & (POLLOUT | POLLERR | POLLHUP)) === 0) return 'pending';
  const val = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4, 0);
  sys.syscall.sync(nr('getsockopt'), BigInt(fd), BigInt(SOL_SOCKET), BigInt(SO_ERROR), val, len);
  const errno = val.readInt32LE(0);
  if (errno === 0) return 'connected';
  return { error: Object.entries(constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}` };
}

export type ConnectState = 'pending' | 'connected' | { error: string };

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

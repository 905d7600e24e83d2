/**
 * TCP transport for BGP sessions: passive listen and active connect, with optional
 * TCP MD5 (RFC 2385) and GTSM (RFC 5082) per peer.
 *
 * Node's `net` has no hook to set socket options before connect, so an active
 * connection with MD5 or GTSM is made on a non-blocking socket created by syscall
 * (`sockopt.ts`): connect returns EINPROGRESS, a timer loop polls the socket (ppoll
 * with a zero timeout, then SO_ERROR) until it is connected, fails, times out or the
 * caller aborts, then the fd is wrapped with `new net.Socket({ fd })`. Nothing runs
 * on libuv's thread pool (a blocking connect there held one of its 4 threads per
 * attempt for up to its timeout: file reads, DNS and zlib queued behind). The
 * listener is a normal `net.Server`; MD5 keys go on its fd (accepted connections
 * inherit them). The driver only sees the narrow `Transport` interface, so tests can
 * hand it any pair of connected sockets.
 */
import net from 'node:net';
import {
  bindTo, closeFd, connectResult, familyOf, startConnect, AF_INET6, IPPROTO_IP, IPPROTO_IPV6, IP_MINTTL, IP_TTL, IPV6_MINHOPCOUNT,
  IPV6_UNICAST_HOPS, setsockoptInt, shutdownFd, tcpSocket, type ConnectState,
} from './sockopt.js';
import { setMd5Key, setTtlSecurity } from './tcp-md5.js';

export const BGP_PORT = 179;

export interface ConnectOptions {
  remote: string;
  port?: number;
  /** local address to bind (source of the connection) */
  local?: string;
  password?: string;
  /** GTSM: allowed hop count (1 for directly connected); absent = off */
  ttlSecurityHops?: number;
  timeoutMs?: number;
  /** abandons the attempt (the driver's connect was closed): the socket is closed and the promise rejects */
  signal?: AbortSignal;
}

export interface ListenOptions {
  address: string;
  port: number;
}

export interface Listener {
  readonly address: string;
  readonly port: number;
  /** set ('' removes) the MD5 key for connections from `peer` */
  setPeerPassword(peer: string, password: string): void;
  /**
   * GTSM on the passive side: the SYN-ACK leaves before the accepted socket can be
   * configured, so the listener itself sends with TTL 255 (harmless for other peers);
   * the minimum TTL is then set per accepted connection.
   */
  setSendTtl255(on: boolean): void;
  /**
   * Minimum TTL of every incoming segment, SYNs included (0 = off). Only safe when
   * every peer that may connect uses GTSM; otherwise the per-connection minimum set
   * after accept applies, and a non-GTSM peer's first segments may slip in before it.
   */
  setMinTtl(min: number): void;
  close(): Promise<void>;
}

export interface Transport {
  connect(opts: ConnectOptions): Promise<net.Socket>;
  listen(opts: ListenOptions, onConnection: (socket: net.Socket) => void): Promise<Listener>;
}

/** Normalise an address Node reports (`::ffff:10.0.0.1` → `10.0.0.1`). */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** What the non-blocking connect loop needs of the syscall layer (tests pass fakes). */
export interface RawConnectOps {
  startConnect(fd: number, address: string, port: number): boolean;
  connectResult(fd: number): ConnectState;
  sleep(ms: number): Promise<void>;
  now(): number;
}

const kernelOps: RawConnectOps = {
  startConnect, connectResult,
  sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
  now: () => Date.now(),
};

/**
 * Connects a non-blocking fd: at once, or by polling every few ms (1 ms doubling to
 * 50 ms) until connected, failed, `timeoutMs` passed or `signal` aborted. Throws
 * with the reason; the caller closes the fd.
 */
export async function connectNonBlocking(fd: number, remote: string, port: number, opts: { timeoutMs: number; signal?: AbortSignal }, ops: RawConnectOps = kernelOps): Promise<void> {
  if (opts.signal?.aborted) throw new Error('aborted');
  if (ops.startConnect(fd, remote, port)) return;
  const deadline = ops.now() + opts.timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const st = ops.connectResult(fd);
    if (st === 'connected') return;
    if (st !== 'pending') throw new Error(st.error);
    const left = deadline - ops.now();
    if (left <= 0) throw new Error('timed out');
    await ops.sleep(Math.min(delay, left));
    if (opts.signal?.aborted) throw new Error('aborted');
  }
}

async function connectRaw(opts: ConnectOptions): Promise<net.Socket> {
  const port = opts.port ?? BGP_PORT;
  const fd = tcpSocket(familyOf(opts.remote));
  try {
    if (opts.password) setMd5Key(fd, opts.remote, opts.password);
    if (opts.ttlSecurityHops !== undefined) setTtlSecurity(fd, opts.remote, opts.ttlSecurityHops);
    if (opts.local) bindTo(fd, opts.local, 0);
    await connectNonBlocking(fd, opts.remote, port, { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (err) {
    shutdownFd(fd);
    closeFd(fd);
    throw new Error(`connect ${opts.remote}:${port}: ${(err as Error).message}`);
  }
  return new net.Socket({ fd, readable: true, writable: true });
}

function connectPlain(opts: ConnectOptions): Promise<net.Socket> {
  const port = opts.port ?? BGP_PORT;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return void reject(new Error(`connect ${opts.remote}:${port}: aborted`));
    const s = net.connect({ host: opts.remote, port, ...(opts.local ? { localAddress: opts.local } : {}) });
    const fail = (why: string): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      s.destroy();
      reject(new Error(`connect ${opts.remote}:${port}: ${why}`));
    };
    const onAbort = (): void => fail('aborted');
    const timer = setTimeout(() => fail('timed out'), opts.timeoutMs ?? 5000);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    s.once('connect', () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => fail(err.message));
  });
}

function handleFd(server: net.Server): number {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('listener has no file descriptor (not on Linux?)');
  return fd;
}

/** The real kernel transport. */
export const kernelTransport: Transport = {
  connect(opts) {
    return opts.password || opts.ttlSecurityHops !== undefined ? connectRaw(opts) : connectPlain(opts);
  },
  listen(opts, onConnection) {
    const server = net.createServer({ noDelay: true }, onConnection);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.address, port: opts.port, exclusive: true }, () => {
        server.removeListener('error', reject);
        server.on('error', () => undefined); // accept errors (EMFILE...) must not crash the process
        const bound = server.address() as net.AddressInfo;
        const v6 = familyOf(opts.address) === AF_INET6;
        resolve({
          address: bound.address,
          port: bound.port,
          setPeerPassword(peer, password) {
            // an IPv6 listener sees IPv4 peers as v4-mapped addresses
            const key = v6 && net.isIPv4(peer) ? `::ffff:${peer}` : peer;
            setMd5Key(handleFd(server), key, password);
          },
          setSendTtl255(on) {
            const fd = handleFd(server);
            if (v6) setsockoptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, on ? 255 : -1);
            setsockoptInt(fd, IPPROTO_IP, IP_TTL, on ? 255 : -1); // -1: back to the system default
          },
          setMinTtl(min) {
            const fd = handleFd(server);
            if (v6) setsockoptInt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, min);
            setsockoptInt(fd, IPPROTO_IP, IP_MINTTL, min);
          },
          close: () => new Promise<void>((res) => server.close(() => res())),
        });
      });
    });
  },
};

/**
 * The netlink transport: one NETLINK_ROUTE socket driven by synchronous syscalls
 * through syscall-napi — the native layer node-netlink itself sits on (node-netlink →
 * po6-socket → po6 → syscall-napi).
 *
 * Why not node-netlink's own `talk()`: it sends exactly one message per sendmsg and
 * waits for its ack (no batching), polls with an async 100 ms ppoll loop, and cannot
 * open a socket in another network namespace. Here:
 * - batch(): many requests per sendmsg (≤ CHUNK bytes, one reused buffer); only the
 *   last request of a datagram asks for an ACK, so the replies are its failures (each
 *   names its seq) and then that ACK, read with blocking reads — no final EAGAIN.
 * - dump(): one request, blocking reads (SO_RCVTIMEO bounds them) until NLMSG_DONE.
 * - open({ netnsPath }): setns(2) on the calling (main JS) thread around socket(2),
 *   then back; a socket stays in the namespace it was created in, so the rest of
 *   the process never leaves its own namespace. All of it is synchronous, so no other
 *   JS runs while the thread is switched.
 * Calls block the event loop for their duration (a 100k-route batch ≈ 1 s).
 */
import { closeSync, openSync } from 'node:fs';
import sys from 'syscall-napi';
import { NETLINK_ROUTE, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR } from '../netlink/constants.js';
import { decodeError, encodeMessage, type NlMessage, splitMessages } from '../netlink/message.js';
import { EINTR, errnoFromSyscallError, NetlinkError } from './errno.js';

const AF_NETLINK = 16n;
const SOCK_RAW = 3n;
const SOCK_CLOEXEC = 0x80000n;
const SOL_SOCKET = 1n;
const SO_SNDBUFFORCE = 32n;
const SO_RCVBUFFORCE = 33n;
const SO_RCVTIMEO = 20n;
const SOL_NETLINK = 270n;
const NETLINK_CAP_ACK = 10n;
const NETLINK_EXT_ACK = 11n;
const CLONE_NEWNET = 0x40000000n;
/** Bytes of requests per sendmsg. */
const CHUNK = 128 * 1024;
const RECV_BUF = 256 * 1024;

export interface NlRequest {
  type: number;
  /** NLM_F_* besides REQUEST (which is always set). */
  flags: number;
  body: Buffer;
}

export interface BatchFailure {
  /** Index of the request in the batch. */
  index: number;
  errno: number;
  message?: string;
}

const S = sys.syscall.sync;

function setIntOpt(fd: bigint, level: bigint, name: bigint, value: number): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value);
  S(sys.__NR_setsockopt, fd, level, name, b, 4n);
}

/** Runs `fn` with the calling thread switched into the namespace at `netnsPath`. */
export function withNetnsSync<T>(netnsPath: string, fn: () => T): T {
  const self = openSync('/proc/thread-self/ns/net', 'r');
  const target = openSync(netnsPath, 'r');
  try {
    S(sys.__NR_setns, BigInt(target), CLONE_NEWNET);
    try {
      return fn();
    } finally {
      S(sys.__NR_setns, BigInt(self), CLONE_NEWNET);
    }
  } finally {
    closeSync(target);
    closeSync(self);
  }
}

/** Path of a named namespace made by `ip netns add`. */
export const netnsPath = (name: string): string => `/var/run/netns/${name}`;

export class NlSocket {
  private seq = 1;
  private readonly buf = Buffer.alloc(RECV_BUF);
  /** batch()'s send buffer, reused (batch is synchronous): a fresh 128 KiB per call costs an mmap */
  private readonly chunk = Buffer.allocUnsafe(CHUNK);
  private closed = false;

  private constructor(private readonly fd: bigint) {}

  /** Opens a socket in the current namespace, or in the one at `netnsPath`. */
  static open(opts: { netnsPath?: string } = {}): NlSocket {
    const create = (): bigint => S(sys.__NR_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, BigInt(NETLINK_ROUTE));
    const fd = opts.netnsPath !== undefined ? withNetnsSync(opts.netnsPath, create) : create();
    try {
      const sa = Buffer.alloc(12);
      sa.writeUInt16LE(Number(AF_NETLINK), 0);
      S(sys.__NR_bind, fd, sa, 12n);
      setIntOpt(fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 * 1024 * 1024);
      setIntOpt(fd, SOL_SOCKET, SO_RCVBUFFORCE, 8 * 1024 * 1024);
      setIntOpt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
      setIntOpt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
      const tv = Buffer.alloc(16);
      tv.writeBigInt64LE(10n, 0); // 10 s: no dump takes that long; bounds a stuck read
      S(sys.__NR_setsockopt, fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16n);
    } catch (err) {
      S(sys.__NR_close, fd);
      throw err;
    }
    return new NlSocket(fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    S(sys.__NR_close, this.fd);
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  private send(data: Buffer): void {
    for (;;) {
      try {
        S(sys.__NR_sendto, this.fd, data, BigInt(data.length), 0n, 0n, 0n);
        return;
      } catch (err) {
        if (errnoFromSyscallError(err) !== EINTR) throw err;
      }
    }
  }

  /** One datagram (blocking; SO_RCVTIMEO bounds the wait). */
  private recv(): NlMessage[] {
    for (;;) {
      try {
        const n = Number(S(sys.__NR_recvfrom, this.fd, this.buf, BigInt(this.buf.length), 0n, 0n, 0n));
        return splitMessages(Buffer.from(this.buf.subarray(0, n)));
      } catch (err) {
        const e = errnoFromSyscallError(err);
        if (e === EINTR) continue;
        throw err;
      }
    }
  }

  /**
   * Sends many requests, packed into few datagrams, and returns the ones the kernel
   * refused. Requests are processed in order; a failure does not stop the rest.
   */
  batch(reqs: readonly NlRequest[]): BatchFailure[] {
    const failures: BatchFailure[] = [];
    const bySeq = new Map<number, number>();
    const chunk = this.chunk;
    let size = 0;
    let lastAt = -1;
    let lastSeq = 0;
    const flush = (): void => {
      if (size === 0) return;
      // only the datagram's last request asks for an ACK: the kernel answers in
      // order, so once it arrives every error of the datagram has been read
      chunk.writeUInt16LE(chunk.readUInt16LE(lastAt + 6) | NLM_F_ACK, lastAt + 6);
      this.send(chunk.subarray(0, size));
      size = 0;
      this.readUntilAck(lastSeq, bySeq, failures);
      bySeq.clear();
    };
    reqs.forEach((r, index) => {
      const len = NLMSG_HDRLEN + r.body.length;
      const space = (len + 3) & ~3;
      if (space > CHUNK) throw new Error(`netlink request of ${len} bytes is larger than a datagram`);
      if (size + space > CHUNK) flush();
      const seq = this.nextSeq();
      chunk.writeUInt32LE(len, size);
      chunk.writeUInt16LE(r.type, size + 4);
      chunk.writeUInt16LE(NLM_F_REQUEST | (r.flags & ~NLM_F_ACK), size + 6);
      chunk.writeUInt32LE(seq, size + 8);
      chunk.writeUInt32LE(0, size + 12);
      r.body.copy(chunk, size + NLMSG_HDRLEN);
      chunk.fill(0, size + len, size + space);
      bySeq.set(seq, index);
      lastAt = size;
      lastSeq = seq;
      size += space;
    });
    flush();
    return failures;
  }

  /** Reads errors of a batch datagram until the ACK (or error) of its last request, `ackSeq`. */
  private readUntilAck(ackSeq: number, bySeq: Map<number, number>, into: BatchFailure[]): void {
    for (let i = 0; i < 1_000_000; i++) {
      for (const m of this.recv()) {
        if (m.type !== NLMSG_ERROR) continue;
        const e = decodeError(m);
        const index = bySeq.get(e.seq);
        if (index !== undefined && e.errno !== 0) into.push({ index, errno: e.errno, ...(e.message !== undefined ? { message: e.message } : {}) });
        if (e.seq === ackSeq) return;
      }
    }
    throw new Error('netlink batch: no acknowledgement of its last request');
  }

  /** One request with an acknowledgement; throws NetlinkError when refused. */
  request(req: NlRequest, what = `netlink request type ${req.type}`): void {
    const seq = this.nextSeq();
    this.send(encodeMessage({ type: req.type, flags: NLM_F_REQUEST | NLM_F_ACK | req.flags, seq, body: req.body }));
    for (let i = 0; i < 1_000_000; i++) {
      const msgs = this.recv();
      for (const m of msgs) {
        if (m.type !== NLMSG_ERROR) continue;
        const e = decodeError(m);
        if (e.seq !== seq) continue;
        if (e.errno !== 0) throw new NetlinkError(e.errno, what, e.message);
        return;
      }
    }
    throw new Error(`${what}: no acknowledgement`);
  }

  /** Dumps a table: every message of the reply (bodies are copies, safe to keep). Retries an interrupted dump. */
  dump(type: number, body: Buffer, what = `netlink dump type ${type}`): NlMessage[] {
    for (let attempt = 0; attempt < 5; attempt++) {
      const seq = this.nextSeq();
      this.send(encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, body }));
      const out: NlMessage[] = [];
      let interrupted = false;
      let done = false;
      while (!done) {
        for (const m of this.recv()) {
          if (m.seq !== seq) continue;
          if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
          if (m.type === NLMSG_DONE) done = true;
          else if (m.type === NLMSG_ERROR) {
            const e = decodeError(m);
            if (e.errno !== 0) throw new NetlinkError(e.errno, what, e.message);
            done = true;
          } else out.push(m);
        }
      }
      if (!interrupted) return out;
    }
    throw new Error(`${what}: dump kept being interrupted`);
  }
}

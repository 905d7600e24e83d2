/**
 * The session driver: the only loop that touches sockets and timers. It turns bytes
 * into events for the pure core and performs the actions the core returns.
 *
 *   socket bytes → split into frames → decode (per-connection codec options)
 *     → core.handle(peer, FsmEvent) → actions → write / close / connect / timers
 *
 * Connections are named `peer#conn` with the FSM's connection numbers; an accepted
 * connection gets the number the FSM will give it (connSeq + 1). Timers are keyed
 * `peer/name`; each expiry is fed back as the matching FSM event. Everything a peer
 * causes runs inside a per-peer try/catch: an exception (a bug, a codec surprise)
 * ends that peer's session with a NOTIFICATION (Cease, Out of Resources) and a
 * log line — it never reaches the process or another session.
 *
 * Async rule: events are handled one at a time on the event loop; a connect resolves
 * later and is reported as TcpConnectionConfirmed / TcpConnectionFails then.
 */
import type net from 'node:net';
import type { CodecOptions, Message, PathAttributes } from '../wire/types.js';
import { messageEvent } from '../fsm/step.js';
import { negotiatedFamily, type Family } from '../fsm/types.js';
import type { PeerAction, SpeakerAction, SpeakerEvent } from '../speaker/types.js';
import { timerEvent } from '../speaker/handle.js';
import type { ConnectOptions, Transport } from './transport.js';
import { plainAddress } from './transport.js';

/** What the driver needs of the codec (see wire-codec.ts for the real one). */
export interface DriverCodec {
  /** cuts complete messages off the front of `buf` (frames: views into it, no copy); `error` = unrecoverable framing error */
  split(buf: Buffer): { frames: Uint8Array[]; rest: Buffer; error?: { code: number; subcode: number; data?: Uint8Array; message: string } };
  /** one framed message → a message, or the NOTIFICATION the RFC asks for */
  decode(frame: Uint8Array, opts: CodecOptions): { message: Message; warning?: string } | { message?: undefined; warning: string } | { error: { code: number; subcode: number; data?: Uint8Array; message: string } };
  encode(message: Message, opts: CodecOptions): Uint8Array;
  /** options before any OPEN has been negotiated */
  initial: CodecOptions;
}

export type { PeerAction };

/** The pure core as the driver sees it (see speaker-core.ts for the adapter over bgp/speaker). */
export interface DriverCore {
  /**
   * A connection accepted from `remote`: the peer and connection number to name it
   * with (undefined: unknown peer, close it) and the actions that follow.
   */
  incoming(remote: string, local: string, now: number): { peer?: string; conn?: number; actions: PeerAction[] };
  /** one event for one peer (peer '' = speaker-wide timers) */
  handle(peer: string, event: SpeakerEvent, now: number): PeerAction[];
}

export interface DriverLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface DriverOptions {
  transport: Transport;
  codec: DriverCodec;
  core: DriverCore;
  connectOptions(peer: string): ConnectOptions;
  /** after each batch of actions (for route counts, state reporting) */
  onActions?(actions: PeerAction[]): void;
  /** called with a connection's socket when it is accepted or connected (GTSM etc.) */
  onSocket?(peer: string, socket: net.Socket): void;
  log: DriverLog;
  now?(): number;
  /** uniform in [0, 1) for timer jitter; Math.random unless given (tests pass a fixed one) */
  random?(): number;
}

/**
 * Timers jittered each time they are started (RFC 4271 §10: ConnectRetry, Keepalive
 * — MinASOrigination and MRAI are not timers here): the duration times a uniform
 * factor in [0.75, 1.0], so peers restarted together do not stay in lock-step. The
 * pure FSM asks for the nominal duration; never the Hold timer (exact by the RFC).
 */
const JITTERED: ReadonlySet<string> = new Set(['ConnectRetry', 'Keepalive']);

function jittered(ms: number, random: number): number {
  return Math.round(ms * (0.75 + 0.25 * Math.min(1, Math.max(0, random))));
}

interface Conn {
  peer: string;
  conn: number;
  socket: net.Socket;
  buf: Buffer;
  codecIn: CodecOptions;
  codecOut: CodecOptions;
  closed: boolean;
  /** the session's negotiated families, and the "afi/safi" of MP_* already logged as not negotiated */
  families?: readonly Family[];
  ignored?: Set<string>;
}

export class SessionDriver {
  private readonly conns = new Map<string, Conn>();
  /** named timers (`peer/name`) and the duration each was started with */
  private readonly timers = new Map<string, { t: NodeJS.Timeout; ms: number }>();
  /**
   * connects in flight: key → abandoned flag and the attempt's abort (a closed or
   * shut-down attempt is aborted at once: its socket closed, never left to run out
   * its timeout next to the peer's next attempt)
   */
  private readonly pending = new Map<string, { abandoned: boolean; abort: AbortController }>();
  private stopped = false;
  private readonly aborting = new Set<string>();
  private readonly now: () => number;
  private readonly random: () => number;
  /**
   * per peer: when the first UPDATE of its current session (cleared when a session
   * is established) and the last UPDATE of any session were handled (ms)
   */
  private readonly firstUpdate = new Map<string, number>();
  private readonly lastUpdate = new Map<string, number>();

  constructor(private readonly o: DriverOptions) {
    this.now = o.now ?? (() => Date.now());
    this.random = o.random ?? Math.random;
  }

  /** Feeds one event to the core for `peer` and performs what comes back. */
  dispatch(peer: string, event: SpeakerEvent): void {
    if (this.stopped) return;
    let actions: PeerAction[];
    try {
      actions = this.o.core.handle(peer, event, this.now());
    } catch (err) {
      this.o.log.error({ peer, event: event.type, err: (err as Error).stack ?? String(err) }, 'core failed on an event; resetting the session');
      this.abort(peer);
      return;
    }
    this.perform(actions);
  }

  /** When the last UPDATE from `peer` was handled (ms since epoch), if one ever was. */
  lastUpdateAt(peer: string): number | undefined {
    return this.lastUpdate.get(peer);
  }

  /** When the first UPDATE of `peer`'s latest established session was handled, if one was. */
  firstUpdateAt(peer: string): number | undefined {
    return this.firstUpdate.get(peer);
  }

  /** Performs actions the core returned (also for inputs the shell fed the core directly). */
  perform(actions: PeerAction[]): void {
    for (const a of actions) {
      try {
        this.performOne(a.peer, a.action);
      } catch (err) {
        this.o.log.error({ peer: a.peer, action: a.action.type, err: (err as Error).stack ?? String(err) }, 'action failed; resetting the session');
        this.abort(a.peer);
      }
    }
    this.o.onActions?.(actions);
  }

  /** A connection accepted by the listener. */
  accept(socket: net.Socket): void {
    const remote = plainAddress(socket.remoteAddress);
    socket.on('error', () => undefined);
    if (this.stopped) { socket.destroy(); return; }
    let r: ReturnType<DriverCore['incoming']>;
    try {
      r = this.o.core.incoming(remote, plainAddress(socket.localAddress), this.now());
    } catch (err) {
      this.o.log.error({ peer: remote, err: (err as Error).stack ?? String(err) }, 'core failed on an accepted connection');
      socket.destroy();
      return;
    }
    if (r.peer === undefined || r.conn === undefined) {
      this.o.log.info({ peer: remote }, 'connection from an unknown address refused');
      socket.destroy();
    } else {
      socket.setNoDelay(true);
      this.attach(r.peer, r.conn, socket);
    }
    this.perform(r.actions);
  }

  /** Stops timers and closes every connection (after the core has queued its Cease). */
  async shutdown(flushMs = 1000): Promise<void> {
    this.stopped = true;
    for (const { t } of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const p of this.pending.values()) { p.abandoned = true; p.abort.abort(); }
    this.pending.clear();
    const closing = [...this.conns.values()].map((c) => new Promise<void>((res) => {
      const t = setTimeout(() => { c.socket.destroy(); res(); }, flushMs);
      c.socket.end(() => { clearTimeout(t); c.socket.destroy(); res(); });
    }));
    this.conns.clear();
    await Promise.all(closing);
  }

  /** Connections and timers currently held (for status and tests). */
  counts(): { connections: number; timers: number; connecting: number } {
    return { connections: this.conns.size, timers: this.timers.size, connecting: this.pending.size };
  }

  // ---- internals ----

  private performOne(peer: string, a: SpeakerAction): void {
    switch (a.type) {
      case 'send': {
        const c = this.conns.get(`${peer}#${a.conn}`);
        if (!c || c.closed) return;
        c.socket.write(this.o.codec.encode(a.message, c.codecOut));
        return;
      }
      case 'close': {
        const key = `${peer}#${a.conn}`;
        const p = this.pending.get(key);
        if (p) { p.abandoned = true; p.abort.abort(); this.pending.delete(key); }
        const c = this.conns.get(key);
        if (c) this.closeConn(c);
        return;
      }
      case 'connect':
        this.connect(peer, a.conn);
        return;
      case 'startTimer': {
        const key = `${peer}/${a.name}`;
        const old = this.timers.get(key);
        const jitter = JITTERED.has(a.name);
        // restarted with the same duration (the hold timer, at every UPDATE): re-armed in place, no new
        // Timeout; a jittered timer always gets a new one (refresh would reuse the last jittered duration)
        if (!jitter && old !== undefined && old.ms === a.ms) { old.t.refresh(); return; }
        if (old) clearTimeout(old.t);
        const ev = timerEvent(a.name);
        this.timers.set(key, {
          t: setTimeout(() => {
            this.timers.delete(key);
            this.dispatch(peer, ev);
          }, jitter ? jittered(a.ms, this.random()) : a.ms),
          ms: a.ms,
        });
        return;
      }
      case 'stopTimer': {
        const key = `${peer}/${a.name}`;
        const old = this.timers.get(key);
        if (old) clearTimeout(old.t);
        this.timers.delete(key);
        return;
      }
      case 'established':
        this.firstUpdate.delete(peer); // a new session: its first UPDATE is still to come
        return;
      case 'negotiated': {
        const c = this.conns.get(`${peer}#${a.conn}`);
        if (c) { c.codecIn = a.negotiated.codecIn; c.codecOut = a.negotiated.codecOut; c.families = a.negotiated.families; }
        return;
      }
      default:
        return; // stateChange, down, deliver*: for the core and the logs
    }
  }

  private connect(peer: string, conn: number): void {
    const key = `${peer}#${conn}`;
    const flag = { abandoned: false, abort: new AbortController() };
    this.pending.set(key, flag);
    this.o.transport.connect({ ...this.o.connectOptions(peer), signal: flag.abort.signal }).then((socket) => {
      if (flag.abandoned || this.stopped) { socket.destroy(); return; }
      this.pending.delete(key);
      socket.setNoDelay(true);
      this.attach(peer, conn, socket);
      const localAddress = plainAddress(socket.localAddress);
      this.dispatch(peer, { type: 'TcpConnectionConfirmed', direction: 'out', conn, ...(localAddress ? { localAddress } : {}) });
    }, (err: Error) => {
      if (flag.abandoned || this.stopped) return;
      this.pending.delete(key);
      this.o.log.debug({ peer, err: err.message }, 'connect failed');
      this.dispatch(peer, { type: 'TcpConnectionFails', conn });
    });
  }

  private attach(peer: string, conn: number, socket: net.Socket): void {
    const c: Conn = { peer, conn, socket, buf: Buffer.alloc(0), codecIn: this.o.codec.initial, codecOut: this.o.codec.initial, closed: false };
    this.conns.set(`${peer}#${conn}`, c);
    this.o.onSocket?.(peer, socket);
    socket.on('data', (d: Buffer) => this.onData(c, d));
    socket.on('error', (err) => this.o.log.debug({ peer, conn, err: err.message }, 'socket error'));
    socket.on('close', () => {
      if (c.closed) return;
      c.closed = true;
      this.conns.delete(`${peer}#${conn}`);
      this.dispatch(peer, { type: 'TcpConnectionFails', conn });
    });
  }

  /**
   * RFC 4760 §6: the speaker ignores MP_REACH / MP_UNREACH of a family the session did
   * not negotiate (routing.ts); said once per session and family, at debug.
   */
  private noteFamilies(c: Conn, a: PathAttributes): void {
    if (a.mpReach !== undefined) this.noteFamily(c, a.mpReach.afi, a.mpReach.safi);
    if (a.mpUnreach !== undefined) this.noteFamily(c, a.mpUnreach.afi, a.mpUnreach.safi);
  }

  private noteFamily(c: Conn, afi: number, safi: number): void {
    if (negotiatedFamily(c.families, afi, safi)) return;
    const key = `${afi}/${safi}`;
    if ((c.ignored ??= new Set()).has(key)) return;
    c.ignored.add(key);
    this.o.log.debug({ peer: c.peer, conn: c.conn, afi, safi }, 'MP_REACH/MP_UNREACH of a family not negotiated: ignored (RFC 4760 §6)');
  }

  private onData(c: Conn, d: Buffer): void {
    if (c.closed) return;
    try {
      const buf = c.buf.length === 0 ? d : Buffer.concat([c.buf, d]);
      const { frames, rest, error } = this.o.codec.split(buf);
      c.buf = rest;
      let updates = false;
      for (const f of frames) {
        if (c.closed) return;
        const r = this.o.codec.decode(f, c.codecIn);
        if ('error' in r) {
          this.o.log.warn({ peer: c.peer, conn: c.conn, code: r.error.code, subcode: r.error.subcode, err: r.error.message }, 'malformed message');
          this.dispatch(c.peer, { type: 'MessageError', conn: c.conn, code: r.error.code, subcode: r.error.subcode, ...(r.error.data ? { data: r.error.data } : {}) });
          continue;
        }
        if (r.warning) this.o.log.warn({ peer: c.peer, conn: c.conn, err: r.warning }, 'malformed UPDATE handled per RFC 7606');
        if (r.message) {
          if (r.message.type === 'UPDATE') {
            updates = true;
            const at = r.message.attributes;
            if (at.mpReach !== undefined || at.mpUnreach !== undefined) this.noteFamilies(c, at);
          }
          this.dispatch(c.peer, messageEvent(c.conn, r.message));
        }
      }
      if (updates) {
        const t = this.now();
        if (!this.firstUpdate.has(c.peer)) this.firstUpdate.set(c.peer, t);
        this.lastUpdate.set(c.peer, t);
      }
      if (error && !c.closed) {
        this.o.log.warn({ peer: c.peer, conn: c.conn, code: error.code, subcode: error.subcode, err: error.message }, 'framing error');
        this.dispatch(c.peer, { type: 'MessageError', conn: c.conn, code: error.code, subcode: error.subcode, ...(error.data ? { data: error.data } : {}) });
        this.closeConn(c);
      }
    } catch (err) {
      this.o.log.error({ peer: c.peer, conn: c.conn, err: (err as Error).stack ?? String(err) }, 'receive failed; resetting the session');
      this.abort(c.peer);
    }
  }

  private closeConn(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    this.conns.delete(`${c.peer}#${c.conn}`);
    c.socket.end();
    const t = setTimeout(() => c.socket.destroy(), 2000);
    c.socket.once('close', () => clearTimeout(t));
  }

  /** Last resort for one peer: Cease (Out of Resources) to the core, or a hard close. */
  private abort(peer: string): void {
    const hardClose = (): void => {
      for (const c of [...this.conns.values()]) if (c.peer === peer) this.closeConn(c);
    };
    if (this.aborting.has(peer)) return hardClose();
    this.aborting.add(peer);
    try {
      this.perform(this.o.core.handle(peer, { type: 'Cease', subcode: 8 }, this.now()));
    } catch {
      hardClose();
    } finally {
      this.aborting.delete(peer);
    }
  }
}

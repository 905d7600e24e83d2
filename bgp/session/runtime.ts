/**
 * The running speaker: one listener, one session driver, one control socket, around
 * a core (the pure speaker behind the `SpeakerCore` interface). `margay bgp speaker`
 * and the agent both use it. It owns the only mutable references: the core value
 * lives inside the core adapter; the runtime reconciles listener MD5 keys with the
 * configured neighbors on every (re)configuration.
 */
import type net from 'node:net';
import { describeReason } from '../fsm/reasons.js';
import { RESTART_ONLY, restartOnlyChanges, type SpeakerConfig } from './config.js';
import { serveControl, type ControlServer } from './control.js';
import { SessionDriver, type DriverCodec, type DriverCore, type DriverLog, type PeerAction } from './driver.js';
import type { SpeakerStatus } from './status.js';
import { setTtlSecurity } from './tcp-md5.js';
import { kernelTransport, type Listener, type Transport } from './transport.js';

/** The core as the runtime sees it: the driver's view plus lifecycle and status. */
export interface SpeakerCore extends DriverCore {
  /** ManualStart every configured peer */
  start(now: number): PeerAction[];
  /** replace the configuration; peers whose session-relevant settings did not change are untouched */
  reconfigure(config: SpeakerConfig, now: number): PeerAction[];
  /** Cease (Administrative Shutdown) to every peer */
  shutdown(now: number): PeerAction[];
  status(now: number): SpeakerStatus;
  /** received routes with their attributes (control socket `routes`), optionally of one peer */
  routes(peer?: string): RouteEntry[];
}

export interface RouteEntry {
  prefix: string;
  peer: string;
  attributes: unknown;
  best?: boolean;
  stale?: boolean;
}

export interface RuntimeOptions {
  config: SpeakerConfig;
  core: SpeakerCore;
  codec: DriverCodec;
  log: DriverLog;
  transport?: Transport;
}

export class SpeakerRuntime {
  private config: SpeakerConfig;
  private listener: Listener | undefined;
  private control: ControlServer | undefined;
  readonly driver: SessionDriver;
  private readonly transport: Transport;
  private keyed = new Map<string, string>();

  constructor(private readonly o: RuntimeOptions) {
    this.config = o.config;
    this.transport = o.transport ?? kernelTransport;
    this.driver = new SessionDriver({
      transport: this.transport,
      codec: o.codec,
      core: o.core,
      log: o.log,
      connectOptions: (peer) => {
        const n = this.config.neighbors.find((x) => x.address === peer);
        const local = n?.localAddress ?? (this.config.listen && !['0.0.0.0', '::'].includes(this.config.listen.address) ? this.config.listen.address : undefined);
        return {
          remote: peer,
          port: n?.port ?? 179,
          ...(local && sameFamily(local, peer) ? { local } : {}),
          ...(n?.password ? { password: n.password } : {}),
          ...(n?.ttlSecurity !== undefined ? { ttlSecurityHops: n.ttlSecurity } : {}),
        };
      },
      onSocket: (peer, socket) => this.onSocket(peer, socket),
      onActions: (actions) => this.logActions(actions),
    });
  }

  async start(): Promise<void> {
    const c = this.config;
    if (c.listen) {
      this.listener = await this.transport.listen(c.listen, (s) => this.driver.accept(s));
      this.o.log.info({ address: this.listener.address, port: this.listener.port }, 'listening');
      const v4only = c.listen.address === '0.0.0.0';
      const v6peers = c.neighbors.filter((n) => n.address.includes(':') && n.passive).map((n) => n.address);
      if (v4only && v6peers.length > 0) {
        this.o.log.warn({ peers: v6peers }, 'listening on 0.0.0.0 only: passive IPv6 peers cannot connect (listen on "::" for both families)');
      }
    }
    this.syncKeys();
    if (c.controlSocket) {
      this.control = await serveControl(c.controlSocket, (req) => {
        if (req.cmd === 'status') return this.status();
        if (req.cmd === 'routes') return { routes: this.o.core.routes(typeof req.peer === 'string' ? req.peer : undefined) };
        return { error: `unknown command "${req.cmd}" (known: status, routes)` };
      });
    }
    this.driver.perform(this.o.core.start(Date.now()));
  }

  status(): SpeakerStatus {
    const st = this.o.core.status(Date.now());
    for (const p of st.peers) {
      const first = this.driver.firstUpdateAt(p.address);
      if (first !== undefined) p.firstUpdate = new Date(first).toISOString();
      const t = this.driver.lastUpdateAt(p.address);
      if (t !== undefined) p.lastUpdate = new Date(t).toISOString();
    }
    return st;
  }

  /**
   * Applies a new configuration (SIGHUP). Changes to asn, routerId, clusterId,
   * restartTime, listen and controlSocket need a restart: each is logged as a warning
   * and the running value kept. Never throws: the core computes the change first (and
   * checks what could fail before changing anything); if it throws anyway the error
   * is logged, the running config kept, and false returned.
   */
  reload(next: SpeakerConfig): boolean {
    const prev = this.config;
    for (const field of restartOnlyChanges(prev, next)) {
      this.o.log.warn({ field, running: prev[field] ?? null, configured: next[field] ?? null }, `${field} changed: takes effect after a restart (keeping the running value)`);
    }
    // every restart-only field keeps its running value (absent when it was absent)
    const fields: Record<string, unknown> = { ...next };
    for (const k of RESTART_ONLY) {
      if (prev[k] === undefined) delete fields[k];
      else fields[k] = prev[k];
    }
    const applied = fields as unknown as SpeakerConfig;
    let actions: PeerAction[];
    try {
      actions = this.o.core.reconfigure(applied, Date.now());
    } catch (err) {
      this.o.log.error({ err: (err as Error).stack ?? String(err) }, 'config reload failed; keeping the running config');
      return false;
    }
    this.config = applied;
    this.syncKeys();
    this.driver.perform(actions);
    return true;
  }

  /** Cease to every peer, flush, close everything. */
  async stop(): Promise<void> {
    this.driver.perform(this.o.core.shutdown(Date.now()));
    await this.driver.shutdown();
    await this.listener?.close();
    await this.control?.close();
  }

  private syncKeys(): void {
    if (!this.listener) return;
    try {
      const ns = this.config.neighbors;
      this.listener.setSendTtl255(ns.some((n) => n.ttlSecurity !== undefined));
      // every peer uses GTSM: check SYNs too (the widest allowed hop count wins)
      const all = ns.length > 0 && ns.every((n) => n.ttlSecurity !== undefined);
      this.listener.setMinTtl(all ? 256 - Math.max(...ns.map((n) => n.ttlSecurity as number)) : 0);
    } catch (err) {
      this.o.log.error({ err: (err as Error).message }, 'cannot set TTL 255 on the listener (GTSM)');
    }
    const want = new Map(this.config.neighbors.filter((n) => n.password).map((n) => [n.address, n.password as string]));
    for (const [peer, key] of want) {
      if (this.keyed.get(peer) === key) continue;
      try {
        this.listener.setPeerPassword(peer, key);
      } catch (err) {
        this.o.log.error({ peer, err: (err as Error).message }, 'cannot set the TCP MD5 key on the listener');
      }
    }
    for (const peer of this.keyed.keys()) {
      if (!want.has(peer)) {
        try { this.listener.setPeerPassword(peer, ''); } catch { /* gone already */ }
      }
    }
    this.keyed = want;
  }

  private onSocket(peer: string, socket: net.Socket): void {
    const n = this.config.neighbors.find((x) => x.address === peer);
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (n?.ttlSecurity !== undefined && typeof fd === 'number' && fd >= 0) {
      try { setTtlSecurity(fd, peer, n.ttlSecurity); } catch (err) {
        this.o.log.warn({ peer, err: (err as Error).message }, 'cannot set GTSM on the connection');
      }
    }
  }

  private logActions(actions: PeerAction[]): void {
    for (const { peer, action: a } of actions) {
      if (a.type === 'stateChange') {
        this.o.log.info({ peer, from: a.from, to: a.to, reason: describeReason(a.reason) }, `session ${a.from} → ${a.to}`);
      } else if (a.type === 'established') {
        this.o.log.info({ peer, holdTime: a.negotiated.holdTime, as4: a.negotiated.as4, families: a.negotiated.families }, 'session established');
      }
    }
  }
}

function sameFamily(a: string, b: string): boolean {
  return a.includes(':') === b.includes(':');
}

/**
 * The runtime's cores over the pure speaker (bgp/speaker). SpeakerCoreBase holds
 * the one Speaker value and what every such core shares (the agent's is another).
 * PureSpeakerCore turns the YAML config into speaker/peer configs, diffs
 * reconfigurations (remove → Cease 6/3, session settings changed → Cease 6/6 and
 * restart, anything else applied in place by the speaker), and reports status.
 * Loc-RIB changes are handed to `onRoutes` (the agent programs the kernel from them).
 */
import {
  addPeer, createSpeaker, handle, incoming, originate, removePeer, updatePeer,
  type OriginatedRoute, type PeerConfig, type Result, type RouteChange, type Speaker,
  type SpeakerConfig as PureSpeakerConfig,
} from '../speaker/index.js';
import type { SpeakerEvent } from '../speaker/types.js';
import { parsePrefix } from '../wire/prefix.js';
import type { NeighborConfig, SpeakerConfig } from './config.js';
import type { PeerAction } from './driver.js';
import type { RouteEntry, SpeakerCore } from './runtime.js';
import type { SpeakerStatus } from './status.js';
import { recordLastErrors, routeEntries, statusView } from './core-views.js';

export function peerConfigOf(n: NeighborConfig): PeerConfig {
  const c: PeerConfig = {
    address: n.address, asn: n.asn, passive: n.passive, routeReflectorClient: n.routeReflectorClient,
    holdTime: n.holdTime, families: [...n.families], nextHopSelf: n.nextHopSelf, gracefulRestart: n.gracefulRestart,
    port: n.port,
  };
  if (n.connectRetry !== undefined) c.connectRetryTime = n.connectRetry;
  if (n.maxPrefixes !== undefined) c.maxPrefixes = n.maxPrefixes;
  if (n.password !== undefined) c.password = n.password;
  if (n.ttlSecurity !== undefined) c.ttlSecurity = n.ttlSecurity;
  if (n.localAddress !== undefined) c.localAddress = n.localAddress;
  return c;
}

function originatedOf(c: SpeakerConfig): OriginatedRoute[] {
  return c.originate.map((o) => ({ prefix: o.prefix, ...(o.communities.length ? { communities: o.communities } : {}), ...(o.nextHop ? { nextHop: o.nextHop } : {}) }));
}

export interface SpeakerCoreOptions {
  /** Loc-RIB changes, in order */
  onRoutes?(changes: RouteChange[]): void;
  /** set the R bit in OPEN and defer advertising until peers' End-of-RIB (RFC 4724 restarting speaker) */
  restarting?: boolean;
}

/**
 * What every SpeakerCore over the pure speaker shares: the one Speaker value, the
 * last error per peer, the actions of createSpeaker handed out by the first start(),
 * the runtime's inputs (incoming, handle), Cease to all on shutdown, and the views.
 * Every Result goes through `take`: errors recorded, Loc-RIB changes to `onRoutes`
 * (at once, before the actions return), then `outgoing` (a subclass's last say on
 * the actions). Subclasses add how configuration becomes peers (start, reconfigure).
 */
export abstract class SpeakerCoreBase implements SpeakerCore {
  protected readonly s: Speaker;
  protected readonly lastError = new Map<string, string>();
  private startActions: PeerAction[];

  constructor(init: PureSpeakerConfig, private readonly onRoutes?: (changes: RouteChange[]) => void) {
    const r = createSpeaker(init);
    this.s = r.state;
    // Not take(): a subclass's fields are not set yet, and there is no peer for outgoing() to act on.
    this.startActions = this.record(r);
  }

  abstract start(now: number): PeerAction[];
  abstract reconfigure(config: SpeakerConfig, now: number): PeerAction[];

  incoming(remote: string, local: string, now: number): { peer?: string; conn?: number; actions: PeerAction[] } {
    const r = incoming(this.s, remote, local || undefined, now);
    return { ...(r.peer !== undefined ? { peer: r.peer } : {}), ...(r.conn !== undefined ? { conn: r.conn } : {}), actions: this.take(r) };
  }

  handle(peer: string, event: SpeakerEvent, now: number): PeerAction[] {
    return this.take(handle(this.s, peer, event, now));
  }

  shutdown(now: number): PeerAction[] {
    const out: PeerAction[] = [];
    for (const id of [...this.s.peers.keys()]) out.push(...this.take(handle(this.s, id, { type: 'Cease', subcode: 2, stop: true }, now)));
    return out;
  }

  status(_now: number): SpeakerStatus {
    return statusView(this.s, this.lastError);
  }

  routes(peer?: string): RouteEntry[] {
    return routeEntries(this.s, peer);
  }

  /** The actions createSpeaker produced, once (the first start() sends them). */
  protected takeStartActions(): PeerAction[] {
    const out = this.startActions;
    this.startActions = [];
    return out;
  }

  protected take(r: Result): PeerAction[] {
    return this.outgoing(this.record(r));
  }

  /** The actions of every Result as the runtime gets them; unchanged by default. */
  protected outgoing(actions: PeerAction[]): PeerAction[] {
    return actions;
  }

  private record(r: Result): PeerAction[] {
    recordLastErrors(r, this.lastError);
    if (r.routes.length > 0) this.onRoutes?.(r.routes);
    return r.actions;
  }
}

export class PureSpeakerCore extends SpeakerCoreBase {
  private config: SpeakerConfig;

  constructor(config: SpeakerConfig, opts: SpeakerCoreOptions = {}) {
    super({
      asn: config.asn, routerId: config.routerId, restartTime: config.restartTime,
      ...(config.clusterId ? { clusterId: config.clusterId } : {}), ...(opts.restarting ? { restarting: true } : {}),
    }, (changes) => opts.onRoutes?.(changes));
    this.config = config;
  }

  start(now: number): PeerAction[] {
    const out = this.takeStartActions();
    out.push(...this.take(originate(this.s, originatedOf(this.config), now)));
    for (const n of this.config.neighbors) out.push(...this.take(addPeer(this.s, peerConfigOf(n), now)));
    return out;
  }

  reconfigure(next: SpeakerConfig, now: number): PeerAction[] {
    // what can throw is checked before anything changes: a bad file is refused whole
    for (const o of next.originate) if (!parsePrefix(o.prefix)) throw new Error(`originate: not a prefix: ${o.prefix}`);
    const out: PeerAction[] = [];
    const prev = this.config;
    this.config = next;
    const keep = new Set(next.neighbors.map((n) => n.address));
    for (const n of prev.neighbors) {
      if (!keep.has(n.address)) out.push(...this.take(removePeer(this.s, n.address, now)));
    }
    for (const n of next.neighbors) {
      const old = prev.neighbors.find((x) => x.address === n.address);
      if (old && JSON.stringify(old) === JSON.stringify(n)) continue;
      out.push(...this.take(updatePeer(this.s, peerConfigOf(n), now)));
    }
    if (JSON.stringify(prev.originate) !== JSON.stringify(next.originate)) {
      out.push(...this.take(originate(this.s, originatedOf(next), now)));
    }
    return out;
  }
}

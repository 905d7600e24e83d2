/**
 * The runtime's core over the pure speaker (bgp/speaker): holds the one Speaker
 * value, turns the YAML config into speaker/peer configs, diffs reconfigurations
 * (remove → Cease 6/3, session settings changed → Cease 6/6 and restart, anything
 * else applied in place by the speaker), and reports status. Loc-RIB changes are
 * handed to `onRoutes` (the agent programs the kernel from them).
 */
import {
  addPeer, createSpeaker, handle, incoming, originate, removePeer, updatePeer,
  type OriginatedRoute, type PeerConfig, type Result, type RouteChange, type Speaker,
} from '../speaker/index.js';
import type { SpeakerEvent } from '../speaker/types.js';
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

export class PureSpeakerCore implements SpeakerCore {
  private readonly s: Speaker;
  private config: SpeakerConfig;
  private readonly lastError = new Map<string, string>();
  private startActions: PeerAction[];

  constructor(config: SpeakerConfig, private readonly opts: SpeakerCoreOptions = {}) {
    this.config = config;
    const r = createSpeaker({
      asn: config.asn, routerId: config.routerId, restartTime: config.restartTime,
      ...(config.clusterId ? { clusterId: config.clusterId } : {}), ...(opts.restarting ? { restarting: true } : {}),
    });
    this.s = r.state;
    this.startActions = this.take(r);
  }

  incoming(remote: string, local: string, now: number): { peer?: string; conn?: number; actions: PeerAction[] } {
    const r = incoming(this.s, remote, local || undefined, now);
    return { ...(r.peer !== undefined ? { peer: r.peer } : {}), ...(r.conn !== undefined ? { conn: r.conn } : {}), actions: this.take(r) };
  }

  handle(peer: string, event: SpeakerEvent, now: number): PeerAction[] {
    return this.take(handle(this.s, peer, event, now));
  }

  start(now: number): PeerAction[] {
    const out = this.startActions;
    this.startActions = [];
    out.push(...this.take(originate(this.s, originatedOf(this.config), now)));
    for (const n of this.config.neighbors) out.push(...this.take(addPeer(this.s, peerConfigOf(n), now)));
    return out;
  }

  reconfigure(next: SpeakerConfig, now: number): PeerAction[] {
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

  private take(r: Result): PeerAction[] {
    recordLastErrors(r, this.lastError);
    if (r.routes.length > 0) this.opts.onRoutes?.(r.routes);
    return r.actions;
  }
}

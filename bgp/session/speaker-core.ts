/**
 * The runtime's core over the pure speaker (bgp/speaker): holds the one Speaker
 * value, turns the YAML config into speaker/peer configs, diffs reconfigurations
 * (remove → Cease 6/3, session settings changed → Cease 6/6 and restart, anything
 * else applied in place by the speaker), and reports status. Loc-RIB changes are
 * handed to `onRoutes` (the agent programs the kernel from them).
 */
import { describeReason } from '../fsm/reasons.js';
import {
  addPeer, createSpeaker, handle, incoming, originate, removePeer, speakerStatus, updatePeer,
  type OriginatedRoute, type PeerConfig, type Result, type RouteChange, type Speaker,
} from '../speaker/index.js';
import type { SpeakerEvent } from '../speaker/types.js';
import type { NeighborConfig, SpeakerConfig } from './config.js';
import type { PeerAction } from './driver.js';
import type { RouteEntry, SpeakerCore } from './runtime.js';
import type { SpeakerStatus } from './status.js';

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
    const st = speakerStatus(this.s);
    const families: Record<string, number> = {};
    for (const k of this.s.loc.routes.keys()) {
      const f = k.includes(':') ? 'ipv6' : 'ipv4';
      families[f] = (families[f] ?? 0) + 1;
    }
    return {
      asn: st.asn, routerId: st.routerId,
      peers: st.peers.map((p) => ({
        address: p.address, asn: p.asn, state: p.state, since: new Date(p.since).toISOString(), reason: p.reason,
        ...(this.lastError.has(p.id) ? { lastError: this.lastError.get(p.id) as string } : {}),
        received: p.received, accepted: p.accepted, advertised: p.advertised, stale: p.stale,
      })),
      locRib: { total: st.locRib, families },
    };
  }

  routes(peer?: string): RouteEntry[] {
    const out: RouteEntry[] = [];
    for (const [id, p] of this.s.peers) {
      if (peer !== undefined && peer !== id && peer !== p.config.address) continue;
      for (const [prefix, path] of p.in.routes) {
        const best = this.s.loc.routes.get(prefix);
        const isBest = Array.isArray(best) ? best[0] === path : best === path;
        out.push({ prefix, peer: id, attributes: path.attrs, best: isBest, stale: path.stale });
      }
    }
    return out;
  }

  private take(r: Result): PeerAction[] {
    for (const { peer, action } of r.actions) {
      if (action.type === 'stateChange' && action.to === 'Idle') this.lastError.set(peer, describeReason(action.reason));
    }
    if (r.routes.length > 0) this.opts.onRoutes?.(r.routes);
    return r.actions;
  }
}

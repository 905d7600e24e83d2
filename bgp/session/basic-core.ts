/**
 * An interim core: the RFC 4271 FSM per peer (bgp/fsm) plus the minimum route
 * handling a standalone speaker needs until the pure speaker (bgp/speaker) is
 * wired in — originated prefixes advertised on Established (with End-of-RIB),
 * received prefixes kept per peer (Adj-RIB-In) and counted, max-prefix with Cease
 * 6/1, reconfiguration per peer. It does NOT run a decision process or pass routes
 * between peers (no route reflection); `speaker-core.ts` replaces it.
 *
 * State: one mutable map of peer records; every FSM transition is the pure `step`.
 */
import { newPeerFsm, step } from '../fsm/step.js';
import type { Family, FsmAction, FsmConfig, FsmEvent, PeerFsm } from '../fsm/types.js';
import { describeReason } from '../fsm/reasons.js';
import { parseCommunity, parseLargeCommunity } from '../wire/communities.js';
import { formatPrefix, parsePrefix } from '../wire/prefix.js';
import type { Message, PathAttributes, Prefix, UpdateMessage } from '../wire/types.js';
import type { NeighborConfig, OriginateConfig, SpeakerConfig } from './config.js';
import type { PeerAction } from './driver.js';
import type { RouteEntry, SpeakerCore } from './runtime.js';
import type { SpeakerStatus } from './status.js';

interface PeerRec {
  cfg: NeighborConfig;
  fsm: PeerFsm;
  adjIn: Map<string, PathAttributes>;
  advertised: Set<string>;
  lastError?: string;
}

export function fsmConfigOf(c: SpeakerConfig, n: NeighborConfig): FsmConfig {
  return {
    localAs: c.asn, routerId: c.routerId, peerAs: n.asn, holdTime: n.holdTime,
    connectRetryTime: 5, idleHoldTime: 2, passive: n.passive, families: n.families,
    ...(n.gracefulRestart ? { gracefulRestart: { restartTime: c.restartTime, restarting: false, forwardingPreserved: false } } : {}),
  };
}

/** Settings that need a new OPEN (a session reset) when they change. */
function sessionKey(c: SpeakerConfig, n: NeighborConfig): string {
  return JSON.stringify([c.asn, c.routerId, n.asn, n.holdTime, n.passive, n.families, n.password ?? '', n.gracefulRestart, n.port, n.localAddress ?? '', n.ttlSecurity ?? 0]);
}

export class BasicCore implements SpeakerCore {
  private readonly peers = new Map<string, PeerRec>();

  constructor(private config: SpeakerConfig) {
    for (const n of config.neighbors) this.peers.set(n.address, this.newRec(n, 0));
  }

  knows(peer: string): boolean { return this.peers.has(peer); }
  connSeq(peer: string): number { return this.peers.get(peer)?.fsm.connSeq ?? 0; }

  handle(peer: string, event: FsmEvent, now: number): PeerAction[] {
    const rec = this.peers.get(peer);
    if (!rec) return [];
    const out: PeerAction[] = [];
    this.stepPeer(peer, rec, event, now, out);
    return out;
  }

  start(now: number): PeerAction[] {
    const out: PeerAction[] = [];
    for (const [peer, rec] of this.peers) this.stepPeer(peer, rec, { type: 'ManualStart' }, now, out);
    return out;
  }

  shutdown(now: number): PeerAction[] {
    const out: PeerAction[] = [];
    for (const [peer, rec] of this.peers) this.stepPeer(peer, rec, { type: 'ManualStop', message: 'speaker shutting down' }, now, out);
    return out;
  }

  reconfigure(next: SpeakerConfig, now: number): PeerAction[] {
    const out: PeerAction[] = [];
    const prev = this.config;
    this.config = next;
    for (const [peer, rec] of [...this.peers]) {
      const n = next.neighbors.find((x) => x.address === peer);
      if (!n) { // removed: Cease 6/3 Peer De-configured
        this.stepPeer(peer, rec, { type: 'Cease', subcode: 3 }, now, out);
        this.stepPeer(peer, rec, { type: 'ManualStop', message: 'peer removed' }, now, out);
        out.push(...(['ConnectRetry', 'Hold', 'Keepalive', 'IdleHold'] as const).map((name) => ({ peer, action: { type: 'stopTimer', name } as FsmAction })));
        this.peers.delete(peer);
      } else if (sessionKey(prev, rec.cfg) !== sessionKey(next, n)) { // needs a new OPEN: 6/6 Other Configuration Change
        this.stepPeer(peer, rec, { type: 'Cease', subcode: 6 }, now, out);
        this.stepPeer(peer, rec, { type: 'ManualStop', message: 'configuration changed' }, now, out);
        const fresh = this.newRec(n, now);
        fresh.fsm = { ...fresh.fsm, connSeq: rec.fsm.connSeq } as PeerFsm;
        this.peers.set(peer, fresh);
        this.stepPeer(peer, fresh, { type: 'ManualStart' }, now, out);
      } else {
        rec.cfg = n; // max-prefix, next-hop-self, RR client: no reset
      }
    }
    for (const n of next.neighbors) {
      if (this.peers.has(n.address)) continue;
      const rec = this.newRec(n, now);
      this.peers.set(n.address, rec);
      this.stepPeer(n.address, rec, { type: 'ManualStart' }, now, out);
    }
    if (JSON.stringify(prev.originate) !== JSON.stringify(next.originate)) {
      for (const [peer, rec] of this.peers) if (rec.fsm.state === 'Established') this.advertise(peer, rec, out, false);
    }
    return out;
  }

  status(_now: number): SpeakerStatus {
    const rib = new Map<string, number>();
    const seen = new Set<string>();
    const count = (p: Prefix): void => {
      const k = formatPrefix(p);
      if (seen.has(k)) return;
      seen.add(k);
      const fam = p.afi === 1 ? 'ipv4' : 'ipv6';
      rib.set(fam, (rib.get(fam) ?? 0) + 1);
    };
    for (const o of this.config.originate) { const p = parsePrefix(o.prefix); if (p) count(p); }
    for (const rec of this.peers.values()) for (const k of rec.adjIn.keys()) { const p = parsePrefix(k); if (p) count(p); }
    return {
      asn: this.config.asn, routerId: this.config.routerId,
      peers: [...this.peers.values()].map((r) => ({
        address: r.cfg.address, asn: r.cfg.asn, state: r.fsm.state, since: new Date(r.fsm.since).toISOString(),
        reason: describeReason(r.fsm.reason), ...(r.lastError ? { lastError: r.lastError } : {}), received: r.adjIn.size, accepted: r.adjIn.size, advertised: r.advertised.size,
      })),
      locRib: { total: seen.size, families: Object.fromEntries(rib) },
    };
  }

  routes(peer?: string): RouteEntry[] {
    const out: RouteEntry[] = [];
    for (const [address, rec] of this.peers) {
      if (peer !== undefined && peer !== address) continue;
      for (const [prefix, attributes] of rec.adjIn) out.push({ prefix, peer: address, attributes });
    }
    return out;
  }

  // ---- internals ----

  private newRec(n: NeighborConfig, now: number): PeerRec {
    return { cfg: n, fsm: newPeerFsm(fsmConfigOf(this.config, n), now), adjIn: new Map(), advertised: new Set() };
  }

  private stepPeer(peer: string, rec: PeerRec, event: FsmEvent, now: number, out: PeerAction[]): void {
    const r = step(rec.fsm, event, now);
    rec.fsm = r.peer;
    for (const action of r.actions) {
      out.push({ peer, action });
      if (action.type === 'stateChange' && action.to === 'Idle') rec.lastError = describeReason(action.reason);
      if (action.type === 'established') this.advertise(peer, rec, out, true);
      else if (action.type === 'down') { rec.adjIn.clear(); rec.advertised.clear(); }
      else if (action.type === 'deliverUpdate') {
        this.receive(rec, action.update);
        if (rec.cfg.maxPrefixes !== undefined && rec.adjIn.size > rec.cfg.maxPrefixes) {
          const data = new Uint8Array([0, 1, 1, 0, 0, 0, 0]); // AFI 1, SAFI 1, the limit (RFC 4486)
          new DataView(data.buffer).setUint32(3, rec.cfg.maxPrefixes);
          this.stepPeer(peer, rec, { type: 'Cease', subcode: 1, data }, now, out);
        }
      }
    }
  }

  private receive(rec: PeerRec, u: UpdateMessage): void {
    for (const p of u.withdrawn) rec.adjIn.delete(formatPrefix(p));
    for (const p of u.attributes.mpUnreach?.withdrawn ?? []) rec.adjIn.delete(formatPrefix(p));
    for (const p of u.nlri) rec.adjIn.set(formatPrefix(p), u.attributes);
    for (const p of u.attributes.mpReach?.nlri ?? []) rec.adjIn.set(formatPrefix(p), u.attributes);
  }

  /** Sends the originated prefixes (all on a new session, else the difference) and End-of-RIB. */
  private advertise(peer: string, rec: PeerRec, out: PeerAction[], initial: boolean): void {
    const neg = rec.fsm.negotiated;
    if (!neg) return;
    const conn = rec.fsm.conn;
    const send = (message: Message): void => { out.push({ peer, action: { type: 'send', conn, message } }); };
    const ebgp = neg.peerAs !== this.config.asn;
    const want = new Map<string, OriginateConfig>();
    for (const o of this.config.originate) {
      const p = parsePrefix(o.prefix);
      if (p && neg.families.includes(p.afi === 1 ? 'ipv4' : 'ipv6')) want.set(formatPrefix(p), o);
    }
    for (const fam of neg.families) {
      const afi = fam === 'ipv4' ? 1 : 2;
      const nextHop = this.nextHop(fam, rec);
      const withdrawn = [...rec.advertised].filter((k) => !want.has(k)).map((k) => parsePrefix(k) as Prefix).filter((p) => p.afi === afi);
      if (withdrawn.length > 0) {
        send(afi === 1 ? { type: 'UPDATE', withdrawn, attributes: {}, nlri: [] }
          : { type: 'UPDATE', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn } }, nlri: [] });
        for (const p of withdrawn) rec.advertised.delete(formatPrefix(p));
      }
      for (const [k, o] of want) {
        const p = parsePrefix(k) as Prefix;
        if (p.afi !== afi || (rec.advertised.has(k) && !initial) || nextHop === undefined) continue;
        const attrs: PathAttributes = { origin: 'IGP', asPath: ebgp ? [{ type: 'AS_SEQUENCE', asns: [this.config.asn] }] : [] };
        if (!ebgp) attrs.localPref = 100;
        const comms = o.communities.map(parseCommunity).filter((c): c is number => c !== undefined);
        const large = o.communities.filter((c) => c.split(':').length === 3).map(parseLargeCommunity).filter((c) => c !== undefined);
        if (comms.length) attrs.communities = comms;
        if (large.length) attrs.largeCommunities = large;
        const nh = o.nextHop ?? nextHop;
        if (afi === 1) { attrs.nextHop = nh; send({ type: 'UPDATE', withdrawn: [], attributes: attrs, nlri: [p] }); }
        else { attrs.mpReach = { afi: 2, safi: 1, nextHops: [nh], nlri: [p] }; send({ type: 'UPDATE', withdrawn: [], attributes: attrs, nlri: [] }); }
        rec.advertised.add(k);
      }
      if (initial) { // End-of-RIB (RFC 4724 §2)
        send(afi === 1 ? { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [] }
          : { type: 'UPDATE', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] });
      }
    }
  }

  /** Our address of the session's family, or for the other family a configured local address. */
  private nextHop(fam: Family, rec: PeerRec): string | undefined {
    const local = rec.fsm.localAddress;
    const isV6 = (a: string | undefined): boolean => !!a && a.includes(':');
    if (local && (fam === 'ipv6') === isV6(local)) return local;
    const alt = rec.cfg.localAddress;
    if (alt && (fam === 'ipv6') === isV6(alt)) return alt;
    return undefined;
  }
}

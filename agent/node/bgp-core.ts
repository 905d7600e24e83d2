/**
 * The agent's speaker core: the SpeakerCore the session runtime drives, over the
 * pure speaker (bgp/speaker), like bgp/session's PureSpeakerCore but with the
 * agent's full per-peer settings (keepOriginalNextHop, next hops for the other
 * family, graceful restart on every session) which the standalone speaker's YAML
 * does not carry. SpeakerCoreBase holds the one Speaker value, the runtime's inputs
 * and the views; this class adds the peer set, origination and restart-time caps.
 *
 * - Peers: `reconfigure` diffs the wanted PeerConfigs against the applied ones:
 *   gone → removePeer (Cease 6/3), changed → updatePeer (the speaker resets only
 *   when a session setting changed), same → untouched.
 * - Restart (RFC 4724 §4.1): `restarting` (the kernel kept routes of a previous
 *   run) sets the R bit and the speaker's deferral; F is set only when forwarding
 *   state was kept (a restart), or later by preserveForwarding() (routes programmed).
 * - Graceful stop (agent restart): `shutdown` returns no Cease when `graceful` is
 *   set, so the runtime only closes the TCP connections; peers that negotiated
 *   graceful restart keep our routes as stale (RFC 4724 §4.2), and the kernel keeps
 *   forwarding on both sides.
 * - `synced()`: every peer Established and its End-of-RIB received (or no graceful
 *   restart negotiated); the agent waits for this — bounded — before it lets the
 *   dataplane remove routes it did not learn again. False until start() has run (the
 *   runtime adds the peers only once it listens), and a configured peer the agent
 *   could not set up (its Secret unreadable: `setPeers`' `skipped`) counts as waiting.
 */
import {
  addPeer, originate, preserveForwarding, removePeer, updatePeer, type PeerConfig, type RouteChange,
} from '../../bgp/speaker/index.js';
import type { SpeakerConfig } from '../../bgp/session/config.js';
import type { PeerAction } from '../../bgp/session/driver.js';
import { SpeakerCoreBase } from '../../bgp/session/speaker-core.js';

export interface AgentCoreOptions {
  asn: number;
  routerId: string;
  clusterId?: string;
  restartTime: number;
  /**
   * RFC 4724 restarting speaker: R bit in the OPENs, advertising deferred until the
   * peers' End-of-RIB (peers themselves restarting excepted) or the deferral timer.
   * The agent sets it when the kernel kept routes of a previous run (a restart, not a first boot).
   */
  restarting?: boolean;
  /** F bit: our forwarding state was kept (default: as `restarting`); preserveForwarding() sets it later */
  forwardingPreserved?: boolean;
  onRoutes(changes: RouteChange[]): void;
}

export class AgentSpeakerCore extends SpeakerCoreBase {
  private applied = new Map<string, PeerConfig>();
  private wanted = new Map<string, PeerConfig>();
  private originated = '';
  private wantedOrigin: string[] = [];
  private caps = new Map<string, number>();
  /** configured peers left out (no password could be read): waited on like peers not yet in sync */
  private skipped: string[] = [];
  private started = false;
  /** close sessions without a NOTIFICATION on shutdown (restart: peers keep our routes) */
  graceful = true;

  constructor(o: AgentCoreOptions) {
    super(
      {
        asn: o.asn, routerId: o.routerId, restartTime: o.restartTime, ...(o.clusterId ? { clusterId: o.clusterId } : {}),
        restarting: !!o.restarting, forwardingPreserved: o.forwardingPreserved ?? !!o.restarting,
      },
      (changes) => o.onRoutes(changes),
    );
  }

  /** restarting speaker: advertising held until the peers' End-of-RIB or the deferral timer */
  get deferring(): boolean {
    return this.s.deferring;
  }

  /** Our forwarding state is kept from now on: later OPENs carry the F bit (no session is touched). */
  preserveForwarding(): void {
    preserveForwarding(this.s);
  }

  /** The prefixes the next start()/reconfigure() originates. */
  setOriginated(prefixes: readonly string[]): void {
    this.wantedOrigin = [...prefixes];
  }

  /**
   * The peers the next start()/reconfigure() applies, by address, and for some the
   * longest time (s) their routes are kept stale after their session drops
   * (BGPPeer.maxRestartTime), whatever restart time they announced. `skipped`:
   * configured peers not set up (their Secret unreadable), which synced() waits on.
   */
  setPeers(peers: readonly PeerConfig[], maxRestartTime: ReadonlyMap<string, number> = new Map(), skipped: readonly string[] = []): void {
    this.wanted = new Map(peers.map((p) => [p.address, p]));
    this.caps = new Map(maxRestartTime);
    this.skipped = [...skipped];
  }

  start(now: number): PeerAction[] {
    const out = [...this.takeStartActions(), ...this.apply(now)];
    this.started = true;
    return out;
  }

  /** Applies setPeers/setOriginated (the runtime's config only carries the shell's settings). */
  reconfigure(_config: SpeakerConfig, now: number): PeerAction[] {
    return this.apply(now);
  }

  /** Originates `prefixes` now (an IPAM block claimed), without looking at the peers. */
  originateNow(prefixes: readonly string[], now: number): PeerAction[] {
    this.setOriginated(prefixes);
    return this.applyOrigin(now);
  }

  private applyOrigin(now: number): PeerAction[] {
    const text = JSON.stringify(this.wantedOrigin);
    if (text === this.originated) return [];
    this.originated = text;
    return this.take(originate(this.s, this.wantedOrigin.map((prefix) => ({ prefix })), now));
  }

  private apply(now: number): PeerAction[] {
    const out: PeerAction[] = this.applyOrigin(now);
    for (const addr of [...this.applied.keys()]) {
      if (!this.wanted.has(addr)) {
        out.push(...this.take(removePeer(this.s, addr, now)));
        this.applied.delete(addr);
        this.lastError.delete(addr);
      }
    }
    for (const [addr, c] of this.wanted) {
      const old = this.applied.get(addr);
      if (old && JSON.stringify(old) === JSON.stringify(c)) continue;
      out.push(...this.take(old ? updatePeer(this.s, c, now) : addPeer(this.s, c, now)));
      this.applied.set(addr, c);
    }
    return out;
  }

  override shutdown(now: number): PeerAction[] {
    return this.graceful ? [] : super.shutdown(now);
  }

  /**
   * Every peer Established with its End-of-RIB in (or no graceful restart negotiated);
   * never before start() has added the peers; skipped peers are waiting.
   */
  synced(): { synced: boolean; waiting: string[] } {
    const waiting: string[] = [...this.skipped];
    if (!this.started) return { synced: false, waiting: [...new Set([...waiting, ...this.wanted.keys()])] };
    for (const p of this.s.peers.values()) {
      const fams = p.negotiated?.gracefulRestart ? p.negotiated.families : [];
      const done = p.fsm.state === 'Established' && fams.every((f) => p.eorReceived.has(f));
      if (!done) waiting.push(p.config.address);
    }
    return { synced: waiting.length === 0, waiting };
  }

  protected override outgoing(actions: PeerAction[]): PeerAction[] {
    return clampRestartTimers(actions, this.caps);
  }
}

/**
 * BGPPeer.maxRestartTime: the speaker keeps a dropped peer's routes stale for the
 * restart time the peer announced (RFC 4724); the GrRestart timer it asks for is cut
 * to the configured maximum, so expiry sweeps the stale routes sooner.
 */
export function clampRestartTimers(actions: PeerAction[], caps: ReadonlyMap<string, number>): PeerAction[] {
  if (caps.size === 0) return actions;
  return actions.map((a) => {
    const cap = caps.get(a.peer);
    if (cap === undefined || a.action.type !== 'startTimer' || a.action.name !== 'GrRestart' || a.action.ms <= cap * 1000) return a;
    return { peer: a.peer, action: { ...a.action, ms: cap * 1000 } };
  });
}

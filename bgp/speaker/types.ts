/**
 * The speaker's values: configuration, the state it keeps per peer, its events
 * and actions. See index.ts for how a driver uses them.
 */
import type { AdjRibIn } from '../rib/adj-rib-in.js';
import type { AdjRibOut } from '../rib/adj-rib-out.js';
import type { ExportSkip, ExportTarget, LocalInfo } from '../rib/export.js';
import type { RibTable, RouteChange } from '../rib/table.js';
import type { Path, PeerInfo, RouteAttrs } from '../rib/path.js';
import type { PrefixFilter } from '../rib/policy.js';
import type { Family, FsmAction, FsmEvent, Negotiated, PeerFsm, TimerName } from '../fsm/types.js';

export interface SpeakerConfig {
  asn: number;
  routerId: string;
  /** route-reflector cluster id (default: routerId) */
  clusterId?: string;
  /** report equal-cost paths (all next hops) in route changes */
  multipath?: boolean;
  /** graceful restart time we announce, seconds (default 120) */
  restartTime?: number;
  /** RFC 4724 restarting speaker: set R bit, defer sending until peers' End-of-RIB or the deferral timer */
  restarting?: boolean;
  /** F bit: our forwarding state survives a restart (default true: margay never flushes kernel routes) */
  forwardingPreserved?: boolean;
  /** seconds to wait for peers' End-of-RIB when restarting (default 60) */
  deferralTime?: number;
  /** seconds to keep a restarted peer's stale routes waiting for its End-of-RIB (default 360) */
  staleTime?: number;
}

/**
 * One neighbour. Structurally compatible with the speaker YAML's neighbour entry;
 * fields after `gracefulRestart` are optional extras with defaults.
 */
export interface PeerConfig {
  address: string;
  asn: number;
  passive?: boolean;
  routeReflectorClient?: boolean;
  /** seconds (default 90; 0 = no keepalives) */
  holdTime?: number;
  families?: Family[];
  maxPrefixes?: number;
  nextHopSelf?: boolean;
  gracefulRestart?: boolean;
  /** peer id (default: address) */
  id?: string;
  keepaliveTime?: number;
  /** seconds (default 5) */
  connectRetryTime?: number;
  /** seconds before an automatic restart (default 5) */
  idleHoldTime?: number;
  keepOriginalNextHop?: boolean;
  /** accept only prefixes inside these pools */
  importPrefixes?: string[];
  /** advertise only prefixes inside these pools */
  exportPrefixes?: string[];
  addPath?: boolean;
  extendedNextHop?: boolean;
  /** next-hop-self addresses when the session's own address is of the other family */
  nextHop4?: string;
  nextHop6?: string;
  // Shell-only settings: the core ignores them, but a change means a new connection.
  password?: string;
  port?: number;
  ttlSecurity?: number;
  localAddress?: string;
}

export interface OriginatedRoute {
  prefix: string;
  /** "65000:1", "NO_EXPORT", … (regular communities) or "a:b:c" (large) */
  communities?: string[];
  /** next hop to announce instead of ourselves */
  nextHop?: string;
  med?: number;
}

export type SpeakerTimerName = TimerName | 'GrRestart' | 'GrStale' | 'Deferral';

export type SpeakerEvent =
  | FsmEvent
  | { type: 'GrRestartTimerExpires' }
  | { type: 'GrStaleTimerExpires' }
  | { type: 'DeferralTimerExpires' };

export type SpeakerAction =
  | Exclude<FsmAction, { type: 'startTimer' | 'stopTimer' | 'deliverUpdate' | 'deliverRefresh' }>
  | { type: 'startTimer'; name: SpeakerTimerName; ms: number }
  | { type: 'stopTimer'; name: SpeakerTimerName };

/** `peer` is the peer id; speaker-wide timers (Deferral) use ''. */
export interface PeerAction {
  peer: string;
  action: SpeakerAction;
}

export interface Result {
  state: Speaker;
  actions: PeerAction[];
  /** Loc-RIB changes for the agent to program, in order */
  routes: RouteChange[];
}

export interface PeerState {
  id: string;
  config: PeerConfig;
  fsm: PeerFsm;
  info: PeerInfo;
  in: AdjRibIn;
  out: AdjRibOut;
  target: ExportTarget;
  importFilter: PrefixFilter | undefined;
  exportFilter: PrefixFilter | undefined;
  exportCache: { ipv4: WeakMap<Path, RouteAttrs | ExportSkip>; ipv6: WeakMap<Path, RouteAttrs | ExportSkip> };
  /** kept from the last Established (the FSM forgets it when the session drops) */
  negotiated: Negotiated | undefined;
  /** prefixes the peer announced that the import filter rejected */
  filtered: Set<string>;
  /**
   * prefixes the peer announced with one of our own addresses as next hop (RFC 4271
   * §5.1.3: never installed; §6.3: ignored, no NOTIFICATION); none in `filtered` too
   */
  ownNextHop: Set<string>;
  /** End-of-RIB received this session, per family */
  eorReceived: Set<Family>;
  /** End-of-RIB still owed to the peer after the initial advertisement */
  eorOwed: boolean;
}

export interface Speaker {
  config: SpeakerConfig;
  local: LocalInfo;
  peers: Map<string, PeerState>;
  /**
   * `peers` as an array, for the per-prefix loops (iterating a Map allocates an
   * iterator each time); rebuilt on demand, cleared wherever `peers` changes
   */
  peerList?: PeerState[] | undefined;
  /** id by address, for accepted connections */
  byAddress: Map<string, string>;
  /** last connection number of removed peers, so a re-added peer never reuses one */
  retiredConnSeq: Map<string, number>;
  /** locally originated routes (a source like a peer) */
  origin: AdjRibIn;
  /** what `originate` last set: prefix text → its path (the next call advertises the difference) */
  originated: Map<string, Path>;
  /** the prefix table: every source's paths and the Loc-RIB (rib/table.ts) */
  loc: RibTable;
  /** order of the next peer's Adj-RIB-In among the sources (origin is 0) */
  nextOrder: number;
  /** restarting speaker: not advertising until peers' End-of-RIB or the deferral timer */
  deferring: boolean;
}

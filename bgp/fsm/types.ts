/**
 * Values of the RFC 4271 §8 finite state machine: one `PeerFsm` per configured
 * peer, events in, actions out. Nothing here touches a socket or a clock: the
 * driver reports TCP outcomes, decoded messages and timer expiries as events, and
 * performs the returned actions (connect, close, send, start/stop a named timer).
 *
 * Connections are numbered per peer (`conn`), so a late event from a socket that
 * the FSM already dropped is recognised and ignored. At most two connections are
 * alive per peer: the main one and, during a connection collision (§6.8), `alt`.
 */
import type { CodecOptions, Message, NotificationMessage, OpenMessage, RouteRefreshMessage, UpdateMessage } from '../wire/types.js';
import type { Reason } from './reasons.js';

export type FsmState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** Address families margay carries (unicast only). */
export type Family = 'ipv4' | 'ipv6';
export const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

export type Direction = 'in' | 'out';

export type TimerName = 'ConnectRetry' | 'Hold' | 'Keepalive' | 'IdleHold';

export interface GracefulRestartConfig {
  /** seconds the peer should keep our routes after we go away (12 bits) */
  restartTime: number;
  /** set the R bit: we are restarting now (the agent knows after a restart) */
  restarting: boolean;
  /** we kept forwarding state across the restart (F bit per family) */
  forwardingPreserved: boolean;
}

/** What the FSM needs of a peer's configuration (a subset of the speaker's PeerConfig). */
export interface FsmConfig {
  localAs: number;
  routerId: string;
  peerAs: number;
  /** seconds: 0 (no keepalives) or ≥ 3; default 90 */
  holdTime: number;
  /** seconds; absent = negotiated hold time / 3 */
  keepaliveTime?: number;
  /** seconds between connection attempts (RFC suggests 120) */
  connectRetryTime: number;
  /** seconds in Idle before an automatic restart after the session went down */
  idleHoldTime: number;
  /** never initiate connections, only accept them */
  passive: boolean;
  families: readonly Family[];
  gracefulRestart?: GracefulRestartConfig;
  /** ADD-PATH (RFC 7911): families we can receive several paths for */
  addPathReceive?: readonly Family[];
  /** RFC 8950: offer IPv4 NLRI with IPv6 next hops */
  extendedNextHop?: boolean;
}

/** The facts agreed in the OPEN exchange (what both sides advertised). */
export interface Negotiated {
  peerAs: number;
  peerId: string;
  /** seconds, 0 = no hold timer and no keepalives */
  holdTime: number;
  keepaliveTime: number;
  as4: boolean;
  families: Family[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** IPv4 NLRI may carry IPv6 next hops (both sides offered RFC 8950 for ipv4) */
  extendedNextHop: boolean;
  addPathReceive: Family[];
  addPathSend: Family[];
  /** the peer's graceful-restart capability, when both sides advertised one */
  gracefulRestart?: {
    restartTime: number;
    restarted: boolean;
    notification: boolean;
    /** families the peer preserved forwarding for */
    preserved: Family[];
    families: Family[];
  };
  /** options for decoding what the peer sends */
  codecIn: CodecOptions;
  /** options for encoding what we send */
  codecOut: CodecOptions;
}

export interface AltConnection {
  conn: number;
  direction: Direction;
  localAddress?: string;
  open?: OpenMessage;
}

export interface PeerFsm {
  readonly config: FsmConfig;
  readonly state: FsmState;
  /** current connection, 0 = none */
  readonly conn: number;
  readonly connSeq: number;
  readonly direction?: Direction;
  readonly localAddress?: string;
  readonly alt?: AltConnection;
  readonly negotiated?: Negotiated;
  /** restart automatically (after IdleHold) when the session goes down */
  readonly autoStart: boolean;
  /** when `state` was entered (ms, from the events' clock) */
  readonly since: number;
  readonly reason: Reason;
}

export type FsmEvent =
  | { type: 'ManualStart' }
  | { type: 'ManualStop'; message?: string }
  | { type: 'AutomaticStart' }
  | { type: 'ConnectRetryTimerExpires' }
  | { type: 'HoldTimerExpires' }
  | { type: 'KeepaliveTimerExpires' }
  | { type: 'IdleHoldTimerExpires' }
  | {
      type: 'TcpConnectionConfirmed';
      direction: Direction;
      /** required for 'out' (the id from the connect action); for 'in' the FSM numbers it */
      conn?: number;
      localAddress?: string;
    }
  | { type: 'TcpConnectionFails'; conn: number }
  | { type: 'BGPOpen'; conn: number; open: OpenMessage }
  | { type: 'KeepAliveMsg'; conn: number }
  | { type: 'UpdateMsg'; conn: number; update: UpdateMessage }
  | { type: 'RouteRefreshMsg'; conn: number; refresh: RouteRefreshMessage }
  | { type: 'NotifMsg'; conn: number; notification: NotificationMessage }
  /** a message the codec rejected with a session-resetting error (header, OPEN, UPDATE) */
  | { type: 'MessageError'; conn: number; code: number; subcode: number; data?: Uint8Array }
  /** the speaker ends the session: max-prefix (6/1), deconfigured (6/3), reset (6/4)… */
  | { type: 'Cease'; subcode: number; data?: Uint8Array; /** no automatic restart afterwards */ stop?: boolean };

export type FsmAction =
  | { type: 'connect'; conn: number }
  | { type: 'close'; conn: number }
  | { type: 'send'; conn: number; message: Message }
  | { type: 'startTimer'; name: TimerName; ms: number }
  | { type: 'stopTimer'; name: TimerName }
  | { type: 'stateChange'; from: FsmState; to: FsmState; reason: Reason }
  /** from now on, code messages on `conn` with these options */
  | { type: 'negotiated'; conn: number; negotiated: Negotiated }
  | { type: 'established'; conn: number; negotiated: Negotiated }
  | { type: 'down'; reason: Reason }
  | { type: 'deliverUpdate'; update: UpdateMessage }
  | { type: 'deliverRefresh'; refresh: RouteRefreshMessage };

export interface StepResult {
  peer: PeerFsm;
  actions: FsmAction[];
}

export function familyAfi(f: Family): 1 | 2 {
  return f === 'ipv4' ? 1 : 2;
}

export function afiFamily(afi: number, safi: number): Family | undefined {
  if (safi !== 1) return undefined;
  return afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : undefined;
}

/** Unicast of a family the session negotiated (margay negotiates unicast only). */
export function negotiatedFamily(families: readonly Family[] | undefined, afi: number, safi: number): boolean {
  const f = afiFamily(afi, safi);
  return f !== undefined && families !== undefined && families.includes(f);
}

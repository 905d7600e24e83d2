/**
 * The BGP speaker core: several peers and one RIB, as a pure value driven by
 * events. No sockets, no timers, no clock: time arrives as `now` (ms) arguments.
 *
 * ## How a driver uses it (bgp/session)
 *
 *   let { state, actions } = createSpeaker({ asn, routerId, clusterId?, multipath?, restarting? })
 *   addPeer(state, peerConfig, now)            → Result   (starts the peer: AutomaticStart)
 *   updatePeer / removePeer / originate(...)   → Result
 *   handle(state, peerId, event, now)          → Result   (FSM events + the speaker's timers)
 *   incoming(state, remoteAddr, localAddr, now)→ Result & { peer?, conn? }   (accepted socket)
 *   speakerStatus(state)                       → SpeakerStatus (for `margay bgp status`)
 *
 *   Result = { state, actions: { peer, action }[], routes: RouteChange[] }
 *
 * `state` is mutated in place and returned (a million routes cannot be copied per
 * event); treat it as owned by the one caller. Perform `actions` in order:
 * - `connect {conn}`: open a TCP connection to the peer, then feed back
 *   `TcpConnectionConfirmed {direction:'out', conn, localAddress}` or
 *   `TcpConnectionFails {conn}`.
 * - accepted socket: call `incoming`; `conn` undefined → unknown peer, close it;
 *   otherwise name the socket `conn` (the FSM's own connSeq, so the `close` action
 *   that may follow in the same Result refers to it).
 * - `send {conn, message}`: encode with the connection's CodecOptions and write.
 *   UPDATEs are already split to fit 4096 octets.
 * - `negotiated {conn, negotiated}`: from now on decode with `negotiated.codecIn`
 *   and encode with `negotiated.codecOut` on that connection.
 * - `close {conn}`: close it (after writing what was queued before).
 * - `startTimer {name, ms}` (restarts a running one) / `stopTimer {name}`, per
 *   peer; peer '' is the speaker-wide `Deferral` timer. On expiry call
 *   `handle(state, peer, timerEvent(name), now)`.
 * - `stateChange {from, to, reason}`, `established`, `down {reason}`: for logs
 *   (`describeReason(reason)` prints it) and status; nothing to perform.
 * Decoded messages go in as `handle(state, peer, messageEvent(conn, message), now)`;
 * a decode error that resets the session as `{type:'MessageError', conn, code,
 * subcode, data}`; socket end/error as `TcpConnectionFails`. Treat-as-withdraw
 * (RFC 7606) is the codec's: give the core an UPDATE whose affected NLRI are in
 * `withdrawn`. Shutdown: `removePeer` for each (Cease 6/3) or
 * `handle(peer, {type:'Cease', subcode: 2, stop: true})`.
 *
 * `routes` are Loc-RIB changes (add / change / remove per prefix with next hops,
 * several with multipath, [] for our own) for the agent to program.
 *
 * Peer ids default to the configured address. See bgp/DESIGN.md for the RFC
 * behaviour (decision process, route reflection, graceful restart).
 */
export type {
  SpeakerConfig, PeerConfig, OriginatedRoute, SpeakerEvent, SpeakerAction, SpeakerTimerName, PeerAction, Result, Speaker, PeerState,
} from './types.js';
export { handle, incoming, timerEvent } from './handle.js';
export { createSpeaker, addPeer, updatePeer, removePeer, originate, startPeer, stopPeer, needsReset, parseCommunities, preserveForwarding } from './peers.js';
export { speakerStatus, type PeerStatus, type SpeakerStatus } from './status.js';
export { buildUpdates, endOfRib, endOfRibFamily, keyToPrefix } from './messages.js';
export { messageEvent } from '../fsm/step.js';
export { describeReason } from '../fsm/reasons.js';
export type { RouteChange } from '../rib/table.js';

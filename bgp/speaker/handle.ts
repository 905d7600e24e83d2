/**
 * Events into the speaker: an FSM event for one peer (messages, TCP outcomes,
 * timers), the speaker's own timers (graceful restart, deferral), and accepted
 * connections. Each call mutates the Speaker in place and returns the actions
 * for the driver plus the Loc-RIB changes for the agent.
 */
import { step } from '../fsm/step.js';
import { afiFamily, type FsmEvent, type Negotiated } from '../fsm/types.js';
import type { Reason } from '../fsm/reasons.js';
import { clearOut } from '../rib/adj-rib-out.js';
import { markStale } from '../rib/adj-rib-in.js';
import { dropPaths } from '../rib/table.js';
import { keyFamily } from '../rib/prefix-map.js';
import { canonicalAddress } from '../wire/address.js';
import { maxPrefixData } from '../rib/policy.js';
import type { Path, PeerInfo, RouteAttrs } from '../rib/path.js';
import type { ExportSkip } from '../rib/export.js';
import {
  deferralDone, emitter, endDeferral, flushAll, fullExport, importUpdate, newOut, refreshOut, sweep, type Out,
} from './routing.js';
import type { PeerState, Result, Speaker, SpeakerEvent, SpeakerTimerName } from './types.js';

const DEFAULT_STALE_TIME = 360;

/** The event a fired timer stands for (the driver feeds it back with the timer's peer). */
export function timerEvent(name: SpeakerTimerName): SpeakerEvent {
  switch (name) {
    case 'ConnectRetry': return { type: 'ConnectRetryTimerExpires' };
    case 'Hold': return { type: 'HoldTimerExpires' };
    case 'Keepalive': return { type: 'KeepaliveTimerExpires' };
    case 'IdleHold': return { type: 'IdleHoldTimerExpires' };
    case 'GrRestart': return { type: 'GrRestartTimerExpires' };
    case 'GrStale': return { type: 'GrStaleTimerExpires' };
    case 'Deferral': return { type: 'DeferralTimerExpires' };
  }
}

export function freshCaches(): PeerState['exportCache'] {
  return { ipv4: new WeakMap<Path, RouteAttrs | ExportSkip>(), ipv6: new WeakMap<Path, RouteAttrs | ExportSkip>() };
}

export function finish(s: Speaker, out: Out): Result {
  flushAll(s, out);
  return { state: s, actions: out.actions, routes: out.routes };
}

export function handle(s: Speaker, peerId: string, ev: SpeakerEvent, now: number): Result {
  const out = newOut();
  if (ev.type === 'DeferralTimerExpires') { endDeferral(s, out); return finish(s, out); }
  const p = s.peers.get(peerId);
  if (!p) return finish(s, out);
  if (ev.type === 'GrRestartTimerExpires' || ev.type === 'GrStaleTimerExpires') sweep(s, p, undefined, out);
  else runFsm(s, p, ev, now, out);
  return finish(s, out);
}

/** A connection accepted from `address`: the conn id to use for it, or undefined (close it). */
export function incoming(s: Speaker, address: string, localAddress: string | undefined, now: number): Result & { peer?: string; conn?: number } {
  const id = s.byAddress.get(address);
  const p = id === undefined ? undefined : s.peers.get(id);
  if (!p) return { state: s, actions: [], routes: [] };
  const out = newOut();
  runFsm(s, p, { type: 'TcpConnectionConfirmed', direction: 'in', ...(localAddress ? { localAddress } : {}) }, now, out);
  return { ...finish(s, out), peer: p.id, conn: p.fsm.connSeq };
}

export function runFsm(s: Speaker, p: PeerState, ev: FsmEvent, now: number, out: Out): void {
  const r = step(p.fsm, ev, now);
  p.fsm = r.peer;
  let trip = false;
  for (const a of r.actions) {
    switch (a.type) {
      case 'deliverUpdate':
        if (!trip) trip = importUpdate(s, p, a.update, out);
        break;
      case 'deliverRefresh': {
        // subtypes 1/2 (BoRR/EoRR, RFC 7313) only mark a refresh the peer sends us: nothing to resend.
        // RFC 2918 §4: a request for an AFI/SAFI not negotiated with this peer is ignored
        const fam = afiFamily(a.refresh.afi, a.refresh.safi);
        if (a.refresh.subtype === 0 && fam !== undefined && p.negotiated?.families.includes(fam)) refreshOut(p, fam);
        break;
      }
      case 'established':
        out.actions.push({ peer: p.id, action: a });
        onEstablished(s, p, a.negotiated, out);
        break;
      case 'down':
        out.actions.push({ peer: p.id, action: a });
        onDown(s, p, a.reason, out);
        break;
      default:
        out.actions.push({ peer: p.id, action: a });
    }
  }
  if (trip) {
    const limit = p.config.maxPrefixes ?? 0;
    const afi = p.negotiated?.families[0] === 'ipv6' ? 2 : 1;
    runFsm(s, p, { type: 'Cease', subcode: 1, data: maxPrefixData(afi, 1, limit), stop: true }, now, out);
  }
}

/** Drops every route of the peer and re-decides its prefixes (a scan of the table). */
export function clearRoutes(s: Speaker, p: PeerState, out: Out): void {
  dropPaths(s.loc, p.in, undefined, emitter(s, out)); // releasing each path brings count and staleCount to 0
  p.in.intern = new Map();
}

export function peerInfo(s: Speaker, p: PeerState, routerId: string, asn: number): PeerInfo {
  return {
    id: p.id, address: p.config.address, asn, routerId, ibgp: asn === s.local.asn,
    rrClient: !!p.config.routeReflectorClient, local: false,
  };
}

function onEstablished(s: Speaker, p: PeerState, neg: Negotiated, out: Out): void {
  p.negotiated = neg;
  p.info = peerInfo(s, p, neg.peerId, neg.peerAs);
  p.in.source = p.info;
  // the shell's socket address, in the codec's text form like the configured next hops (viaSelf compares strings)
  const la = p.fsm.localAddress === undefined ? undefined : canonicalAddress(p.fsm.localAddress);
  p.target = {
    ...p.target, ibgp: p.info.ibgp, asn: neg.peerAs, extendedNextHop: neg.extendedNextHop,
    nextHop4: la && !la.includes(':') ? la : p.config.nextHop4, nextHop6: la && la.includes(':') ? la : p.config.nextHop6,
  };
  p.exportCache = freshCaches();
  clearOut(p.out);
  p.eorReceived.clear();
  p.eorOwed = neg.gracefulRestart !== undefined;
  if (p.in.staleCount > 0) {
    out.actions.push({ peer: p.id, action: { type: 'stopTimer', name: 'GrRestart' } });
    const gr = neg.gracefulRestart;
    if (!gr) sweep(s, p, undefined, out);
    else {
      for (const f of ['ipv4', 'ipv6'] as const) if (!gr.preserved.includes(f)) sweep(s, p, f, out);
      if (p.in.staleCount > 0) {
        out.actions.push({ peer: p.id, action: { type: 'startTimer', name: 'GrStale', ms: (s.config.staleTime ?? DEFAULT_STALE_TIME) * 1000 } });
      }
    }
  }
  if (!s.deferring) fullExport(s, p);
  else if (deferralDone(s)) endDeferral(s, out);
}

function onDown(s: Speaker, p: PeerState, reason: Reason, out: Out): void {
  clearOut(p.out);
  p.exportCache = freshCaches();
  p.ownNextHop.clear(); // never held: nothing to keep stale
  const neg = p.negotiated;
  const gr = neg?.gracefulRestart;
  p.negotiated = undefined;
  p.eorOwed = false;
  // RFC 4724 §4.2: only a session that ends without a NOTIFICATION keeps its routes, and
  // only those of the families the peer listed in its capability (none: a helper-only peer)
  if (gr && gr.restartTime > 0 && gr.families.length > 0 && (reason.kind === 'tcp-failed' || reason.kind === 'peer-restarted') && p.in.count > 0) {
    const keep = gr.families;
    if (!neg.families.every((f) => keep.includes(f))) {
      dropPaths(s.loc, p.in, (key) => !keep.includes(keyFamily(key)), emitter(s, out));
      for (const key of p.filtered) if (!keep.includes(keyFamily(key))) p.filtered.delete(key);
    }
    if (p.in.count > 0) {
      markStale(p.in);
      out.actions.push({ peer: p.id, action: { type: 'startTimer', name: 'GrRestart', ms: gr.restartTime * 1000 } });
      return;
    }
  }
  p.filtered.clear();
  clearRoutes(s, p, out);
}

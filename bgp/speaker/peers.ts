/**
 * Configuration changes at run time. A change that the peer must see in a new
 * OPEN (address, AS, timers, families, graceful restart, ADD-PATH, passive, or a
 * shell setting such as the password) resets that session with Cease 6/6 — except a
 * password-only change on an Established graceful-restart session, which closes the
 * connection silently so both sides keep their routes stale meanwhile; all others
 * apply in place: export-side changes re-advertise (desired vs sent, so
 * only the difference goes out), import-side changes re-filter what is held and
 * ask the peer for a ROUTE-REFRESH. Other sessions are never touched.
 */
import { newPeerFsm } from '../fsm/step.js';
import type { FsmConfig } from '../fsm/types.js';
import { newAdjRibIn, internPath, rebaseSource } from '../rib/adj-rib-in.js';
import { newAdjRibOut } from '../rib/adj-rib-out.js';
import { dropPaths, MAX_PREFIX, mapPaths, newRibTable, putPath, removePath } from '../rib/table.js';
import { keyText } from '../rib/prefix-map.js';
import type { Path, RouteAttrs } from '../rib/path.js';
import { compilePrefixFilter } from '../rib/policy.js';
import { canonicalAddress } from '../wire/address.js';
import { parsePrefix, formatPrefix } from '../wire/prefix.js';
import { NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED, type LargeCommunity } from '../wire/types.js';
import { clearRoutes, finish, freshCaches, peerInfo, runFsm } from './handle.js';
import { emitChange, emitter, fullExport, newOut, type Out } from './routing.js';
import type { OriginatedRoute, PeerConfig, PeerState, Result, Speaker, SpeakerConfig } from './types.js';

export const DEFAULT_DEFERRAL_TIME = 60;

export function createSpeaker(config: SpeakerConfig): Result {
  const local = { asn: config.asn, routerId: config.routerId, clusterId: config.clusterId ?? config.routerId };
  const s: Speaker = {
    config, local, peers: new Map(), byAddress: new Map(), retiredConnSeq: new Map(),
    origin: newAdjRibIn({ id: '', address: '', asn: config.asn, routerId: config.routerId, ibgp: false, rrClient: false, local: true }, 0), originated: new Map(),
    loc: newRibTable(!!config.multipath), nextOrder: 1, deferring: !!config.restarting,
  };
  const actions: Result['actions'] = s.deferring
    ? [{ peer: '', action: { type: 'startTimer', name: 'Deferral', ms: (config.deferralTime ?? DEFAULT_DEFERRAL_TIME) * 1000 } }]
    : [];
  return { state: s, actions, routes: [] };
}

function fsmConfig(s: Speaker, c: PeerConfig): FsmConfig {
  const families = c.families ?? ['ipv4'];
  return {
    localAs: s.local.asn, routerId: s.local.routerId, peerAs: c.asn, holdTime: c.holdTime ?? 90,
    ...(c.keepaliveTime !== undefined ? { keepaliveTime: c.keepaliveTime } : {}),
    connectRetryTime: c.connectRetryTime ?? 5, idleHoldTime: c.idleHoldTime ?? 5, passive: !!c.passive, families,
    ...(c.gracefulRestart ? {
      // R only while deferring (RFC 4724 §4.1: the OPENs right after a restart); endDeferral clears it on every peer
      gracefulRestart: { restartTime: s.config.restartTime ?? 120, restarting: s.deferring, forwardingPreserved: s.config.forwardingPreserved ?? true },
    } : {}),
    ...(c.addPath ? { addPathReceive: families } : {}),
    ...(c.extendedNextHop ? { extendedNextHop: true } : {}),
  };
}

const peerIdOf = (c: PeerConfig): string => c.id ?? c.address;

/**
 * The config with its next-hop-self and local addresses in the codec's text form
 * (RFC 5952 IPv6), so the own-next-hop check compares them with decoded next hops as
 * strings: once per added/updated peer, never per route.
 */
function canonicalConfig(c: PeerConfig): PeerConfig {
  const out = { ...c };
  if (c.nextHop4 !== undefined) out.nextHop4 = canonicalAddress(c.nextHop4);
  if (c.nextHop6 !== undefined) out.nextHop6 = canonicalAddress(c.nextHop6);
  if (c.localAddress !== undefined) out.localAddress = canonicalAddress(c.localAddress);
  return out;
}

/** `order`: the Adj-RIB-In's place among the sources (a reset peer keeps its own). */
function newPeerState(s: Speaker, c: PeerConfig, connSeq: number, now: number, order: number): PeerState {
  const id = peerIdOf(c);
  const fsm = { ...newPeerFsm(fsmConfig(s, c), now), connSeq };
  const p = {
    id, config: c, fsm, in: newAdjRibIn({ id, address: c.address, asn: c.asn, routerId: '', ibgp: c.asn === s.local.asn, rrClient: false, local: false }, order),
    out: newAdjRibOut(), negotiated: undefined, filtered: new Set<string>(), ownNextHop: new Set<string>(), eorReceived: new Set<'ipv4' | 'ipv6'>(), eorOwed: false,
    importFilter: compilePrefixFilter(c.importPrefixes), exportFilter: compilePrefixFilter(c.exportPrefixes), exportCache: freshCaches(),
    target: {
      id, asn: c.asn, ibgp: c.asn === s.local.asn, rrClient: !!c.routeReflectorClient, nextHopSelf: !!c.nextHopSelf,
      keepOriginalNextHop: !!c.keepOriginalNextHop, extendedNextHop: false,
      ...(c.nextHop4 ? { nextHop4: c.nextHop4 } : {}), ...(c.nextHop6 ? { nextHop6: c.nextHop6 } : {}),
    },
  } as PeerState;
  p.info = peerInfo(s, p, '', c.asn);
  p.in.source = p.info;
  return p;
}

/** Adds a peer and starts it (AutomaticStart; a passive peer waits in Active). */
export function addPeer(s: Speaker, config: PeerConfig, now: number): Result {
  const c = canonicalConfig(config);
  const out = newOut();
  const id = peerIdOf(c);
  if (s.peers.has(id)) throw new Error(`peer ${id} already exists`);
  const p = newPeerState(s, c, s.retiredConnSeq.get(id) ?? 0, now, s.nextOrder++);
  s.retiredConnSeq.delete(id);
  s.peers.set(id, p);
  s.peerList = undefined;
  s.byAddress.set(c.address, id);
  runFsm(s, p, { type: 'AutomaticStart' }, now, out);
  return finish(s, out);
}

/** Stops a peer (Cease 6/3, Peer De-configured), withdraws what it taught us, forgets it. */
export function removePeer(s: Speaker, id: string, now: number): Result {
  const out = newOut();
  const p = s.peers.get(id);
  if (!p) return finish(s, out);
  runFsm(s, p, { type: 'Cease', subcode: 3, stop: true }, now, out);
  s.peers.delete(id);
  s.peerList = undefined;
  s.retiredConnSeq.set(id, p.fsm.connSeq);
  if (s.byAddress.get(p.config.address) === id) s.byAddress.delete(p.config.address);
  clearRoutes(s, p, out);
  for (const name of ['ConnectRetry', 'Hold', 'Keepalive', 'IdleHold', 'GrRestart', 'GrStale'] as const) {
    out.actions.push({ peer: id, action: { type: 'stopTimer', name } });
  }
  return finish(s, out);
}

const RESET_FIELDS: (keyof PeerConfig)[] = [
  'address', 'asn', 'passive', 'holdTime', 'keepaliveTime', 'families', 'gracefulRestart', 'addPath', 'extendedNextHop',
  'password', 'port', 'ttlSecurity', 'localAddress',
];
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function needsReset(a: PeerConfig, b: PeerConfig): boolean {
  return RESET_FIELDS.some((f) => !same(a[f], b[f]));
}

/** Only the TCP MD5 password differs (every other field, set or not, is the same). */
function passwordOnly(a: PeerConfig, b: PeerConfig): boolean {
  if (same(a.password, b.password)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof PeerConfig)[]);
  for (const k of keys) if (k !== 'password' && !same(a[k], b[k])) return false;
  return true;
}

/**
 * A new password on an Established session whose peer negotiated graceful restart:
 * the connection is closed without a NOTIFICATION, as a TCP failure (the peer keeps
 * our routes stale, we keep its routes stale, RFC 4724 §4.2), then reopened at once
 * with the new key. A Cease here would make both sides drop the routes while the
 * two nodes hold different keys (each picks up a rotated Secret on its own timer).
 */
function silentRekey(s: Speaker, p: PeerState, c: PeerConfig, now: number, out: Out): boolean {
  if (p.fsm.state !== 'Established' || !p.negotiated?.gracefulRestart || !passwordOnly(p.config, c)) return false;
  p.config = c;
  runFsm(s, p, { type: 'TcpConnectionFails', conn: p.fsm.conn }, now, out); // close, down (tcp-failed): routes stale
  runFsm(s, p, { type: 'AutomaticStart' }, now, out); // Idle → connect now (stops IdleHold)
  return true;
}

/** Applies a changed configuration to the peer with the same id. */
export function updatePeer(s: Speaker, config: PeerConfig, now: number): Result {
  const c = canonicalConfig(config);
  const id = peerIdOf(c);
  const p = s.peers.get(id);
  if (!p) return addPeer(s, c, now);
  const out = newOut();
  const old = p.config;
  if (silentRekey(s, p, c, now, out)) return finish(s, out);
  if (needsReset(old, c)) {
    runFsm(s, p, { type: 'Cease', subcode: 6, stop: true }, now, out);
    clearRoutes(s, p, out);
    const fresh = newPeerState(s, c, p.fsm.connSeq, now, p.in.order);
    s.peers.set(id, fresh);
    s.peerList = undefined;
    if (s.byAddress.get(old.address) === id) s.byAddress.delete(old.address);
    s.byAddress.set(c.address, id);
    out.actions.push({ peer: id, action: { type: 'stopTimer', name: 'IdleHold' } });
    runFsm(s, fresh, { type: 'AutomaticStart' }, now, out);
    return finish(s, out);
  }
  p.config = c;
  p.fsm = { ...p.fsm, config: fsmConfig(s, c) };
  if (old.routeReflectorClient !== c.routeReflectorClient) {
    // paths carry their source's client flag: re-intern them and re-advertise everything
    p.info = { ...p.info, rrClient: !!c.routeReflectorClient };
    reinternSource(s, p, out);
  }
  if (!same(old.importPrefixes, c.importPrefixes)) {
    p.importFilter = compilePrefixFilter(c.importPrefixes);
    refilter(s, p, out);
    const neg = p.negotiated;
    if (neg?.routeRefresh && p.fsm.state === 'Established') {
      for (const f of neg.families) {
        out.actions.push({ peer: id, action: { type: 'send', conn: p.fsm.conn, message: { type: 'ROUTE-REFRESH', afi: f === 'ipv4' ? 1 : 2, safi: 1, subtype: 0 } } });
      }
    }
  }
  p.exportFilter = compilePrefixFilter(c.exportPrefixes);
  p.target = {
    ...p.target, rrClient: !!c.routeReflectorClient, nextHopSelf: !!c.nextHopSelf, keepOriginalNextHop: !!c.keepOriginalNextHop,
    nextHop4: p.target.nextHop4 ?? c.nextHop4, nextHop6: p.target.nextHop6 ?? c.nextHop6,
  };
  p.exportCache = freshCaches();
  if (p.fsm.state === 'Established' && !s.deferring) fullExport(s, p);
  if (c.maxPrefixes !== undefined && p.in.count > c.maxPrefixes && p.fsm.state === 'Established') {
    const afi = p.negotiated?.families[0] === 'ipv6' ? 2 : 1;
    const d = c.maxPrefixes;
    runFsm(s, p, { type: 'Cease', subcode: 1, data: new Uint8Array([0, afi, 1, (d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255]), stop: true }, now, out);
  } else if (p.fsm.state === 'Idle' && !p.fsm.autoStart) {
    runFsm(s, p, { type: 'AutomaticStart' }, now, out); // e.g. stopped by max-prefix, limit now changed
  }
  return finish(s, out);
}

function reinternSource(s: Speaker, p: PeerState, out: Out): void {
  mapPaths(s.loc, p.in, rebaseSource(p.in, p.info), emitter(s, out));
  for (const q of s.peers.values()) if (q.fsm.state === 'Established') { q.exportCache = freshCaches(); fullExport(s, q); }
}

function refilter(s: Speaker, p: PeerState, out: Out): void {
  const f = p.importFilter;
  if (!f) return;
  dropPaths(s.loc, p.in, (key) => {
    if (typeof key !== 'string') {
      if (f.ipv4(key.bits, key.len)) return false;
    } else {
      const slash = key.lastIndexOf('/');
      if (f(key.slice(0, slash), Number(key.slice(slash + 1)))) return false;
    }
    p.filtered.add(keyText(key));
    return true;
  }, emitter(s, out));
}

const WELL_KNOWN: Record<string, number> = { NO_EXPORT, NO_ADVERTISE, NO_EXPORT_SUBCONFED };

export function parseCommunities(list: readonly string[]): { communities: number[]; large: LargeCommunity[] } {
  const communities: number[] = [];
  const large: LargeCommunity[] = [];
  for (const c of list) {
    const wk = WELL_KNOWN[c];
    if (wk !== undefined) { communities.push(wk); continue; }
    const parts = c.split(':').map(Number);
    if (parts.length === 2) communities.push(((parts[0]! << 16) | parts[1]!) >>> 0);
    else if (parts.length === 3) large.push({ global: parts[0]!, local1: parts[1]!, local2: parts[2]! });
  }
  return { communities, large };
}

function originAttrs(r: OriginatedRoute): RouteAttrs {
  const a: RouteAttrs = { origin: 'IGP', asPath: [], nextHops: r.nextHop ? [r.nextHop] : [] };
  if (r.med !== undefined) a.med = r.med;
  const { communities, large } = parseCommunities(r.communities ?? []);
  if (communities.length) a.communities = communities;
  if (large.length) a.largeCommunities = large;
  return a;
}

/** The whole set of locally originated routes (desired state; the difference is advertised). */
export function originate(s: Speaker, routes: readonly OriginatedRoute[], _now: number): Result {
  const out = newOut();
  const next = new Map<string, Path>();
  const bySignature = new Map<string, Path>(); // routes with the same extras share one path
  for (const r of routes) {
    const p = parsePrefix(r.prefix);
    if (!p) throw new Error(`originate: not a prefix: ${r.prefix}`);
    const plain = r.nextHop === undefined && r.med === undefined && !r.communities?.length;
    const sig = plain ? '' : `${r.nextHop ?? ''}|${r.med ?? ''}|${(r.communities ?? []).join(',')}`;
    let path = bySignature.get(sig);
    if (!path) { path = internPath(s.origin, originAttrs(r)); bySignature.set(sig, path); }
    next.set(formatPrefix(p), path);
  }
  const was = s.originated;
  for (const key of was.keys()) {
    if (!next.has(key)) emitChange(s, removePath(s.loc, s.origin, key, undefined), out);
  }
  for (const [key, path] of next) {
    if (was.get(key) === path) continue;
    const c = putPath(s.loc, s.origin, key, undefined, path);
    if (c !== MAX_PREFIX) emitChange(s, c, out);
  }
  s.originated = next;
  return finish(s, out);
}

/**
 * Our forwarding state is kept from now on (the agent: its routes are in the kernel):
 * the F bit of every later OPEN is set, on peers already configured too, without
 * touching their sessions.
 */
export function preserveForwarding(s: Speaker): void {
  if (s.config.forwardingPreserved !== false) return;
  s.config = { ...s.config, forwardingPreserved: true };
  for (const p of s.peers.values()) {
    const gr = p.fsm.config.gracefulRestart;
    if (gr) p.fsm = { ...p.fsm, config: { ...p.fsm.config, gracefulRestart: { ...gr, forwardingPreserved: true } } };
  }
}

/** Re-opens a peer that was stopped (e.g. after max-prefix) or starts/stops it by hand. */
export function startPeer(s: Speaker, id: string, now: number): Result {
  const out = newOut();
  const p = s.peers.get(id);
  if (p) runFsm(s, p, { type: 'ManualStart' }, now, out);
  return finish(s, out);
}

export function stopPeer(s: Speaker, id: string, now: number, message?: string): Result {
  const out = newOut();
  const p = s.peers.get(id);
  if (p) runFsm(s, p, { type: 'ManualStop', ...(message ? { message } : {}) }, now, out);
  return finish(s, out);
}

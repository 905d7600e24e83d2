/**
 * The route pipeline inside the speaker: UPDATE → the prefix table (import checks,
 * prefix filter, max-prefix; the peer's route and the decision for the prefix in
 * one entry) → Loc-RIB change → desired Adj-RIB-Out entry of every Established
 * peer → (at the end of each handled event) minimal UPDATEs. A new prefix costs
 * one hash insert and the Loc-RIB change record; attribute work happens once per
 * attribute set (interned paths, export results cached per path).
 */
import { internPath } from '../rib/adj-rib-in.js';
import { internOut, takeUpdates, want } from '../rib/adj-rib-out.js';
import { exportAttrs } from '../rib/export.js';
import { importAttrs, type ImportContext } from '../rib/import.js';
import type { Family, Path } from '../rib/path.js';
import { bestOf, dropPaths, MAX_PREFIX, putPath, removePath, type RouteChange } from '../rib/table.js';
import { keyFamily, keyText, type Ipv4Key, type PrefixKey } from '../rib/prefix-map.js';
import { formatPrefix } from '../wire/prefix.js';
import { negotiatedFamily } from '../fsm/types.js';
import type { Prefix, UpdateMessage } from '../wire/types.js';
import { buildUpdates, endOfRib, endOfRibFamily } from './messages.js';
import type { PeerAction, PeerState, Speaker } from './types.js';

export interface Out {
  actions: PeerAction[];
  routes: RouteChange[];
}

export function newOut(): Out {
  return { actions: [], routes: [] };
}

/** The peers as an array (cached; see Speaker.peerList). */
export function peerList(s: Speaker): PeerState[] {
  let l = s.peerList;
  if (l === undefined || l.length !== s.peers.size) s.peerList = l = [...s.peers.values()];
  return l;
}

/** Queues a Loc-RIB change: for the agent, and as the desired Adj-RIB-Out entry of every Established peer. */
export function emitChange(s: Speaker, change: RouteChange | undefined, out: Out): void {
  if (!change) return;
  out.routes.push(change);
  if (s.deferring) return;
  const peers = peerList(s);
  const best = change.best;
  for (let i = 0; i < peers.length; i++) {
    const p = peers[i]!;
    if (p.fsm.state !== 'Established') continue;
    // the peer's own route with nothing sent or queued to it: nothing to unwant, and no prefix text made (wantFor handles the rest)
    if (best !== undefined && best.owner === p.in && p.out.sent.size === 0 && p.out.pending.size === 0) continue;
    wantFor(s, p, change.prefix, best);
  }
}

/** An emitter for table scans (peer down, sweeps, re-filtering). */
export function emitter(s: Speaker, out: Out): (c: RouteChange) => void {
  return (c) => emitChange(s, c, out);
}

/** Sets the desired Adj-RIB-Out entry of `p` for `key` given the Loc-RIB best path. */
export function wantFor(s: Speaker, p: PeerState, key: string, best: Path | undefined): void {
  // the peer's own route (never sent back to it: exportSkip 'source') — the common case while a peer loads its table
  if (best !== undefined && best.owner === p.in) { unwant(p, key); return; }
  const fam = keyFamily(key);
  if (best && p.negotiated?.families.includes(fam)) {
    const cache = p.exportCache[fam];
    let a = cache.get(best);
    if (a === undefined) {
      const r = exportAttrs(best, p.target, s.local, fam);
      a = typeof r === 'string' ? r : internOut(p.out, r);
      cache.set(best, a);
    }
    if (typeof a !== 'string' && (!p.exportFilter || p.exportFilter(key.slice(0, key.lastIndexOf('/')), Number(key.slice(key.lastIndexOf('/') + 1))))) {
      want(p.out, key, a);
      return;
    }
  }
  unwant(p, key);
}

/** Not to be advertised to `p`: a withdrawal if it was sent or is about to be. */
function unwant(p: PeerState, key: string): void {
  const o = p.out;
  if ((o.sent.size > 0 && o.sent.has(key)) || (o.pending.size > 0 && o.pending.has(key))) want(o, key, null);
}

/** The whole Loc-RIB as desired for `p` (new session, changed export policy, end of deferral). */
export function fullExport(s: Speaker, p: PeerState): void {
  for (const [key, e] of s.loc.routes) wantFor(s, p, key, bestOf(e));
  for (const key of p.out.sent.keys()) if (!s.loc.routes.has(key)) want(p.out, key, null);
}

/** Route refresh from the peer for a negotiated family: send everything of the family again. */
export function refreshOut(p: PeerState, fam: Family): void {
  for (const [key, a] of p.out.sent) {
    if (keyFamily(key) !== fam) continue;
    p.out.sent.delete(key);
    if (!p.out.pending.has(key)) p.out.pending.set(key, a);
  }
}

export function flushPeer(s: Speaker, p: PeerState, out: Out): void {
  const neg = p.negotiated;
  if (p.fsm.state !== 'Established' || !neg) { p.out.pending.clear(); return; }
  if (s.deferring) return;
  if (p.out.pending.size > 0) {
    for (const message of buildUpdates(takeUpdates(p.out), neg)) {
      out.actions.push({ peer: p.id, action: { type: 'send', conn: p.fsm.conn, message } });
    }
  }
  if (p.eorOwed) {
    p.eorOwed = false;
    for (const f of neg.families) out.actions.push({ peer: p.id, action: { type: 'send', conn: p.fsm.conn, message: endOfRib(f) } });
  }
}

export function flushAll(s: Speaker, out: Out): void {
  for (const p of s.peers.values()) if (p.out.pending.size > 0 || p.eorOwed) flushPeer(s, p, out);
}

/** Drops a peer's stale routes (graceful restart over) and re-decides them. */
export function sweep(s: Speaker, p: PeerState, fam: Family | undefined, out: Out): void {
  if (p.in.staleCount > 0) dropPaths(s.loc, p.in, (key, path) => path.stale && (!fam || keyFamily(key) === fam), emitter(s, out));
  if (p.in.staleCount === 0) {
    out.actions.push({ peer: p.id, action: { type: 'stopTimer', name: 'GrRestart' } });
    out.actions.push({ peer: p.id, action: { type: 'stopTimer', name: 'GrStale' } });
  }
}

/**
 * Restarting speaker: every graceful-restart peer Established and has sent End-of-RIB
 * for all its families? RFC 4724 §4.1: a peer whose OPEN had the Restart State (R)
 * bit is itself restarting and defers too (waiting on it would deadlock two
 * restarting speakers until the timer), and one without the capability sends none:
 * neither is waited on once Established.
 */
export function deferralDone(s: Speaker): boolean {
  for (const p of s.peers.values()) {
    if (!p.config.gracefulRestart) continue;
    const neg = p.negotiated;
    if (p.fsm.state !== 'Established' || !neg) return false;
    if (neg.gracefulRestart && !neg.gracefulRestart.restarted && !neg.families.every((f) => p.eorReceived.has(f))) return false;
  }
  return true;
}

export function endDeferral(s: Speaker, out: Out): void {
  if (!s.deferring) return;
  s.deferring = false;
  out.actions.push({ peer: '', action: { type: 'stopTimer', name: 'Deferral' } });
  // no longer restarting: later OPENs (a reconnect) carry R=0
  for (const p of s.peers.values()) {
    const gr = p.fsm.config.gracefulRestart;
    if (gr?.restarting) p.fsm = { ...p.fsm, config: { ...p.fsm.config, gracefulRestart: { ...gr, restarting: false } } };
  }
  for (const p of s.peers.values()) if (p.fsm.state === 'Established') fullExport(s, p);
}

/**
 * The RIB key of a prefix: an IPv4 prefix the session decoded as numbers is its own
 * key (no text built, none parsed); otherwise its text, as a flat string (see flatJoin).
 */
function keyOf(p: Prefix): PrefixKey {
  return p.bits !== undefined ? (p as Ipv4Key) : formatPrefix(p);
}

/** No next hop: announce withdraws the prefixes and keeps nothing, so one shared empty list does */
const NO_NEXT_HOP: string[] = [];

/** Imports one UPDATE from an Established peer; returns true when max-prefix trips. */
export function importUpdate(s: Speaker, p: PeerState, u: UpdateMessage, out: Out): boolean {
  const neg = p.negotiated;
  if (!neg) return false;
  const eor = endOfRibFamily(u);
  if (eor) {
    p.eorReceived.add(eor);
    if (p.in.staleCount > 0) sweep(s, p, eor, out);
    if (s.deferring && deferralDone(s)) endDeferral(s, out);
    return false;
  }
  // module functions, not closures. Allocated per UPDATE that announces: one import
  // context (shared by its NLRI and MP_REACH parts), the IPv4 next-hop list (the
  // imported attributes keep it) and what importAttrs builds
  withdraw(s, p, u.withdrawn, out);
  const a = u.attributes;
  // RFC 4760 §6: MP_* of a family not negotiated (e.g. SAFI 2, multicast) are not used —
  // they never touch the unicast table (their prefixes look like unicast ones)
  if (a.mpUnreach && negotiatedFamily(neg.families, a.mpUnreach.afi, a.mpUnreach.safi)) withdraw(s, p, a.mpUnreach.withdrawn, out);
  const mp = a.mpReach && negotiatedFamily(neg.families, a.mpReach.afi, a.mpReach.safi) ? a.mpReach : undefined;
  const v4 = u.nlri.length > 0;
  const mpNlri = mp !== undefined && mp.nlri.length > 0;
  if (!v4 && !mpNlri) return false;
  const ctx: ImportContext = {
    localAs: s.local.asn, routerId: s.local.routerId, clusterId: s.local.clusterId, ibgp: p.info.ibgp, peerAs: neg.peerAs, as4: neg.as4,
  };
  const nh = a.nextHop;
  if (v4 && announce(s, p, neg.families, ctx, a, u.nlri, nh ? [nh] : NO_NEXT_HOP, out)) return true;
  return mpNlri && announce(s, p, neg.families, ctx, a, mp.nlri, mp.nextHops, out);
}

function withdraw(s: Speaker, p: PeerState, list: readonly Prefix[], out: Out): void {
  for (let i = 0; i < list.length; i++) {
    const prefix = list[i]!;
    const key = keyOf(prefix);
    if (p.filtered.size) p.filtered.delete(keyText(key));
    if (p.ownNextHop.size) p.ownNextHop.delete(keyText(key));
    emitChange(s, removePath(s.loc, p.in, key, prefix.pathId), out);
  }
}

/**
 * A next hop that is one of our own addresses for this session: the next-hop-self
 * ones of the target, which hold the session's local address for its family (set
 * when the session came up). All canonical text (peers.ts canonicalConfig, onUp), as
 * the decoder writes next hops: plain string compares.
 */
function viaSelf(p: PeerState, nextHops: readonly string[]): boolean {
  const t = p.target;
  for (let i = 0; i < nextHops.length; i++) {
    const nh = nextHops[i];
    if (nh === t.nextHop4 || nh === t.nextHop6) return true;
  }
  return false;
}

/** RFC 4271 §5.1.3 / §6.3: a route through ourselves is ignored (an earlier route for the prefix goes), and counted. */
function rejectOwn(s: Speaker, p: PeerState, list: readonly Prefix[], out: Out): void {
  for (let i = 0; i < list.length; i++) {
    const prefix = list[i]!;
    const key = keyOf(prefix);
    const text = keyText(key);
    if (p.filtered.size) p.filtered.delete(text);
    p.ownNextHop.add(text);
    emitChange(s, removePath(s.loc, p.in, key, prefix.pathId), out);
  }
}

/** Stores one announcement's prefixes; true when max-prefix trips. */
function announce(
  s: Speaker, p: PeerState, families: readonly Family[], ctx: ImportContext, attributes: UpdateMessage['attributes'],
  nlri: readonly Prefix[], nextHops: string[], out: Out,
): boolean {
  const fam: Family = nlri[0]!.afi === 2 ? 'ipv6' : 'ipv4';
  if (!families.includes(fam)) return false;
  if (nextHops.length === 0) { withdraw(s, p, nlri, out); return false; } // no next hop: unusable
  if (viaSelf(p, nextHops)) { rejectOwn(s, p, nlri, out); return false; }
  const v = importAttrs(attributes, nextHops, ctx);
  if (!v.ok) { withdraw(s, p, nlri, out); return false; } // loops are treated as withdrawals
  const path = internPath(p.in, v.attrs);
  const filter = p.importFilter;
  const max = p.config.maxPrefixes;
  const loc = s.loc;
  const rib = p.in;
  for (let i = 0; i < nlri.length; i++) {
    const prefix = nlri[i]!;
    const key = keyOf(prefix);
    if (p.ownNextHop.size) p.ownNextHop.delete(keyText(key));
    if (filter && !(prefix.bits !== undefined ? filter.ipv4(prefix.bits, prefix.len) : filter(prefix.addr, prefix.len))) {
      p.filtered.add(keyText(key));
      emitChange(s, removePath(loc, rib, key, prefix.pathId), out);
      continue;
    }
    const c = putPath(loc, rib, key, prefix.pathId, path, max);
    if (c === MAX_PREFIX) return true;
    if (c !== undefined) emitChange(s, c, out);
  }
  return false;
}

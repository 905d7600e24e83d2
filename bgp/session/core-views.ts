/**
 * What a speaker core reports to the runtime, read from the pure Speaker value:
 * the status (peers, Loc-RIB size per family) and the Adj-RIB-In entries with their
 * best/stale marks. Shared by the standalone speaker's core and the agent's core so
 * that both read the RIB the same way.
 */
import { describeReason } from '../fsm/reasons.js';
import { forEachRoute } from '../rib/table.js';
import { speakerStatus, type Result, type Speaker } from '../speaker/index.js';
import type { RouteEntry } from './runtime.js';
import type { SpeakerStatus } from './status.js';

/** Remembers, per peer, why its session last went to Idle (shown as `lastError`). */
export function recordLastErrors(r: Result, lastError: Map<string, string>): void {
  for (const { peer, action } of r.actions) {
    if (action.type === 'stateChange' && action.to === 'Idle') lastError.set(peer, describeReason(action.reason));
  }
}

export function statusView(s: Speaker, lastError: ReadonlyMap<string, string>): SpeakerStatus {
  const st = speakerStatus(s);
  // counted by the RIB as routes come and go: walking a million keys per status call would cost ~40 ms
  const families: Record<string, number> = {};
  if (st.locRibFamilies.ipv4 > 0) families.ipv4 = st.locRibFamilies.ipv4;
  if (st.locRibFamilies.ipv6 > 0) families.ipv6 = st.locRibFamilies.ipv6;
  return {
    asn: st.asn, routerId: st.routerId,
    peers: st.peers.map((p) => ({
      address: p.address, asn: p.asn, state: p.state, since: new Date(p.since).toISOString(), reason: p.reason,
      ...(lastError.has(p.id) ? { lastError: lastError.get(p.id) as string } : {}),
      received: p.received, accepted: p.accepted, advertised: p.advertised, stale: p.stale,
      ...(p.ownNextHop > 0 ? { ownNextHop: p.ownNextHop } : {}),
    })),
    locRib: { total: st.locRib, families },
  };
}

/** Adj-RIB-In entries (of one peer, by id or address, or all); `best` = in the Loc-RIB's best (or multipath) set. */
export function routeEntries(s: Speaker, peer?: string): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const [id, p] of s.peers) {
    if (peer !== undefined && peer !== id && peer !== p.config.address) continue;
    forEachRoute(s.loc, p.in, (prefix, path, best) => {
      out.push({ prefix, peer: id, attributes: path.attrs, best, stale: path.stale });
    });
  }
  return out;
}

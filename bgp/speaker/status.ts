/** What `margay bgp status` shows, read from a Speaker value. */
import { describeReason } from '../fsm/reasons.js';
import type { FsmState } from '../fsm/types.js';
import { prefixCount } from '../rib/adj-rib-in.js';
import { locRibFamilies } from '../rib/table.js';
import type { Speaker } from './types.js';

export interface PeerStatus {
  id: string;
  address: string;
  asn: number;
  state: FsmState;
  /** ms timestamp (the events' clock) of the last state change */
  since: number;
  reason: string;
  /** prefixes the peer announces (accepted + filtered + ownNextHop) */
  received: number;
  accepted: number;
  /** prefixes rejected because their next hop is one of our own addresses (RFC 4271 §5.1.3) */
  ownNextHop: number;
  advertised: number;
  /** routes kept stale by graceful restart */
  stale: number;
  peerId?: string;
  holdTime?: number;
}

export interface SpeakerStatus {
  asn: number;
  routerId: string;
  locRib: number;
  /** Loc-RIB routes per family (O(1): no need to walk the table) */
  locRibFamilies: { ipv4: number; ipv6: number };
  deferring: boolean;
  peers: PeerStatus[];
}

export function speakerStatus(s: Speaker): SpeakerStatus {
  const peers: PeerStatus[] = [];
  for (const p of s.peers.values()) {
    const accepted = prefixCount(p.in);
    peers.push({
      id: p.id, address: p.config.address, asn: p.config.asn, state: p.fsm.state, since: p.fsm.since,
      reason: describeReason(p.fsm.reason), received: accepted + p.filtered.size + p.ownNextHop.size, accepted,
      ownNextHop: p.ownNextHop.size,
      advertised: p.out.sent.size, stale: p.in.staleCount,
      ...(p.negotiated ? { peerId: p.negotiated.peerId, holdTime: p.negotiated.holdTime } : {}),
    });
  }
  return { asn: s.local.asn, routerId: s.local.routerId, locRib: s.loc.routes.size, locRibFamilies: locRibFamilies(s.loc), deferring: s.deferring, peers };
}

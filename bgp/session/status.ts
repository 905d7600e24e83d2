/** The answer to the control socket's `status` request (also `margay bgp status --json`). */
export interface PeerStatus {
  address: string;
  asn: number;
  state: string;
  /** ISO time the current state was entered */
  since: string;
  /** the reason of the last state change, printed (e.g. "notification received: Cease: ...") */
  reason: string;
  /** why the session last went to Idle (kept across the automatic restart), if it ever did */
  lastError?: string;
  /** prefixes received in UPDATEs (Adj-RIB-In size) */
  received: number;
  /** prefixes accepted by import policy */
  accepted: number;
  /** prefixes advertised to the peer (Adj-RIB-Out size) */
  advertised: number;
  /** ISO time the first UPDATE of the current session was handled, if one was (cleared when a session is established) */
  firstUpdate?: string;
  /** ISO time the last UPDATE from this peer was handled (any session), if one was */
  lastUpdate?: string;
  /** routes kept stale by graceful restart */
  stale?: number;
  /** prefixes ignored because their next hop is this speaker's own address (RFC 4271 §5.1.3), when any */
  ownNextHop?: number;
}

export interface SpeakerStatus {
  asn: number;
  routerId: string;
  peers: PeerStatus[];
  locRib: { total: number; families: Record<string, number> };
}

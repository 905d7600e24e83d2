/** What the agent's control socket answers to `{"cmd":"status"}` (`margay status --json`). */
export interface PeerRow {
  address: string;
  /** node-to-node mesh | route reflector | global | node-specific */
  type: string;
  /** "up" when Established, else "start" (calicoctl's wording) */
  state: 'up' | 'start';
  /** the FSM state */
  fsm: string;
  /** ISO time the current state was entered */
  since: string;
  /** Established, or the state and why the session last went down */
  info: string;
  asn: number;
  node?: string;
  passive: boolean;
  received: number;
  advertised: number;
  stale: number;
}

export interface RouteRow {
  prefix: string;
  /** "blackhole" for own blocks, else the next hops as "via GW dev DEV" */
  via: string;
  reason: string;
}

export interface BlockRow {
  cidr: string;
  pool: string;
  used: number;
  size: number;
}

/**
 * A tunnel device this node uses (the last dataplane pass's plan), as Calico's Node
 * shows ipv4VXLANTunnelAddr / ipv4IPIPTunnelAddr. A kind no pool uses has no row.
 */
export interface TunnelRow {
  /** vxlan: VXLAN over the IPv4 underlay; vxlan-v6: over the IPv6 underlay (IPv6-only nodes or peers); ipip */
  type: 'vxlan' | 'vxlan-v6' | 'ipip';
  /** the device's name from the dataplane config (vxlan.margay, vxlan-v6.margay, tunl0 by default) */
  device: string;
  /** the IPv4 tunnel address the agent assigned (IPAM `<kind>-tunnel-addr-<node>`, or the Node's annotation), bare; absent: none assigned yet (never for vxlan-v6) */
  address?: string;
  /** the IPv6 next hop other nodes use for this node's IPv6 blocks: the VTEP's link-local, derived from its MAC (only when an IPv6 pool uses VXLAN) */
  address6?: string;
  /** the VTEP MAC (VXLAN) */
  mac?: string;
}

export interface PolicyCounts {
  policies: number;
  rejected: number;
  localPods: number;
  applies: number;
  failures: number;
  lastError: string | null;
  synced: boolean;
}

export interface AgentStatus {
  node: string;
  asn?: number;
  routerId?: string;
  ready: boolean;
  reasons: string[];
  /** as readiness has it: BGP off → true; on → every peer's End-of-RIB is in (or the bound passed) */
  bgpSynced: boolean;
  /** "off": margay's BGP is off (`margay agent --bgp off`), an external speaker carries the routes; absent: on */
  bgp?: 'on' | 'off';
  peers: PeerRow[];
  routes: RouteRow[];
  blocks: BlockRow[];
  /** the tunnel devices of the last dataplane pass (none before the first); absent from agents older than this field */
  tunnels?: TunnelRow[];
  policy: PolicyCounts;
  /** configuration problems (bad annotations, peers that cannot be built, unmapped routes) */
  problems: string[];
}

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
  policy: PolicyCounts;
  /** configuration problems (bad annotations, peers that cannot be built, unmapped routes) */
  problems: string[];
}

/**
 * The agent's metrics (names documented in docs/agent.md) and its health state.
 * Pure: the agent feeds observations in; the HTTP shell (server.ts) renders them.
 */
import { Metrics } from './metrics.js';

export const BGP_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;

export interface PeerObservation {
  address: string;
  state: string;
  received: number;
  advertised: number;
}

export interface BlockObservation {
  cidr: string;
  pool: string;
  used: number;
  size: number;
}

export interface Health {
  /** the agent's loops are running (liveness) */
  live: boolean;
  bgpSynced: boolean;
  policySynced: boolean;
  /** why not ready, each a sentence */
  reasons: string[];
}

export function readiness(h: Omit<Health, 'reasons' | 'live'> & { live?: boolean; datastoreSynced: boolean; routesError?: string }): Health {
  const reasons: string[] = [];
  if (!h.datastoreSynced) reasons.push('datastore: no snapshot yet');
  if (h.routesError !== undefined) reasons.push(`routes: the last pass failed (${h.routesError})`);
  if (!h.bgpSynced) reasons.push('bgp: not synced (waiting for peers to establish and send End-of-RIB)');
  if (!h.policySynced) reasons.push('policy: rules not programmed yet (or the last apply failed)');
  return { live: h.live ?? true, bgpSynced: h.bgpSynced, policySynced: h.policySynced, reasons };
}

/** the components whose applies the agent records (margay_applies_total, margay_apply_errors_total) */
export const APPLY_COMPONENTS = ['dataplane', 'policy', 'ipam'] as const;
export type ApplyComponent = typeof APPLY_COMPONENTS[number];

export class AgentMetrics {
  readonly registry = new Metrics();
  private readonly sessions = this.registry.gauge('margay_bgp_sessions', 'BGP sessions by FSM state.');
  private readonly received = this.registry.gauge('margay_bgp_prefixes_received', 'Prefixes received from each BGP peer (Adj-RIB-In).');
  private readonly advertised = this.registry.gauge('margay_bgp_prefixes_advertised', 'Prefixes advertised to each BGP peer (Adj-RIB-Out).');
  private readonly routeLatency = this.registry.histogram('margay_route_programming_seconds', 'Time from a routing input change (BGP, IPAM, datastore) to the kernel routes converged.');
  private readonly policyLatency = this.registry.histogram('margay_policy_sync_seconds', 'Time from a policy input change (datastore snapshot, local pod) to the iptables rules applied.');
  private readonly ipamUsed = this.registry.gauge('margay_ipam_addresses_used', 'Addresses in use in this node\'s IPAM blocks, per pool.');
  private readonly ipamSize = this.registry.gauge('margay_ipam_addresses', 'Addresses in this node\'s IPAM blocks, per pool.');
  private readonly ipamBlocks = this.registry.gauge('margay_ipam_blocks', 'IPAM blocks affine to this node, per pool.');
  private readonly errors = this.registry.counter('margay_apply_errors_total', `Failed applies, by component (${APPLY_COMPONENTS.join(', ')}).`);
  private readonly applies = this.registry.counter('margay_applies_total', `Applies, failed ones included, by component (${APPLY_COMPONENTS.join(', ')}).`);
  private readonly rejected = this.registry.gauge('margay_datastore_rejected_objects', 'Objects rejected by validation and left out.');

  constructor() {
    // every series exists from the start (at 0), so that rate() and alerts see the first error
    for (const component of APPLY_COMPONENTS) {
      this.applies({ component }, 0);
      this.errors({ component }, 0);
    }
  }

  observePeers(peers: readonly PeerObservation[]): void {
    const counts = new Map<string, number>(BGP_STATES.map((s) => [s, 0]));
    for (const p of peers) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
    this.sessions([...counts].map(([state, value]) => ({ labels: { state }, value })));
    this.received(peers.map((p) => ({ labels: { peer: p.address }, value: p.received })));
    this.advertised(peers.map((p) => ({ labels: { peer: p.address }, value: p.advertised })));
  }

  observeBlocks(blocks: readonly BlockObservation[]): void {
    const byPool = new Map<string, { used: number; size: number; blocks: number }>();
    for (const b of blocks) {
      const x = byPool.get(b.pool) ?? { used: 0, size: 0, blocks: 0 };
      x.used += b.used;
      x.size += b.size;
      x.blocks += 1;
      byPool.set(b.pool, x);
    }
    const rows = [...byPool];
    this.ipamUsed(rows.map(([pool, x]) => ({ labels: { pool }, value: x.used })));
    this.ipamSize(rows.map(([pool, x]) => ({ labels: { pool }, value: x.size })));
    this.ipamBlocks(rows.map(([pool, x]) => ({ labels: { pool }, value: x.blocks })));
  }

  routeProgrammed(seconds: number): void {
    this.routeLatency(seconds);
  }

  policySynced(seconds: number): void {
    this.policyLatency(seconds);
  }

  /** one apply of `component` (one of APPLY_COMPONENTS), failed or not: a failure counts as an apply too */
  applied(component: ApplyComponent, ok: boolean): void {
    this.applies({ component });
    if (!ok) this.errors({ component });
  }

  rejectedObjects(n: number): void {
    this.rejected([{ value: n }]);
  }

  render(): string {
    return this.registry.render();
  }
}

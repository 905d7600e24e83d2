/** What the composition root (main.ts) hands the Agent. */
import type { Logger } from 'pino';
import type { Datastore } from '../datastore/datastore.js';
import type { IpamStore } from '../ipam/store.js';
import type { BgpDefaults } from '../node-config/node-config.js';
import type { SecretReader } from './bgp.js';
import type { BgpMode } from './bgp-mode.js';

export interface AgentOptions {
  node: string;
  datastore: Datastore;
  ipamStore: IpamStore;
  /** where margay-cni reaches the agent; null: no CNI server */
  cniSocket: string | null;
  statusSocket: string;
  health: { port: number; host: string } | null;
  /** the underlay device; default: the device holding the node's address */
  uplink?: string;
  /** BGP defaults when no BGPConfiguration "default" exists */
  bgpDefaults?: BgpDefaults;
  /** this node's BGP address/prefix when its Node object does not give one */
  nodeAddress?: string;
  readSecret?: SecretReader;
  logs: { agent: Logger; bgp: Logger; dataplane: Logger; policy: Logger; cni: Logger };
  syncBoundMs?: number;
  resyncMs?: number;
  /** re-read IPAM records (other nodes' pods and tunnel addresses) this often when the store has no change feed (IpamStore.watch) */
  ipamPollMs?: number;
  /** the route fast path (fast-routes.ts; default on): false = every change waits for a full pass (MARGAY_FAST_ROUTES=0, for comparison) */
  fastRoutes?: boolean;
  /** warm the fast path after full passes (fast-warm.ts; default on): false = MARGAY_FAST_WARM=0, for comparison */
  fastWarm?: boolean;
  /** datastore snapshots and other nodes' IPAM records wait this long (deferred-inputs.ts DEFER_INPUTS_MS, default 3); 0 = at once (MARGAY_DEFER_INPUTS_MS) */
  deferInputsMs?: number;
  /** release addresses of pods gone without a CNI DEL (host veth gone; kubernetes: also Pod gone) this often (agent/node/leaks.ts); 0 = off */
  ipamGcMs?: number;
  restartTime?: number;
  holdTime?: number;
  /**
   * 'off': an external speaker (BIRD, a routing daemon on the host) carries the routes;
   * no session, no BGP port, readiness does not wait for BGP (bgp-mode.ts). Default 'on'.
   */
  bgp?: BgpMode;
  /** where pod wiring writes its sysctls (agent/dataplane/sysctl.ts); default /proc/sys */
  procSys?: string;
}

/**
 * What node-config produces for one node: its BGP identity and the peers it must
 * have, each labelled with the kind of session it is (as `margay status` shows it).
 * Plain data; the agent turns it into speaker configuration.
 */

/** The per-node annotations margay reads (documented in docs/agent.md). */
export const ANNOTATIONS = {
  /** the node's AS number (AS-per-rack designs); default BGPConfiguration.asNumber */
  asNumber: 'margay.io/as-number',
  /** IPv4 address/prefix the node speaks BGP from, e.g. 172.30.0.11/24; default: status InternalIP */
  ipv4Address: 'margay.io/bgp-ipv4-address',
  /** IPv6 address/prefix, e.g. fd30::11/64 */
  ipv6Address: 'margay.io/bgp-ipv6-address',
  /** route-reflector cluster ID (dotted quad): the node reflects routes for its clients */
  routeReflectorClusterId: 'margay.io/route-reflector-cluster-id',
  /** BGP router ID; default the IPv4 address */
  routerId: 'margay.io/router-id',
  /** address of the node's VXLAN device (needed by peers when a pool uses VXLAN) */
  vxlanTunnelAddress: 'margay.io/vxlan-tunnel-address',
} as const;

export const DEFAULT_ASN = 64512;
export const DEFAULT_LISTEN_PORT = 179;

export type PeerType = 'node-to-node mesh' | 'route reflector' | 'global' | 'node-specific';

/** A password as the object gives it: in the file (file datastore) or in a Secret (kubernetes). */
export type PasswordSource = { value: string } | { secretKeyRef: { name: string; key: string } };

/** What node-config knows of a node. */
export interface NodeBgpInfo {
  name: string;
  labels: Record<string, string>;
  /** "172.30.0.11/24" (a bare InternalIP gets /32) */
  address?: string;
  address6?: string;
  asn: number;
  routerId?: string;
  clusterId?: string;
  vxlanTunnelAddress?: string;
}

export interface PlannedPeer {
  address: string;
  asn: number;
  type: PeerType;
  /** only accept the connection (node-to-node: the node with the higher address is passive) */
  passive: boolean;
  routeReflectorClient: boolean;
  /** TCP port of the peer (another node: its own listenPort, BGPConfiguration node.NAME over default) */
  port: number;
  /** the peer is this node of the cluster */
  node?: string;
  /** where the session comes from: "mesh" or "BGPPeer NAME" */
  source: string;
  password?: PasswordSource;
  keepOriginalNextHop: boolean;
  /** BGPPeer.maxRestartTime in seconds */
  maxRestartTime?: number;
  families: ('ipv4' | 'ipv6')[];
}

export interface NodeBgpPlan {
  /** absent when the node itself is unknown or has no address */
  local?: NodeBgpInfo & {
    listenPort: number; meshEnabled: boolean; serviceClusterIPs: string[];
    /** BGPConfiguration.logSeverityScreen as a log level, when set */
    logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  };
  peers: PlannedPeer[];
  /** sentences naming the object, for the log */
  problems: string[];
  /** peers left out on purpose (not problems: e.g. a BGPPeer at the node's own address), for the debug log; absent when none */
  skipped?: string[];
}

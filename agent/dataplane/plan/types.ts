/** What the dataplane is asked to realise on one node: plain data from IPAM and the datastore. */
export type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

export interface PoolSpec {
  cidr: string;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  /** No new allocations (IPAM's concern); the dataplane treats the pool like any other: its pods still run. */
  disabled?: boolean;
}

export interface NodeSpec {
  name: string;
  /** The node's underlay address with its subnet length, e.g. "10.10.1.2/24"; absent on an IPv6-only node. */
  address?: string;
  /** The node's IPv6 underlay address with its subnet length, for IPv6 blocks. */
  address6?: string;
  /** Address of the node's VXLAN device (from its block), when VXLAN is in use. */
  vxlanTunnelAddress?: string;
  /** Address of the node's IPIP device (from its block), when IPIP is in use. */
  ipipTunnelAddress?: string;
  /** VTEP MAC; derived from the node name when absent (vtepMac). */
  vxlanMac?: string;
}

export interface BlockSpec {
  cidr: string;
  /** The node that holds the block's affinity. */
  node: string;
}

/**
 * A learned route whose next hops are no node of the cluster: a router's (a
 * top-of-rack switch announcing the blocks with next-hop-self, or a prefix it
 * originates). Programmed via a next hop on this node's own subnet; any other next
 * hop is reported (recursive next hops are not resolved).
 */
export interface ExternalRouteSpec {
  cidr: string;
  /** Next-hop addresses (no prefix length). */
  nextHops: string[];
}

export interface DataplaneConfig {
  /** The node's uplink device (underlay). */
  uplink: string;
  uplinkMtu: number;
  vxlanDevice: string;
  /** The VXLAN device over an IPv6 underlay, for IPv6-only nodes (DEFAULT_CONFIG: vxlan-v6.margay). */
  vxlanDevice6: string;
  vxlanVni: number;
  vxlanPort: number;
  ipipDevice: string;
  /** The fabric routes pod blocks itself (BGP to the top of rack): no kernel route toward other subnets. */
  fabricCarriesPodRoutes: boolean;
}

export const DEFAULT_CONFIG: Omit<DataplaneConfig, 'uplink' | 'uplinkMtu'> = {
  vxlanDevice: 'vxlan.margay',
  vxlanDevice6: 'vxlan-v6.margay',
  vxlanVni: 4096,
  vxlanPort: 4789,
  ipipDevice: 'tunl0',
  fabricCarriesPodRoutes: false,
};

export interface DataplaneInput {
  localNode: string;
  nodes: NodeSpec[];
  blocks: BlockSpec[];
  /** Learned routes via routers that are no node (absent: none). */
  external?: ExternalRouteSpec[];
  pools: PoolSpec[];
  config: DataplaneConfig;
}

/** A next hop by device name (resolved to an ifindex by the shell). */
export interface DesiredNextHop {
  gateway?: string;
  dev?: string;
  onlink: boolean;
  weight: number;
}

export interface DesiredRoute {
  dst: string;
  type: 'unicast' | 'blackhole';
  nexthops: DesiredNextHop[];
  /** Why this route looks the way it does ("own block", "vxlan to node-b", ...). */
  reason: string;
}

export interface VxlanPlan {
  device: string;
  vni: number;
  port: number;
  mtu: number;
  mac: string;
  /** Local underlay address (the VTEP source): IPv4, or IPv6 for the IPv6-underlay device. */
  local: string;
  /** The device's own address, "/32". */
  address?: string;
  /**
   * Remote VTEPs: FDB (mac → IPv4 underlay address), ARP (IPv4 tunnel address → mac)
   * and, when an IPv6 pool encapsulates, a permanent IPv6 neighbour (the VTEP's
   * link-local address, vtepLinkLocal → mac): IPv6 pod traffic rides the same
   * IPv4-underlay device.
   */
  peers: VxlanPeer[];
}

export interface VxlanPeer {
  node: string;
  mac: string;
  underlay: string;
  /** IPv4 next hop of IPv4 blocks (absent: the node has none yet; no ARP entry). */
  tunnelAddress?: string;
  /** IPv6 next hop of IPv6 blocks (link-local, from the MAC); only when an IPv6 pool uses VXLAN. */
  tunnelAddress6?: string;
}

export interface IpipPlan {
  device: string;
  mtu: number;
  address?: string;
}

export interface DataplanePlan {
  routes: DesiredRoute[];
  vxlan?: VxlanPlan;
  /** The IPv6-underlay VXLAN device: IPv6 blocks toward or from IPv6-only nodes. */
  vxlan6?: VxlanPlan;
  ipip?: IpipPlan;
  /** Things that could not be realised, each a sentence naming the object. */
  problems: string[];
}

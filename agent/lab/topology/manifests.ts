/**
 * Lab BGP topologies as datastore objects (pure): which Node labels and
 * annotations, BGPConfiguration and BGPPeers make a lab run as
 *
 *   mesh             the default: every node peers with every other (nothing to write
 *                    but the nodes and the BGPConfiguration);
 *   route-reflector  mesh off; one node carries the route-reflector cluster ID
 *                    annotation and the label `route-reflector: "true"`; one BGPPeer
 *                    (nodeSelector all(), peerSelector route-reflector == 'true') makes
 *                    every other node its client — the pattern Calico documents;
 *   tor              mesh off; every node peers over eBGP with the top-of-rack router
 *                    on its subnet (the fabric namespace's gateway address): one
 *                    BGPPeer per subnet, selecting the nodes by the label
 *                    `lab.margay.io/subnet`. Nodes stay in the cluster AS (the ToR then
 *                    overrides the AS path, see bird-config.ts) or, with
 *                    `asPerNode`, each node gets its own AS by annotation (AS-per-rack,
 *                    one node per rack).
 *
 * The annotation names are node-config's (agent/node-config/types.ts ANNOTATIONS).
 * Whoever writes the Node objects of a lab merges `nodeLabels` / `nodeAnnotations`
 * into them (labNodeObject does it for the lab's own nodes).
 */
import { stringify } from 'yaml';
import { ANNOTATIONS, DEFAULT_ASN } from '../../node-config/types.js';

export type TopologyKind = 'mesh' | 'route-reflector' | 'tor';
export const TOR_KINDS = ['bird'] as const;
export type TorKind = (typeof TOR_KINDS)[number];

export const TOR_ASN = 65000;
export const RR_CLUSTER_ID = '244.0.0.1';
export const RR_LABEL = 'route-reflector';
export const SUBNET_LABEL = 'lab.margay.io/subnet';
/** First AS of AS-per-node labs: node k gets PER_NODE_ASN_BASE + k. */
export const PER_NODE_ASN_BASE = 65100;

export interface TopologyNode {
  name: string;
  index: number;
  address: string;
  address6?: string;
  /** the node's fabric subnet: its bridge name and gateway (the ToR's address there) */
  subnet: { bridge: string; gateway: string };
}

export type TopologyOptions =
  | { kind: 'mesh'; clusterAsn?: number }
  | { kind: 'route-reflector'; reflector: string; clusterAsn?: number; clusterId?: string }
  | { kind: 'tor'; clusterAsn?: number; torAsn?: number; asPerNode?: boolean };

export interface DsObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface TopologyPlan {
  kind: TopologyKind;
  clusterAsn: number;
  meshEnabled: boolean;
  nodeLabels: Record<string, Record<string, string>>;
  nodeAnnotations: Record<string, Record<string, string>>;
  /** each node's AS as the cluster will see it */
  nodeAsn: Record<string, number>;
  /** BGPConfiguration "default" and the BGPPeers */
  objects: DsObject[];
  /** ToR sessions to configure on the router side (tor topology only) */
  tor?: { asn: number; peers: { node: string; address: string; asn: number; local: string }[] };
}

const CRD_API = 'margay.io/v1';

export function planTopology(nodes: readonly TopologyNode[], opts: TopologyOptions): TopologyPlan {
  if (nodes.length === 0) throw new Error('a topology needs at least one node');
  const clusterAsn = opts.clusterAsn ?? DEFAULT_ASN;
  checkAsn(clusterAsn, 'cluster AS');
  const nodeLabels: Record<string, Record<string, string>> = {};
  const nodeAnnotations: Record<string, Record<string, string>> = {};
  const nodeAsn: Record<string, number> = {};
  for (const n of nodes) {
    nodeLabels[n.name] = { [SUBNET_LABEL]: n.subnet.bridge };
    nodeAnnotations[n.name] = { [ANNOTATIONS.ipv4Address]: `${n.address}/${24}` };
    nodeAsn[n.name] = clusterAsn;
  }
  const meshEnabled = opts.kind === 'mesh';
  const objects: DsObject[] = [bgpConfiguration(clusterAsn, meshEnabled)];
  const plan: TopologyPlan = { kind: opts.kind, clusterAsn, meshEnabled, nodeLabels, nodeAnnotations, nodeAsn, objects };

  if (opts.kind === 'route-reflector') {
    const rr = nodes.find((n) => n.name === opts.reflector);
    if (!rr) throw new Error(`route reflector "${opts.reflector}" is not a node of the lab (nodes: ${nodes.map((n) => n.name).join(', ')})`);
    const clusterId = opts.clusterId ?? RR_CLUSTER_ID;
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(clusterId) || clusterId.split('.').some((o) => Number(o) > 255)) {
      throw new Error(`route-reflector cluster ID must be a dotted quad, got "${clusterId}"`);
    }
    (nodeLabels[rr.name] as Record<string, string>)[RR_LABEL] = 'true';
    (nodeAnnotations[rr.name] as Record<string, string>)[ANNOTATIONS.routeReflectorClusterId] = clusterId;
    objects.push({
      apiVersion: CRD_API,
      kind: 'BGPPeer',
      metadata: { name: 'peer-with-route-reflectors' },
      spec: { nodeSelector: 'all()', peerSelector: `${RR_LABEL} == 'true'` },
    });
  } else if (opts.kind === 'tor') {
    const torAsn = opts.torAsn ?? TOR_ASN;
    checkAsn(torAsn, 'ToR AS');
    if (torAsn === clusterAsn) throw new Error(`the ToR AS must differ from the cluster AS (${clusterAsn}): the ToR peers over eBGP`);
    const peers: NonNullable<TopologyPlan['tor']>['peers'] = [];
    for (const n of nodes) {
      if (opts.asPerNode) {
        const asn = PER_NODE_ASN_BASE + n.index;
        (nodeAnnotations[n.name] as Record<string, string>)[ANNOTATIONS.asNumber] = String(asn);
        nodeAsn[n.name] = asn;
      }
      peers.push({ node: n.name, address: n.address, asn: nodeAsn[n.name] as number, local: n.subnet.gateway });
    }
    const subnets = new Map<string, string>();
    for (const n of nodes) subnets.set(n.subnet.bridge, n.subnet.gateway);
    for (const [bridge, gateway] of [...subnets].sort()) {
      objects.push({
        apiVersion: CRD_API,
        kind: 'BGPPeer',
        metadata: { name: `tor-${bridge}` },
        spec: { nodeSelector: `${SUBNET_LABEL} == '${bridge}'`, peerIP: gateway, asNumber: torAsn },
      });
    }
    plan.tor = { asn: torAsn, peers };
  }
  return plan;
}

function bgpConfiguration(asNumber: number, nodeToNodeMeshEnabled: boolean): DsObject {
  return { apiVersion: CRD_API, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber, nodeToNodeMeshEnabled } };
}

function checkAsn(asn: number, what: string): void {
  if (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff) throw new Error(`${what} must be 1..4294967295, got ${asn}`);
}

/** The Node object of a lab node, with the topology's labels and annotations and its InternalIPs. */
export function labNodeObject(node: TopologyNode, plan: TopologyPlan): DsObject {
  const addresses = [{ type: 'InternalIP', address: node.address }];
  if (node.address6) addresses.push({ type: 'InternalIP', address: node.address6 });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: { 'kubernetes.io/hostname': node.name, ...(plan.nodeLabels[node.name] ?? {}) },
      annotations: { ...(plan.nodeAnnotations[node.name] ?? {}) },
    },
    status: { addresses },
  };
}

/** Objects as one multi-document YAML manifest (the file datastore reads it as is). */
export function renderManifest(objects: readonly DsObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

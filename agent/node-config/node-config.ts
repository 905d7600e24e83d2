/**
 * node-config (pure): a datastore snapshot and this node's name → this node's BGP
 * identity and the exact set of peers it must have.
 *
 * - BGPConfiguration "default" holds the cluster settings (asNumber 64512,
 *   nodeToNodeMeshEnabled true, listenPort 179, serviceClusterIPs); one named
 *   "node.NAME" overrides asNumber / listenPort / serviceClusterIPs for that node;
 *   a session toward another node goes to that node's own listenPort.
 * - Node annotations (types.ts ANNOTATIONS) give per-node AS, BGP addresses, router
 *   ID and route-reflector cluster ID.
 * - Node-to-node mesh: every other node with an address of the family, ONE TCP
 *   session per pair: the node with the higher address is passive toward the lower
 *   (it only accepts), so a restart never races two connections.
 * - BGPPeer applies to this node when it has neither `node` nor `nodeSelector`
 *   (global), names it (`node`) or selects its labels (`nodeSelector`).
 *   `peerIP` + `asNumber`: an external router. `peerSelector`: the selected nodes
 *   at their node address and AS; the relation is symmetric — a node selected by
 *   `peerSelector` peers back with the nodes the BGPPeer's node part selects — so
 *   both ends of a route-reflector session exist. The same passive rule applies.
 * - A node with a cluster ID is a route reflector: peers that are nodes without a
 *   cluster ID (or with another one) are its clients.
 * - A BGPPeer whose peerIP is the node's own address is skipped on that node (listed
 *   in `skipped`): a global BGPPeer to a reflector must not make it peer with itself.
 * - One session per address (compared in canonical form, RFC 5952 for IPv6, and
 *   planned in it): an explicit BGPPeer wins over selector peers, which win over the
 *   mesh; node-specific before global. A `peerIP` that is no address is a problem.
 * - `peerIP` may carry a port (Calico's "IPv4:port", "[IPv6]:port"); without one an
 *   external peer is on 179 and a node on its listenPort. AS numbers may be AS-dot.
 */
import { objectsOf, getObject, type Snapshot } from '../datastore/snapshot.js';
import type { Resource } from '../datastore/resources.js';
import { matchSelector, parseSelector, type Selector } from '../ipam/selector.js';
import { compareAddresses, hostOf, parseAsn, parseDuration, parsePeerIP, readNode } from './node-info.js';
import {
  DEFAULT_ASN, DEFAULT_LISTEN_PORT, type NodeBgpInfo, type NodeBgpPlan, type PasswordSource, type PeerType, type PlannedPeer,
} from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const specOf = (r: Resource | undefined): Obj => (r && isObj(r.spec) ? r.spec : {});

const LOG_LEVELS = { Debug: 'debug', Info: 'info', Warning: 'warn', Error: 'error', Fatal: 'fatal' } as const;

interface ClusterBgp {
  meshMaxRestartTime?: number;
  logLevel?: (typeof LOG_LEVELS)[keyof typeof LOG_LEVELS];
  asn: number;
  meshEnabled: boolean;
  listenPort: number;
  serviceClusterIPs: string[];
}

/** Cluster defaults when no BGPConfiguration "default" says otherwise (the agent's flags / the chart's values). */
export interface BgpDefaults {
  asn?: number;
  meshEnabled?: boolean;
  listenPort?: number;
}

function clusterSettings(snapshot: Snapshot, nodeName: string, defaults: BgpDefaults = {}): ClusterBgp {
  const d = specOf(getObject(snapshot, 'BGPConfiguration', 'default'));
  const n = specOf(getObject(snapshot, 'BGPConfiguration', `node.${nodeName}`));
  const pick = <T>(f: (o: Obj) => T | undefined, fallback: T): T => f(n) ?? f(d) ?? fallback;
  const cidrs = (o: Obj): string[] | undefined => Array.isArray(o.serviceClusterIPs)
    ? o.serviceClusterIPs.filter(isObj).map((x) => x.cidr).filter((c): c is string => typeof c === 'string')
    : undefined;
  const meshRestart = typeof d.nodeMeshMaxRestartTime === 'string' ? parseDuration(d.nodeMeshMaxRestartTime) : undefined;
  const level = pick((o) => (typeof o.logSeverityScreen === 'string' ? LOG_LEVELS[o.logSeverityScreen as keyof typeof LOG_LEVELS] : undefined), undefined);
  return {
    ...(level ? { logLevel: level } : {}),
    ...(meshRestart !== undefined ? { meshMaxRestartTime: meshRestart } : {}),
    asn: pick((o) => parseAsn(o.asNumber), defaults.asn ?? DEFAULT_ASN),
    meshEnabled: typeof d.nodeToNodeMeshEnabled === 'boolean' ? d.nodeToNodeMeshEnabled : defaults.meshEnabled ?? true,
    listenPort: pick((o) => (typeof o.listenPort === 'number' ? o.listenPort : undefined), defaults.listenPort ?? DEFAULT_LISTEN_PORT),
    serviceClusterIPs: pick(cidrs, []),
  };
}

function selectorOf(text: unknown, where: string, problems: string[]): Selector | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseSelector(text);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
    return undefined;
  }
}

function passwordOf(spec: Obj): PasswordSource | undefined {
  const p = spec.password;
  if (!isObj(p)) return undefined;
  if (typeof p.value === 'string') return { value: p.value };
  const ref = p.secretKeyRef;
  if (isObj(ref) && typeof ref.name === 'string' && typeof ref.key === 'string') return { secretKeyRef: { name: ref.name, key: ref.key } };
  return undefined;
}

/** A session toward another node (mesh or selector): address family, passive rule, RR client flag. */
function nodePeers(local: NodeBgpInfo, remote: NodeBgpInfo, base: { type: PeerType; source: string; port: number }, extra: Partial<PlannedPeer>): PlannedPeer[] {
  const out: PlannedPeer[] = [];
  const client = local.clusterId !== undefined && remote.clusterId !== local.clusterId;
  const bothV6 = local.address6 !== undefined && remote.address6 !== undefined;
  if (local.address && remote.address) {
    out.push({
      address: hostOf(remote.address), asn: remote.asn, ...base, node: remote.name,
      passive: compareAddresses(local.address, remote.address) > 0, routeReflectorClient: client,
      keepOriginalNextHop: false, families: bothV6 ? ['ipv4', 'ipv6'] : ['ipv4'], ...extra,
    });
  } else if (bothV6) {
    out.push({
      address: hostOf(remote.address6 as string), asn: remote.asn, ...base, node: remote.name,
      passive: compareAddresses(local.address6 as string, remote.address6 as string) > 0, routeReflectorClient: client,
      keepOriginalNextHop: false, families: ['ipv6'], ...extra,
    });
  }
  return out;
}

export function planNodeBgp(snapshot: Snapshot, nodeName: string, defaults: BgpDefaults = {}): NodeBgpPlan {
  const problems: string[] = [];
  const skipped: string[] = [];
  const settings = new Map(objectsOf(snapshot, 'Node').map((n) => [n.metadata.name, clusterSettings(snapshot, n.metadata.name, defaults)]));
  const cluster = settings.get(nodeName) ?? clusterSettings(snapshot, nodeName, defaults);
  const nodes = objectsOf(snapshot, 'Node').map((n) => readNode(n, (settings.get(n.metadata.name) ?? cluster).asn, problems));
  // a node listens on its own listenPort (node.NAME over default): its peers connect there
  const portOf = (n: NodeBgpInfo): number => (settings.get(n.name) ?? cluster).listenPort;
  const me = nodes.find((n) => n.name === nodeName);
  if (!me) return { peers: [], problems: [...problems, `Node ${nodeName} is not in the datastore: no BGP until it is`] };
  if (!me.address && !me.address6) {
    return { peers: [], problems: [...problems, `Node ${nodeName} has no BGP address (annotation margay.io/bgp-ipv4-address or an InternalIP)`] };
  }
  const local = {
    ...me, listenPort: cluster.listenPort, meshEnabled: cluster.meshEnabled, serviceClusterIPs: cluster.serviceClusterIPs,
    ...(cluster.logLevel ? { logLevel: cluster.logLevel } : {}),
  };
  const others = nodes.filter((n) => n.name !== nodeName);

  const explicitSpecific: PlannedPeer[] = [];
  const explicitGlobal: PlannedPeer[] = [];
  const selected: PlannedPeer[] = [];
  for (const bp of objectsOf(snapshot, 'BGPPeer')) {
    const where = `BGPPeer ${bp.metadata.name}`;
    const spec = specOf(bp);
    const source = where;
    const nodeSel = selectorOf(spec.nodeSelector, `${where}: nodeSelector`, problems);
    const targets = (n: NodeBgpInfo): boolean => typeof spec.node === 'string' ? spec.node === n.name
      : spec.nodeSelector !== undefined ? nodeSel !== undefined && matchSelector(nodeSel, n.labels) : true;
    const password = passwordOf(spec);
    const maxRestart = typeof spec.maxRestartTime === 'string' ? parseDuration(spec.maxRestartTime) : undefined;
    if (typeof spec.maxRestartTime === 'string' && maxRestart === undefined) problems.push(`${where}: maxRestartTime "${spec.maxRestartTime}" is not a duration`);
    // TYPE: a session between two nodes either of which reflects is 'route reflector',
    // whichever form named it (peerSelector or peerIP); else node-specific when the
    // BGPPeer picks nodes (node, nodeSelector), else global
    const specific = typeof spec.node === 'string' || spec.nodeSelector !== undefined;
    const typeOf = (peerNode: NodeBgpInfo | undefined): PeerType =>
      peerNode && (peerNode.clusterId !== undefined || me.clusterId !== undefined) ? 'route reflector' : specific ? 'node-specific' : 'global';
    const extra: Partial<PlannedPeer> = {
      keepOriginalNextHop: spec.keepOriginalNextHop === true,
      ...(password ? { password } : {}), ...(maxRestart !== undefined ? { maxRestartTime: maxRestart } : {}),
    };
    if (typeof spec.peerSelector === 'string') {
      const peerSel = selectorOf(spec.peerSelector, `${where}: peerSelector`, problems);
      if (!peerSel) continue;
      const want = new Map<string, NodeBgpInfo>();
      if (targets(me)) for (const n of others) if (matchSelector(peerSel, n.labels)) want.set(n.name, n);
      if (matchSelector(peerSel, me.labels)) for (const n of others) if (targets(n)) want.set(n.name, n);
      for (const n of want.values()) {
        selected.push(...nodePeers(me, n, { type: typeOf(n), source, port: portOf(n) }, extra));
      }
      continue;
    }
    if (!targets(me)) continue;
    const asn = parseAsn(spec.asNumber);
    if (typeof spec.peerIP !== 'string' || asn === undefined) {
      problems.push(`${where}: needs peerIP and asNumber (or peerSelector)`);
      continue;
    }
    // node addresses are canonical (parseAddressPrefix): fd30:0:0::12, FD30::12 and fd30::12 are one peer
    const parsed = parsePeerIP(spec.peerIP);
    if (parsed === undefined) {
      problems.push(`${where}: peerIP "${spec.peerIP}" is not an IP address or IPv4:port / [IPv6]:port`);
      continue;
    }
    const peerIP = parsed.address;
    if ((me.address && hostOf(me.address) === peerIP) || (me.address6 && hostOf(me.address6) === peerIP)) {
      // as Calico: a peer at the node's own address (a global BGPPeer to a reflector, on the reflector) is no session
      skipped.push(`${where}: peerIP ${peerIP} is this node's own address`);
      continue;
    }
    const peerNode = others.find((n) => (n.address && hostOf(n.address) === peerIP) || (n.address6 && hostOf(n.address6) === peerIP));
    const peer: PlannedPeer = {
      address: peerIP, asn, type: typeOf(peerNode), source, port: parsed.port ?? DEFAULT_LISTEN_PORT,
      passive: false, routeReflectorClient: false, keepOriginalNextHop: false,
      families: peerIP.includes(':') ? ['ipv6'] : ['ipv4'], ...extra,
    };
    if (peerNode) {
      // a BGPPeer naming another node's address is a node-to-node session: same passive rule and port
      const mine = peerIP.includes(':') ? me.address6 : me.address;
      if (mine) peer.passive = compareAddresses(mine, peerIP) > 0;
      peer.node = peerNode.name;
      // as Calico: the port in peerIP, else that node's listenPort
      peer.port = parsed.port ?? portOf(peerNode);
      peer.routeReflectorClient = me.clusterId !== undefined && peerNode.clusterId !== me.clusterId;
    }
    (specific ? explicitSpecific : explicitGlobal).push(peer);
  }
  const mesh: PlannedPeer[] = [];
  if (cluster.meshEnabled) {
    const extra = cluster.meshMaxRestartTime !== undefined ? { maxRestartTime: cluster.meshMaxRestartTime } : {};
    for (const n of others) mesh.push(...nodePeers(me, n, { type: 'node-to-node mesh', source: 'mesh', port: portOf(n) }, extra));
  }
  const peers: PlannedPeer[] = [];
  const seen = new Set<string>();
  for (const p of [...explicitSpecific, ...explicitGlobal, ...selected, ...mesh]) {
    if (seen.has(p.address)) continue;
    seen.add(p.address);
    peers.push(p);
  }
  peers.sort((a, b) => compareAddresses(a.address, b.address));
  return { local, peers, problems, ...(skipped.length > 0 ? { skipped } : {}) };
}

/** Every node's BGP info (the agent maps learned next hops to nodes with it). */
export function readNodes(snapshot: Snapshot, defaults: BgpDefaults = {}): NodeBgpInfo[] {
  const sink: string[] = [];
  return objectsOf(snapshot, 'Node').map((n) => readNode(n, clusterSettings(snapshot, n.metadata.name, defaults).asn, sink));
}

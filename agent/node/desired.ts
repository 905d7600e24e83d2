/**
 * Pure translations from what the agent knows (a datastore snapshot, IPAM records,
 * the speaker's best routes) to what its writers want: IPPools for IPAM and the
 * dataplane, the dataplane's input, originated prefixes, and the policy compiler's
 * pod/namespace snapshot.
 *
 * Pod addresses (documented in docs/agent.md): for a pod running on this node with
 * IPAM handles here, the addresses IPAM handed to it (handle records name the pod
 * from the CNI ADD's K8S_POD_NAMESPACE / K8S_POD_NAME), even over `status.podIPs`
 * (stale after a sandbox re-creation); for other pods `status.podIPs` when the Pod
 * object has them (the kubernetes datastore: the kubelet writes them), otherwise
 * the handles' addresses — which is how the file datastore's pods get theirs. A
 * local pod's host interface is the CNI plugin's deterministic name
 * for the handle's container ID and interface. A pod that margay's CNI wired but
 * that has no Pod object is still known to policy (no labels) so that it gets its
 * chains instead of falling to the fail-closed default.
 *
 * One step beyond translation: `allocateTunnels` runs the tunnel-address requests
 * through an injected IPAM assign (the agent passes Ipam.assign).
 */
import type { Snapshot } from '../datastore/snapshot.js';
import { objectsOf } from '../datastore/snapshot.js';
import type { Resource } from '../datastore/resources.js';
import type { DataplaneConfig, DataplaneInput, ExternalRouteSpec, NodeSpec, PoolSpec, EncapMode } from '../dataplane/plan/types.js';
import type { AssignRequest } from '../ipam/allocator.js';
import type { Encap } from '../ipam/pool.js';
import { IpamError } from '../ipam/errors.js';
import type { Assignment, Block, Handle, IpPool } from '../ipam/types.js';
import { ifNameOfHandle } from '../ipam/handle.js';
import { ANNOTATIONS, type NodeBgpInfo } from '../node-config/types.js';
import { canonicalAddress, hostOf } from '../node-config/node-info.js';
import { prefixContains } from '../dataplane/netlink/ip.js';
import { lentFrom } from './borrowed.js';
import { podFromObjectCached, namespaceFromObjectCached, type PodInfo, type Snapshot as PolicySnapshot } from '../../policy/model/snapshot.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const mode = (v: unknown): EncapMode => (v === 'Always' || v === 'CrossSubnet' ? v : 'Never');

/**
 * The snapshot with this node's BGP address set from the `--node-address` flag when
 * its Node object has no `margay.io/bgp-ipv4-address` annotation (the flag never
 * overrides what the cluster says).
 */
export function withNodeAddress(snapshot: Snapshot, node: string, address: string | undefined): Snapshot {
  const nodes = snapshot.objects.get('Node');
  const n = nodes?.get(node);
  if (!address || !nodes || !n || n.metadata.annotations?.[ANNOTATIONS.ipv4Address] !== undefined) return snapshot;
  // the same patched map for the same Node map: later snapshots of other kinds keep the Node
  // kind's identity, so routing (routing-key.ts) and the policy caches see no change
  const memo = patchedNodes.get(nodes);
  let map = memo?.node === node && memo.address === address ? memo.map : undefined;
  if (!map) {
    const patched: Resource = { ...n, metadata: { ...n.metadata, annotations: { ...(n.metadata.annotations ?? {}), [ANNOTATIONS.ipv4Address]: address } } };
    map = new Map([...nodes].map(([k, v]) => [k, k === node ? patched : v]));
    patchedNodes.set(nodes, { node, address, map });
  }
  const objects = new Map(snapshot.objects);
  objects.set('Node', map);
  return { revision: snapshot.revision, objects };
}

const patchedNodes = new WeakMap<ReadonlyMap<string, Resource>, { node: string; address: string; map: Map<string, Resource> }>();

/** IPPool objects → the IPAM allocator's pools (with creationTimestamp: of two overlapping pools the older serves). */
export function ipamPoolsOf(snapshot: Snapshot): IpPool[] {
  return objectsOf(snapshot, 'IPPool').map((r) => {
    const created = (r.metadata as { creationTimestamp?: unknown }).creationTimestamp; // set by the API server
    return { name: r.metadata.name, spec: (isObj(r.spec) ? r.spec : {}) as unknown as IpPool['spec'], ...(typeof created === 'string' ? { creationTimestamp: created } : {}) };
  });
}

/**
 * What the node accepts from BGP peers that are not cluster nodes (top-of-rack
 * routers, route servers): only prefixes inside an IPPool, so that a router's
 * default route or full table never displaces the node's own routing.
 */
export function externalImportPrefixes(snapshot: Snapshot): string[] {
  return ipamPoolsOf(snapshot).map((p) => p.spec.cidr).filter((c): c is string => typeof c === 'string' && c.includes('/'));
}

/** IPPool objects → the dataplane's pool view. */
export function dataplanePoolsOf(snapshot: Snapshot): PoolSpec[] {
  const out: PoolSpec[] = [];
  for (const r of objectsOf(snapshot, 'IPPool')) {
    const s = isObj(r.spec) ? r.spec : {};
    if (typeof s.cidr !== 'string') continue;
    out.push({ cidr: s.cidr, ipipMode: mode(s.ipipMode), vxlanMode: mode(s.vxlanMode), natOutgoing: s.natOutgoing === true, ...(s.disabled === true ? { disabled: true } : {}) });
  }
  return out;
}

export const affinityOf = (node: string): string => `host:${node}`;

/**
 * Each node's tunnel device addresses — VXLAN (`vxlan.margay`) and IPIP (`tunl0`),
 * Calico's ipv4VXLANTunnelAddr / ipv4IPIPTunnelAddr — are ordinary IPv4 IPAM
 * allocations under these handles, one per kind, from a pool with that
 * encapsulation on (so the block's tunnelled route covers the address); every agent
 * reads the others' from the IPAM records, in both datastores. Never released while
 * valid (the leak collector keeps them too): an address that no enabled IPv4 pool with
 * that encapsulation on covers any more (its pool switched the mode to Never, was
 * disabled or deleted) while such a pool exists is stale — other nodes would route
 * to it through a tunnel, but no tunnelled route covers it, so the node's own
 * traffic to remote pods would leave with a source nothing routes back — and is
 * released and asked for again (`staleTunnels`), as Calico's tunnel address
 * allocator does. A kind no pool wants any more keeps its address: nothing to move
 * it to, and no device uses it.
 */
export type TunnelKind = Encap;
export const TUNNEL_KINDS: readonly TunnelKind[] = ['vxlan', 'ipip'];
export const tunnelHandle = (kind: TunnelKind, node: string): string => `${kind}-tunnel-addr-${node}`;
export const tunnelHandles = (node: string): string[] => TUNNEL_KINDS.map((k) => tunnelHandle(k, node));

/** One node's tunnel device addresses by kind. */
export type NodeTunnels = Partial<Record<TunnelKind, string>>;

export function tunnelAddresses(handles: readonly Handle[]): Map<string, NodeTunnels> {
  const out = new Map<string, NodeTunnels>();
  for (const h of handles) {
    const kind = TUNNEL_KINDS.find((k) => h.handle === tunnelHandle(k, h.attrs.node));
    const v4 = h.addresses.find((a) => a.family === 4);
    if (kind && v4) out.set(h.attrs.node, { ...out.get(h.attrs.node), [kind]: v4.address });
  }
  return out;
}

/**
 * The tunnel devices the enabled IPv4 pools want (mode Always or CrossSubnet): the
 * node then needs that tunnel address. IPv6 pools need none (VXLAN's IPv6 next hops
 * are the VTEPs' link-local addresses; IPIP carries IPv4 only), and a cluster with
 * only IPv6 pools may have no IPv4 pool to allocate one from. A pool with both modes
 * on uses VXLAN (as the dataplane plans it).
 */
export function wantedTunnels(pools: readonly PoolSpec[]): TunnelKind[] {
  const v4 = pools.filter((p) => !p.disabled && !p.cidr.includes(':'));
  return TUNNEL_KINDS.filter((k) => v4.some((p) => (k === 'vxlan' ? p.vxlanMode !== 'Never' : p.ipipMode !== 'Never' && p.vxlanMode === 'Never')));
}

/** Whether an enabled IPv4 pool with `kind` on (Always or CrossSubnet) holds `address`. */
function tunnelPoolCovers(pools: readonly PoolSpec[], kind: TunnelKind, address: string): boolean {
  return pools.some((p) => {
    if (p.disabled || p.cidr.includes(':') || (kind === 'vxlan' ? p.vxlanMode : p.ipipMode) === 'Never') return false;
    try {
      return prefixContains(p.cidr, address);
    } catch {
      return false; // a pool or address that does not parse covers nothing
    }
  });
}

/** A tunnel address the node holds that is to be released and asked for again. */
export interface StaleTunnel { kind: TunnelKind; handle: string; address: string }

/** The node's tunnel addresses of a kind the pools want that no enabled pool with that encapsulation covers. */
export function staleTunnels(pools: readonly PoolSpec[], node: string, have: NodeTunnels | undefined): StaleTunnel[] {
  const out: StaleTunnel[] = [];
  for (const kind of wantedTunnels(pools)) {
    const address = have?.[kind];
    if (address !== undefined && !tunnelPoolCovers(pools, kind, address)) out.push({ kind, handle: tunnelHandle(kind, node), address });
  }
  return out;
}

/**
 * The IPAM requests for the tunnel addresses the pools want and the node lacks or
 * holds stale (`staleTunnels`: release those first): one IPv4 address each, from a
 * pool with that encapsulation.
 */
export function tunnelRequests(pools: readonly PoolSpec[], node: string, have: NodeTunnels | undefined): AssignRequest[] {
  const stale = new Set(staleTunnels(pools, node, have).map((s) => s.kind));
  return wantedTunnels(pools).filter((k) => have?.[k] === undefined || stale.has(k)).map((k): AssignRequest => ({ handle: tunnelHandle(k, node), families: [4], encap: k }));
}

/** `released`: the stale address(es) freed before this one was asked for. */
export type TunnelOutcome = { kind: TunnelKind; addresses: string[]; released?: string[] } | { kind: TunnelKind; skipped: string; released?: string[] };

/**
 * Asks IPAM (`assign`: Ipam.assign) for each tunnel address of `tunnelRequests`,
 * after releasing (`release`: Ipam.release) the handle of a stale one — assign
 * returns what a handle holds, so the old address has to go first. Without
 * `release`, stale addresses are left as they are (asking would only get them back,
 * every pass). A kind no pool selecting this node has (IPAM's no-pool) is skipped,
 * not an error: the pass goes on without that address. Other IPAM errors are thrown
 * (a released stale address is then asked for again next pass, as a missing one).
 */
export async function allocateTunnels(
  assign: (req: AssignRequest) => Promise<readonly Assignment[]>, pools: readonly PoolSpec[], node: string, have: NodeTunnels | undefined,
  release?: (handle: string) => Promise<readonly string[]>,
): Promise<TunnelOutcome[]> {
  const out: TunnelOutcome[] = [];
  const stale = new Map(staleTunnels(pools, node, have).map((s) => [s.kind, s]));
  for (const req of tunnelRequests(pools, node, have)) {
    const kind = req.encap as TunnelKind;
    const old = stale.get(kind);
    if (old && !release) continue;
    const released = old && release ? [...await release(old.handle)] : undefined;
    const was = released ? { released } : {};
    try {
      out.push({ kind, addresses: (await assign(req)).map((a) => a.address), ...was });
    } catch (err) {
      if (!(err instanceof IpamError && err.reason === 'no-pool')) throw err;
      out.push({ kind, skipped: err.message, ...was });
    }
  }
  return out;
}

/** The blocks this node holds (affinity), sorted. */
export function ownBlocks(blocks: readonly Block[], node: string): Block[] {
  return blocks.filter((b) => b.affinity === affinityOf(node)).sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
}

/**
 * Prefixes this node originates: its blocks, then the host routes of the addresses it
 * holds in blocks not its own (`heldHere`, borrowed.ts: no block route reaches them),
 * then the service cluster IP ranges.
 */
export function originatedPrefixes(own: readonly Block[], serviceClusterIPs: readonly string[], borrowed: readonly string[] = []): string[] {
  return [...new Set([...own.map((b) => b.cidr), ...borrowed, ...serviceClusterIPs])];
}

export interface RoutesToNodes {
  input: DataplaneInput;
  /**
   * Learned prefixes left with no next hop to program: every next hop is this node
   * itself. (Next hops that are no node go to `input.external`: the dataplane
   * programs those on this node's subnet and reports the others.)
   */
  unmapped: { prefix: string; nextHops: string[] }[];
  /**
   * Learned prefixes equal to or inside one of this node's own blocks, not programmed:
   * the own blocks are authoritative (a ToR's /32 for a local pod would replace the
   * pod's host route with a route back to the ToR — a loop). One exception: a host
   * route for an address the block lends to another node (`lentFrom`, borrowed.ts),
   * every next hop that node's address.
   */
  shadowed: { prefix: string; nextHops: string[]; block: string }[];
}

/**
 * The dataplane's input: own blocks (blackholes) from IPAM, remote blocks from the
 * speaker's best routes — each next hop mapped to the node with that address (the
 * dataplane decides direct / VXLAN / IPIP from the pool and the subnets); next hops
 * that are no node (a router's: a top-of-rack switch with next-hop-self) become
 * external routes, programmed via that router when it is on this node's subnet. A
 * prefix with both kinds of next hop gets both (one ECMP route).
 */
export function dataplaneInputOf(a: {
  node: string; nodes: readonly NodeBgpInfo[]; pools: PoolSpec[]; own: readonly Block[];
  learned: ReadonlyMap<string, readonly string[]>; config: DataplaneConfig;
  /** tunnel device addresses by node (from IPAM); a Node annotation wins for VXLAN */
  tunnels?: ReadonlyMap<string, NodeTunnels>;
}): RoutesToNodes {
  const byAddress = new Map<string, string>();
  const nodes: NodeSpec[] = [];
  for (const n of a.nodes) {
    // keyed canonically: next hops from the speaker are canonical (fd00:10::2), a node's address may be written otherwise
    for (const addr of [n.address, n.address6]) if (addr) byAddress.set(canonicalAddress(hostOf(addr)) ?? hostOf(addr), n.name);
    if (!n.address && !n.address6) continue;
    const t = a.tunnels?.get(n.name);
    const vx = n.vxlanTunnelAddress ?? t?.vxlan;
    nodes.push({
      name: n.name, ...(n.address ? { address: n.address } : {}), ...(n.address6 ? { address6: n.address6 } : {}),
      ...(vx ? { vxlanTunnelAddress: vx } : {}), ...(t?.ipip ? { ipipTunnelAddress: t.ipip } : {}),
    });
  }
  const blocks = a.own.map((b) => ({ cidr: b.cidr, node: a.node }));
  const ownSet = new Set(a.own.map((b) => b.cidr));
  const ownPrefixes = a.own.map((b) => ({ cidr: b.cidr, v6: b.cidr.includes(':'), length: Number(b.cidr.slice(b.cidr.indexOf('/') + 1)) }));
  const covering = (prefix: string): string | undefined => {
    const v6 = prefix.includes(':');
    const length = Number(prefix.slice(prefix.indexOf('/') + 1));
    try {
      return ownPrefixes.find((o) => o.v6 === v6 && length >= o.length && prefixContains(o.cidr, prefix))?.cidr;
    } catch {
      return undefined; // a prefix that does not parse covers nothing; the plan reports it
    }
  };
  // host routes for addresses own blocks lend to other nodes (borrowed there): prefix → holder, made when first asked
  let lent: Map<string, string> | undefined;
  const lentTo = (prefix: string, hops: readonly string[]): boolean => {
    lent ??= new Map(a.own.flatMap(lentFrom).map((x) => [x.prefix, x.node]));
    const holder = lent.size === 0 ? undefined : lent.get(canonicalHostPrefix(prefix));
    return holder !== undefined && holder !== a.node && hops.every((h) => byAddress.get(h) === holder);
  };
  const unmapped: RoutesToNodes['unmapped'] = [];
  const shadowed: RoutesToNodes['shadowed'] = [];
  const external: ExternalRouteSpec[] = [];
  for (const [prefix, hops] of [...a.learned].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (ownSet.has(prefix) || hops.length === 0) continue;
    const block = covering(prefix);
    if (block !== undefined && !lentTo(prefix, hops)) { shadowed.push({ prefix, nextHops: [...hops], block }); continue; }
    const owners = [...new Set(hops.map((h) => byAddress.get(h)).filter((n): n is string => n !== undefined && n !== a.node))];
    const routers = [...new Set(hops.filter((h) => !byAddress.has(h)))];
    if (owners.length === 0 && routers.length === 0) { unmapped.push({ prefix, nextHops: [...hops] }); continue; }
    for (const o of owners) blocks.push({ cidr: prefix, node: o });
    if (routers.length > 0) external.push({ cidr: prefix, nextHops: routers });
  }
  return { input: { localNode: a.node, nodes, blocks, ...(external.length > 0 ? { external } : {}), pools: a.pools, config: a.config }, unmapped, shadowed };
}

/** A host route's prefix written as `lentFrom` writes it (canonical address); anything else as is (it matches no host route). */
function canonicalHostPrefix(prefix: string): string {
  const slash = prefix.indexOf('/');
  const len = prefix.slice(slash + 1);
  if (slash < 0 || (len !== '32' && len !== '128')) return prefix;
  return `${canonicalAddress(prefix.slice(0, slash)) ?? prefix.slice(0, slash)}/${len}`;
}

export interface PolicyInput {
  snapshot: PolicySnapshot;
  policies: Resource[];
  /** local pods and their interfaces (for status) */
  localPods: { namespace: string; name: string; interface?: string; ips: string[] }[];
}

/**
 * The compiler's snapshot. `hostIf(containerId, ifName)` is the CNI plugin's
 * naming rule (injected to keep this module free of node:crypto).
 */
/**
 * Pods and namespaces are read through the per-object caches (an unchanged object of
 * the snapshot is not parsed again); the result's pods without handles are those
 * cached values, shared between passes (read-only).
 *
 * `links`: the names of this node's interfaces when known. A pod with several handles
 * here (a leaked one of an earlier sandbox whose DEL never ran) then takes only the
 * handles whose veth exists: the live sandbox's interface and addresses, not a gone
 * veth's (its traffic would count as an unknown interface's until leak GC ran).
 */
export function policyInputOf(snapshot: Snapshot, handles: readonly Handle[], node: string, hostIf: (containerId: string, ifName: string) => string, links?: ReadonlySet<string>): PolicyInput {
  const byPod = new Map<string, Handle[]>();
  for (const h of handles) {
    if (!h.attrs.pod) continue;
    const k = `${h.attrs.pod.namespace}/${h.attrs.pod.name}`;
    byPod.set(k, [...(byPod.get(k) ?? []), h]);
  }
  const addressesOf = (hs: readonly Handle[]): string[] => [...new Set(hs.flatMap((h) => h.addresses.map((x) => x.address)))];
  const fill = (pod: PodInfo, hs: readonly Handle[]): PodInfo => {
    // no handle, or only other nodes' while the pod has its node and addresses: the
    // pod as read (a shared, cached value: never changed here)
    const mine = hs.filter((h) => h.attrs.node === node);
    if (hs.length === 0 || (mine.length === 0 && pod.node !== undefined && pod.ips.length > 0)) return pod;
    const p = { ...pod };
    if (p.node === undefined && hs[0]) p.node = hs[0].attrs.node;
    // A pod that runs here with handles here: the addresses this node's IPAM gave it
    // win over status.podIPs (Calico too takes a pod's address from its CNI). A
    // re-created sandbox gets a new address before the kubelet rewrites the status;
    // the stale one would make anti-spoofing drop all the pod's traffic and keep the
    // released address in peer sets for the next pod given it. Handles on other nodes
    // are not this pod's (a name reused after it moved). A leaked handle of an earlier
    // sandbox here (DEL never ran) adds its address until leak GC releases it.
    const veth = (h: Handle): string | undefined => (h.attrs.containerId !== undefined ? hostIf(h.attrs.containerId, ifNameOfHandle(h.handle, h.attrs.containerId)) : undefined);
    const alive = links ? mine.filter((h) => { const v = veth(h); return v !== undefined && links.has(v); }) : [];
    const ours = alive.length > 0 ? alive : mine;
    const here = p.node === node ? ours.filter((h) => h.addresses.length > 0) : [];
    // Everyone else keeps status.podIPs, then any handle's addresses when it has none
    // (the file datastore's pods; local pods wired before IPAM records). Every node's
    // handles arrive here with both datastores, but a remote pod's address only puts
    // it in peer sets (no anti-spoofing, no interface), and this node cannot tell a
    // remote live handle from a leaked one (only that node's GC sees its veths) while
    // the status is the pod's own kubelet's word. A remote status lagging a re-created
    // sandbox lasts until the kubelet's status sync: the new address is missing from
    // peer sets (fail closed) and the old one lingers in them (IPAM gives the lowest
    // free address, so a pod given it meanwhile is this pod's peer for that window).
    if (here.length > 0) p.ips = addressesOf(here);
    else if (p.ips.length === 0) p.ips = addressesOf(hs);
    const local = ours.find((h) => h.attrs.containerId !== undefined);
    // the name the CNI plugin gave the veth wins over a pod's own annotation (a pod
    // must not name another pod's veth); the annotation serves pods without a handle here
    if (p.node === node && local) p.interface = veth(local);
    return p;
  };
  const pods: PodInfo[] = [];
  const seen = new Set<string>();
  for (const r of objectsOf(snapshot, 'Pod')) {
    const k = `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;
    seen.add(k);
    pods.push(fill(podFromObjectCached(r), byPod.get(k) ?? []));
  }
  for (const [k, hs] of byPod) {
    if (seen.has(k)) continue;
    const [namespace, name] = k.split('/') as [string, string];
    pods.push(fill({ namespace, name, labels: {}, ips: [], hostNetwork: false, phase: 'Running', terminating: false, ports: [] }, hs));
  }
  const localPods = pods.filter((p) => p.node === node).map((p) => ({ namespace: p.namespace, name: p.name, ips: p.ips, ...(p.interface ? { interface: p.interface } : {}) }));
  return {
    snapshot: { pods, namespaces: objectsOf(snapshot, 'Namespace').map(namespaceFromObjectCached) },
    policies: objectsOf(snapshot, 'NetworkPolicy'),
    localPods,
  };
}

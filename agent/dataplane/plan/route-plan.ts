/**
 * The desired dataplane of one node, as a pure function of IPAM blocks, nodes and
 * pools:
 * - own blocks → blackhole (pod /32s, more specific, carry the real traffic);
 * - remote blocks → via the owning node: over VXLAN (onlink via the remote VTEP
 *   address) or IPIP (onlink via the remote node address through tunl0) when the
 *   block's pool says Always, or CrossSubnet and the node is on another subnet;
 *   otherwise directly via the node when it is on the local subnet; otherwise left
 *   to the fabric (no kernel route) — which, with encapsulation Never and a fabric
 *   that knows nothing of pods, means no path;
 * - remote IPv6 blocks → likewise, with VXLAN over the same IPv4-underlay device via
 *   the owner's VTEP link-local address (the kernel has no IPv4 gateway for IPv6
 *   routes); direct over the nodes' IPv6 addresses; never IPIP (IPv4 only);
 * - several owners of one block → one multipath (ECMP) route;
 * - learned routes whose next hop is no node (a router: a top-of-rack switch with
 *   next-hop-self, or a prefix it originates) → plainly via that next hop on the
 *   uplink when it lies on this node's own subnet (directly connected, so no onlink);
 *   a next hop elsewhere is reported, not guessed at (no recursive resolution).
 *   Node and router next hops of one prefix merge into one ECMP route.
 */
import { bytesToIp, canonicalPrefix, familyOf, ipToBytes, prefixContains, prefixCovers } from '../netlink/ip.js';
import type {
  DataplaneConfig, DataplaneInput, DataplanePlan, DesiredNextHop, DesiredRoute, EncapMode, ExternalRouteSpec, IpipPlan, NodeSpec, PoolSpec, VxlanPeer, VxlanPlan,
} from './types.js';
import { vtepLinkLocal, vtepMac } from './vtep.js';

export const VXLAN_OVERHEAD = 50;
/** outer IPv6 header is 20 bytes longer than IPv4's */
export const VXLAN6_OVERHEAD = 70;
export const IPIP_OVERHEAD = 20;

const hostOf = (addr: string): string => addr.split('/')[0] ?? addr;
const wants = (mode: EncapMode, sameSubnet: boolean): boolean => mode === 'Always' || (mode === 'CrossSubnet' && !sameSubnet);

export function poolOf(pools: readonly PoolSpec[], cidr: string): PoolSpec | undefined {
  return pools.find((p) => prefixCovers(p.cidr, cidr));
}

/** Whether `remote` is on the local node's IPv4 subnet (its address inside the local prefix). */
export const onSameSubnet = (local: NodeSpec, remote: NodeSpec): boolean =>
  local.address !== undefined && remote.address !== undefined && prefixContains(local.address, hostOf(remote.address));
const canonicalIp = (a: string): string => bytesToIp(ipToBytes(a));

const nhKey = (n: DesiredNextHop): string => `${n.gateway ?? ''}|${n.dev ?? ''}|${n.onlink}|${n.weight}`;

type Remote = Map<string, { hops: Map<string, DesiredNextHop>; reasons: string[] }>;

function addHop(remote: Remote, dst: string, hop: DesiredNextHop, reason: string): void {
  const entry = remote.get(dst) ?? { hops: new Map<string, DesiredNextHop>(), reasons: [] as string[] };
  entry.hops.set(nhKey(hop), hop);
  entry.reasons.push(reason);
  remote.set(dst, entry);
}

/**
 * A learned route via routers that are no node: each next hop on the local node's
 * subnet of its family becomes a plain hop on the uplink; any other is a problem.
 */
function planExternal(e: ExternalRouteSpec, local: NodeSpec, config: DataplaneConfig, remote: Remote, problems: string[]): void {
  const dst = canonicalPrefix(e.cidr);
  const v6 = familyOf(dst.split('/')[0] ?? '') === 6;
  const localAddr = v6 ? local.address6 : local.address;
  for (const raw of [...new Set(e.nextHops)].sort()) {
    const gw = hostOf(raw);
    const what = `route ${dst} via ${gw}`;
    if ((familyOf(gw) === 6) !== v6) problems.push(`${what}: an IPv${v6 ? 4 : 6} next hop for an IPv${v6 ? 6 : 4} prefix is not supported; not programmed`);
    else if (localAddr === undefined) problems.push(`${what}: node ${local.name} has no IPv${v6 ? 6 : 4} address; not programmed`);
    else if (gw === hostOf(localAddr)) problems.push(`${what}: the next hop is this node itself; not programmed`);
    else if (!prefixContains(localAddr, gw)) {
      problems.push(`${what}: next hop is no node of the cluster and not on this node's subnet (${localAddr}), so not directly reachable; not programmed (recursive next hops are not resolved)`);
    } else addHop(remote, dst, { gateway: gw, dev: config.uplink, onlink: false, weight: 1 }, `via router ${gw}`);
  }
}

export function planDataplane(input: DataplaneInput): DataplanePlan {
  const local = input.nodes.find((n) => n.name === input.localNode);
  if (!local) return { routes: [], problems: [`local node ${input.localNode} is not among the nodes`] };
  const problems: string[] = [];
  // Every pool counts, disabled ones too: `disabled` only stops new allocations, and
  // a disabled pool's blocks (pool migration) still route through its tunnel device.
  const anyVxlan = input.pools.some((p) => p.vxlanMode !== 'Never');
  // IPIP carries IPv4 only (IPPool validation rejects ipipMode on an IPv6 pool)
  const anyIpip = input.pools.some((p) => p.ipipMode !== 'Never' && p.vxlanMode === 'Never' && !isV6Pool(p));
  for (const p of input.pools) {
    if (isV6Pool(p) && p.ipipMode !== 'Never') problems.push(`pool ${p.cidr}: IPIP carries IPv4 only; it must use ipipMode Never (treated as Never)`);
  }
  const { routes, problems: routeProblems } = planRoutes(input);
  problems.push(...routeProblems);
  const plan: DataplanePlan = { routes, problems };
  const { config } = input;
  const v6Vxlan = input.pools.some((p) => p.vxlanMode !== 'Never' && isV6Pool(p));
  if (anyVxlan && local.address !== undefined) plan.vxlan = planVxlan(input, local, local.address, v6Vxlan);
  const vxlan6 = v6Vxlan ? planVxlan6(input, local) : undefined;
  if (vxlan6) plan.vxlan6 = vxlan6;
  if (anyIpip) {
    const ipip: IpipPlan = { device: config.ipipDevice, mtu: config.uplinkMtu - IPIP_OVERHEAD };
    if (local.ipipTunnelAddress !== undefined) ipip.address = `${hostOf(local.ipipTunnelAddress)}/32`;
    plan.ipip = ipip;
  }
  return plan;
}

/**
 * The routes alone (no devices): each block's route depends only on the block, its
 * owners, the nodes, the pools and the config — so planning a few blocks gives the
 * routes the whole plan has for them (the route fast path, agent/node/fast-plan.ts).
 */
export function planRoutes(input: DataplaneInput): { routes: DesiredRoute[]; problems: string[] } {
  const problems: string[] = [];
  const { config } = input;
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const local = nodes.get(input.localNode);
  if (!local) return { routes: [], problems: [`local node ${input.localNode} is not among the nodes`] };
  const own: DesiredRoute[] = [];
  const remote: Remote = new Map();
  for (const b of input.blocks) {
    const dst = canonicalPrefix(b.cidr);
    if (b.node === input.localNode) {
      own.push({ dst, type: 'blackhole', nexthops: [], reason: 'own block' });
      continue;
    }
    const owner = nodes.get(b.node);
    if (!owner) {
      problems.push(`block ${dst}: owner node ${b.node} is unknown`);
      continue;
    }
    const pool = poolOf(input.pools, dst);
    const { hop, reason } = familyOf(dst.split('/')[0] ?? '') === 6
      ? planV6Block(dst, local, owner, pool, config, problems)
      : planV4Block(dst, local, owner, pool, config, problems);
    if (hop) addHop(remote, dst, hop, reason);
  }
  for (const e of input.external ?? []) planExternal(e, local, config, remote, problems);
  const ownDsts = new Set(own.map((r) => r.dst));
  const routes = [...own];
  for (const [dst, { hops, reasons }] of remote) {
    if (ownDsts.has(dst)) continue;
    const nexthops = [...hops.values()].sort((a, b) => nhKey(a).localeCompare(nhKey(b)));
    routes.push({ dst, type: 'unicast', nexthops, reason: [...new Set(reasons)].join(', ') });
  }
  routes.sort((a, b) => a.dst.localeCompare(b.dst));
  return { routes, problems };
}

/** The IPv4-underlay device: IPv4 blocks, and IPv6 blocks between nodes that both have IPv4 addresses. */
function planVxlan(input: DataplaneInput, local: NodeSpec, localAddress: string, v6: boolean): VxlanPlan {
  const { config } = input;
  const v: VxlanPlan = {
    device: config.vxlanDevice,
    vni: config.vxlanVni,
    port: config.vxlanPort,
    mtu: config.uplinkMtu - VXLAN_OVERHEAD,
    mac: local.vxlanMac ?? vtepMac(local.name),
    local: hostOf(localAddress),
    peers: input.nodes
      .filter((n): n is NodeSpec & { address: string } => n.name !== local.name && n.address !== undefined && (n.vxlanTunnelAddress !== undefined || v6))
      .map((n): VxlanPeer => {
        const mac = n.vxlanMac ?? vtepMac(n.name);
        return {
          node: n.name, mac, underlay: hostOf(n.address),
          ...(n.vxlanTunnelAddress !== undefined ? { tunnelAddress: hostOf(n.vxlanTunnelAddress) } : {}),
          ...(v6 ? { tunnelAddress6: vtepLinkLocal(mac) } : {}),
        };
      })
      .sort((a, b) => a.node.localeCompare(b.node)),
  };
  if (local.vxlanTunnelAddress !== undefined) v.address = `${hostOf(local.vxlanTunnelAddress)}/32`;
  return v;
}

/** Whether the IPv4-underlay device joins the two nodes (both have IPv4 addresses). */
const v4Underlay = (a: NodeSpec, b: NodeSpec): boolean => a.address !== undefined && b.address !== undefined;

/**
 * The IPv6-underlay device (Calico's vxlan-v6 in spirit), only for what the IPv4
 * device cannot join: this node or a peer has no IPv4 address. Peers: nodes with
 * IPv6 addresses, FDB dst = their IPv6 address, an IPv6 neighbour per peer (VTEP
 * link-local → MAC); no device address. Absent when no such peer exists.
 */
function planVxlan6(input: DataplaneInput, local: NodeSpec): VxlanPlan | undefined {
  if (local.address6 === undefined) return undefined;
  const { config } = input;
  const peers = input.nodes
    .filter((n): n is NodeSpec & { address6: string } => n.name !== local.name && n.address6 !== undefined && !v4Underlay(local, n))
    .map((n): VxlanPeer => {
      const mac = n.vxlanMac ?? vtepMac(n.name);
      return { node: n.name, mac, underlay: canonicalIp(hostOf(n.address6)), tunnelAddress6: vtepLinkLocal(mac) };
    })
    .sort((a, b) => a.node.localeCompare(b.node));
  if (peers.length === 0 && local.address !== undefined) return undefined;
  return {
    device: config.vxlanDevice6, vni: config.vxlanVni, port: config.vxlanPort, mtu: config.uplinkMtu - VXLAN6_OVERHEAD,
    mac: local.vxlanMac ?? vtepMac(local.name), local: canonicalIp(hostOf(local.address6)), peers,
  };
}

export const isV6Pool = (p: PoolSpec): boolean => familyOf(p.cidr.split('/')[0] ?? '') === 6;

interface BlockHop { hop?: DesiredNextHop; reason: string }

/** An IPv4 remote block: VXLAN, else IPIP, else direct on the subnet, else the fabric (or no path). */
function planV4Block(dst: string, local: NodeSpec, owner: NodeSpec, pool: PoolSpec | undefined, config: DataplaneConfig, problems: string[]): BlockHop {
  if (local.address === undefined || owner.address === undefined) {
    problems.push(`block ${dst}: node ${local.address === undefined ? local.name : owner.name} has no IPv4 address`);
    return { reason: 'no path' };
  }
  const same = prefixContains(local.address, hostOf(owner.address));
  if (pool && wants(pool.vxlanMode, same)) {
    if (owner.vxlanTunnelAddress !== undefined) return { hop: { gateway: hostOf(owner.vxlanTunnelAddress), dev: config.vxlanDevice, onlink: true, weight: 1 }, reason: `vxlan to ${owner.name}` };
    problems.push(`block ${dst}: node ${owner.name} has no VXLAN tunnel address`);
    return { reason: `vxlan to ${owner.name}` };
  }
  if (pool && wants(pool.ipipMode, same)) return { hop: { gateway: hostOf(owner.address), dev: config.ipipDevice, onlink: true, weight: 1 }, reason: `ipip to ${owner.name}` };
  if (same) return { hop: { gateway: hostOf(owner.address), dev: config.uplink, onlink: false, weight: 1 }, reason: `direct to ${owner.name}` };
  return fabricOrNothing(dst, owner, config, problems);
}

/**
 * An IPv6 remote block. Direct when both nodes have IPv6 addresses on one subnet.
 * VXLAN (Always, or CrossSubnet when not direct) rides the IPv4-underlay device:
 * `via <owner's VTEP link-local> dev vxlan.margay` (no IPv6 underlay needed). IPIP
 * carries IPv4 only: a pool asking for it is reported once (planDataplane) and treated as Never.
 */
function planV6Block(dst: string, local: NodeSpec, owner: NodeSpec, pool: PoolSpec | undefined, config: DataplaneConfig, problems: string[]): BlockHop {
  const same = local.address6 !== undefined && owner.address6 !== undefined && prefixContains(local.address6, hostOf(owner.address6));
  if (pool && wants(pool.vxlanMode, same)) {
    const gateway = vtepLinkLocal(owner.vxlanMac ?? vtepMac(owner.name));
    if (v4Underlay(local, owner)) return { hop: { gateway, dev: config.vxlanDevice, onlink: false, weight: 1 }, reason: `vxlan to ${owner.name}` };
    if (local.address6 !== undefined && owner.address6 !== undefined) {
      return { hop: { gateway, dev: config.vxlanDevice6, onlink: false, weight: 1 }, reason: `vxlan to ${owner.name} (IPv6 underlay)` };
    }
    problems.push(`block ${dst}: nodes ${local.name} and ${owner.name} share no underlay address family for VXLAN`);
    return { reason: 'no path' };
  }
  // canonical like the kernel's (fd00:10::2, not FD00:10:0:0::2), or the route would differ on every pass
  if (same) return { hop: { gateway: canonicalIp(hostOf(owner.address6 as string)), dev: config.uplink, onlink: false, weight: 1 }, reason: `direct to ${owner.name}` };
  if (local.address6 === undefined || owner.address6 === undefined) {
    problems.push(`block ${dst}: node ${local.address6 === undefined ? local.name : owner.name} has no IPv6 address`);
    return { reason: 'no path' };
  }
  return fabricOrNothing(dst, owner, config, problems);
}

function fabricOrNothing(dst: string, owner: NodeSpec, config: DataplaneConfig, problems: string[]): BlockHop {
  if (!config.fabricCarriesPodRoutes) problems.push(`block ${dst}: node ${owner.name} is on another subnet and its pool does not encapsulate`);
  return { reason: config.fabricCarriesPodRoutes ? 'left to the fabric' : 'no path' };
}

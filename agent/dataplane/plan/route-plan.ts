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
 * - several owners of one block → one multipath (ECMP) route;
 * - learned routes whose next hop is no node (a router: a top-of-rack switch with
 *   next-hop-self, or a prefix it originates) → plainly via that next hop on the
 *   uplink when it lies on this node's own subnet (directly connected, so no onlink);
 *   a next hop elsewhere is reported, not guessed at (no recursive resolution).
 *   Node and router next hops of one prefix merge into one ECMP route.
 */
import { canonicalPrefix, familyOf, prefixContains, prefixCovers } from '../netlink/ip.js';
import type {
  DataplaneConfig, DataplaneInput, DataplanePlan, DesiredNextHop, DesiredRoute, EncapMode, ExternalRouteSpec, IpipPlan, NodeSpec, PoolSpec, VxlanPlan,
} from './types.js';
import { vtepMac } from './vtep.js';

const VXLAN_OVERHEAD = 50;
const IPIP_OVERHEAD = 20;

const hostOf = (addr: string): string => addr.split('/')[0] ?? addr;
const wants = (mode: EncapMode, sameSubnet: boolean): boolean => mode === 'Always' || (mode === 'CrossSubnet' && !sameSubnet);

export function poolOf(pools: readonly PoolSpec[], cidr: string): PoolSpec | undefined {
  return pools.find((p) => prefixCovers(p.cidr, cidr));
}

/** Whether `remote` is on the local node's IPv4 subnet (its address inside the local prefix). */
export const onSameSubnet = (local: NodeSpec, remote: NodeSpec): boolean => prefixContains(local.address, hostOf(remote.address));

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
  const problems: string[] = [];
  const { config } = input;
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const local = nodes.get(input.localNode);
  if (!local) return { routes: [], problems: [`local node ${input.localNode} is not among the nodes`] };
  const activePools = input.pools.filter((p) => !p.disabled);
  const anyVxlan = activePools.some((p) => p.vxlanMode !== 'Never');
  const anyIpip = activePools.some((p) => p.ipipMode !== 'Never' && p.vxlanMode === 'Never');

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
    const v6 = familyOf(dst.split('/')[0] ?? '') === 6;
    const localAddr = v6 ? local.address6 : local.address;
    const ownerAddr = v6 ? owner.address6 : owner.address;
    if (localAddr === undefined || ownerAddr === undefined) {
      problems.push(`block ${dst}: node ${localAddr === undefined ? local.name : owner.name} has no IPv${v6 ? 6 : 4} address`);
      continue;
    }
    const same = prefixContains(localAddr, hostOf(ownerAddr));
    let hop: DesiredNextHop | undefined;
    let reason: string;
    if (pool && (wants(pool.vxlanMode, same) || wants(pool.ipipMode, same)) && v6) {
      reason = 'no path';
      problems.push(`block ${dst}: IPv6 encapsulation is not supported (pool ${pool.cidr})`);
    } else if (pool && wants(pool.vxlanMode, same)) {
      reason = `vxlan to ${owner.name}`;
      if (owner.vxlanTunnelAddress === undefined) problems.push(`block ${dst}: node ${owner.name} has no VXLAN tunnel address`);
      else hop = { gateway: hostOf(owner.vxlanTunnelAddress), dev: config.vxlanDevice, onlink: true, weight: 1 };
    } else if (pool && wants(pool.ipipMode, same)) {
      reason = `ipip to ${owner.name}`;
      hop = { gateway: hostOf(ownerAddr), dev: config.ipipDevice, onlink: true, weight: 1 };
    } else if (same) {
      reason = `direct to ${owner.name}`;
      hop = { gateway: hostOf(ownerAddr), dev: config.uplink, onlink: false, weight: 1 };
    } else {
      reason = config.fabricCarriesPodRoutes ? 'left to the fabric' : 'no path';
      if (!config.fabricCarriesPodRoutes) problems.push(`block ${dst}: node ${owner.name} is on another subnet and its pool does not encapsulate`);
    }
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

  const plan: DataplanePlan = { routes, problems };
  if (anyVxlan) plan.vxlan = planVxlan(input, local);
  if (anyIpip) {
    const ipip: IpipPlan = { device: config.ipipDevice, mtu: config.uplinkMtu - IPIP_OVERHEAD };
    if (local.ipipTunnelAddress !== undefined) ipip.address = `${hostOf(local.ipipTunnelAddress)}/32`;
    plan.ipip = ipip;
  }
  return plan;
}

function planVxlan(input: DataplaneInput, local: NodeSpec): VxlanPlan {
  const { config } = input;
  const v: VxlanPlan = {
    device: config.vxlanDevice,
    vni: config.vxlanVni,
    port: config.vxlanPort,
    mtu: config.uplinkMtu - VXLAN_OVERHEAD,
    mac: local.vxlanMac ?? vtepMac(local.name),
    local: hostOf(local.address),
    peers: input.nodes
      .filter((n) => n.name !== local.name && n.vxlanTunnelAddress !== undefined)
      .map((n) => ({ node: n.name, mac: n.vxlanMac ?? vtepMac(n.name), underlay: hostOf(n.address), tunnelAddress: hostOf(n.vxlanTunnelAddress as string) }))
      .sort((a, b) => a.node.localeCompare(b.node)),
  };
  if (local.vxlanTunnelAddress !== undefined) v.address = `${hostOf(local.vxlanTunnelAddress)}/32`;
  return v;
}

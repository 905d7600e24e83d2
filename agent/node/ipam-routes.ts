/**
 * Routes to other nodes' blocks from the IPAM records alone (pure), for an agent
 * whose BGP is off (`--bgp off`: an external speaker carries the routes). What it
 * can know without BGP is every block's owner (its affinity `host:<node>`), the
 * nodes' addresses and the pools: so, like Calico's VXLAN route manager, it programs
 * the routes that go through a tunnel — blocks of a pool whose `vxlanMode` (or
 * `ipipMode`, IPv4) is Always, or CrossSubnet toward a node on another subnet. Which
 * those are is the dataplane planner's own decision (`planRoutes`: a route through a
 * tunnel device), so the two never disagree — an IPv6 block judged on the IPv6
 * subnet, this node's address with the kernel's prefix length. Every
 * other remote block (pools in Never mode, CrossSubnet toward the same subnet) is the
 * external speaker's to program; margay writes no route for it. The result has the
 * shape of the speaker's `learned` map (prefix → the owner's address as next hop), so
 * the dataplane planner and the fast path take it unchanged. An address held in a
 * block not its holder's (borrowed.ts) gets a host route to its holder the same way
 * (more specific than its block's route; the block's owner accepts it too).
 */
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import { canonicalPrefix } from '../dataplane/netlink/ip.js';
import { planRoutes } from '../dataplane/plan/route-plan.js';
import { DEFAULT_CONFIG, type DataplaneConfig, type NodeSpec, type PoolSpec } from '../dataplane/plan/types.js';
import type { Block } from '../ipam/types.js';
import type { NodeBgpInfo } from '../node-config/types.js';
import { canonicalAddress, hostOf } from '../node-config/node-info.js';
import { borrowedAddresses } from './borrowed.js';
import { pickUplink, UplinkError } from './uplink.js';

/** The planner's devices for this question only: a route through one of them is tunnelled. */
const CONFIG: DataplaneConfig = { ...DEFAULT_CONFIG, uplink: 'uplink', uplinkMtu: 1500 };
const TUNNEL_DEVICES = new Set([CONFIG.vxlanDevice, CONFIG.vxlanDevice6, CONFIG.ipipDevice]);
/**
 * Stands in for a node's VXLAN tunnel address, which only the gateway of a VXLAN route
 * depends on, never whether there is one: the planner wants it to give the hop.
 */
const ANY_TUNNEL_ADDRESS = '0.0.0.0';

/**
 * `kernel` (the agent's netlink handle) completes this node's own addresses with the
 * kernel's prefix length — as `dataplaneConfigOf` does for the planner (uplink.ts): a
 * bare InternalIP is a /32 and shares a subnet with nobody. Asked only when a pool is
 * in CrossSubnet mode (the only mode that looks at subnets); no device holding the
 * address: the datastore's. `uplink`: the `--uplink` flag.
 */
export function ipamEncapRoutes(a: {
  node: string; blocks: readonly Block[]; pools: readonly PoolSpec[]; nodes: readonly NodeBgpInfo[];
  kernel?: Pick<Rtnl, 'links' | 'addrs'> | undefined; uplink?: string | undefined;
}): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const byName = new Map(a.nodes.map((n) => [n.name, n]));
  const local = byName.get(a.node);
  if (!local) return out;
  const crossSubnet = a.pools.some((p) => p.vxlanMode === 'CrossSubnet' || p.ipipMode === 'CrossSubnet');
  const me = crossSubnet && a.kernel ? completed(local, a.kernel, a.uplink) : local;
  const nodes = a.nodes.map((n): NodeSpec => {
    const x = n.name === a.node ? me : n;
    return { name: x.name, ...(x.address ? { address: x.address } : {}), ...(x.address6 ? { address6: x.address6 } : {}), vxlanTunnelAddress: ANY_TUNNEL_ADDRESS };
  });
  /** The prefixes (each held by one node) whose route the dataplane planner sends through a tunnel. */
  const tunnelled = (held: readonly { cidr: string; node: string }[]): Set<string> => {
    const blocks = held.filter((h) => h.node !== a.node && byName.has(h.node));
    if (blocks.length === 0) return new Set();
    const { routes } = planRoutes({ localNode: a.node, nodes, blocks, pools: [...a.pools], config: CONFIG });
    return new Set(routes.filter((r) => r.nexthops.some((h) => h.dev !== undefined && TUNNEL_DEVICES.has(h.dev))).map((r) => r.dst));
  };
  /** the owner's address names the owner (dataplaneInputOf maps it back to the node); the plan picks the device */
  const hopTo = (cidr: string, holder: string): string | undefined => {
    const owner = byName.get(holder);
    const hop = !owner ? undefined : cidr.includes(':') ? owner.address6 ?? owner.address : owner.address ?? owner.address6;
    // canonical, as the speaker's next hops are (dataplaneInputOf keys nodes by canonical address)
    return hop ? canonicalAddress(hostOf(hop)) ?? hostOf(hop) : undefined;
  };
  const sorted = [...a.blocks].sort((x, y) => (x.cidr < y.cidr ? -1 : x.cidr > y.cidr ? 1 : 0));
  const owned = sorted.flatMap((b) => (b.affinity?.startsWith('host:') ? [{ cidr: b.cidr, node: b.affinity.slice('host:'.length) }] : []));
  // addresses held in blocks not their holder's (borrowed.ts): a host route to the holder, as its speaker would originate
  const borrowed = borrowedAddresses(sorted).map((x) => ({ cidr: x.prefix, node: x.node }));
  // planned apart: a borrowed /32 may equal a /32 block's prefix, and the holder's route wins
  for (const held of [owned, borrowed]) {
    const through = tunnelled(held);
    for (const h of held) {
      const hop = through.has(canonicalPrefix(h.cidr)) ? hopTo(h.cidr, h.node) : undefined;
      if (hop) out.set(h.cidr, [hop]);
    }
  }
  return out;
}

/** The node with its addresses as the kernel holds them (with their prefix length), as dataplaneConfigOf completes them. */
function completed(me: NodeBgpInfo, kernel: Pick<Rtnl, 'links' | 'addrs'>, uplink: string | undefined): NodeBgpInfo {
  try {
    const { mine, mine6 } = pickUplink(me.name, uplink, me, {
      links: kernel.links(), addrs4: me.address !== undefined ? kernel.addrs(4) : [], addrs6: me.address6 !== undefined ? kernel.addrs(6) : [],
    });
    return { ...me, ...(mine ? { address: mine.address } : {}), ...(mine6 ? { address6: mine6.address } : {}) };
  } catch (err) {
    if (err instanceof UplinkError) return me; // no device holds it: the routes pass reports that
    throw err;
  }
}

/** Prefixes whose entry differs between two such maps (added, changed or gone). */
export function changedPrefixes(before: ReadonlyMap<string, readonly string[]>, after: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [p, hops] of after) {
    const old = before.get(p);
    if (!old || old.length !== hops.length || old.some((h, i) => h !== hops[i])) out.push(p);
  }
  for (const p of before.keys()) if (!after.has(p)) out.push(p);
  return out;
}

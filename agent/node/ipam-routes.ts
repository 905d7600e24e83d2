/**
 * Routes to other nodes' blocks from the IPAM records alone (pure), for an agent
 * whose BGP is off (`--bgp off`: an external speaker carries the routes). What it
 * can know without BGP is every block's owner (its affinity `host:<node>`), the
 * nodes' addresses and the pools: so, like Calico's VXLAN route manager, it programs
 * the routes that go through a tunnel — blocks of a pool whose `vxlanMode` (or
 * `ipipMode`, IPv4) is Always, or CrossSubnet toward a node on another subnet. Every
 * other remote block (pools in Never mode, CrossSubnet toward the same subnet) is the
 * external speaker's to program; margay writes no route for it. The result has the
 * shape of the speaker's `learned` map (prefix → the owner's address as next hop), so
 * the dataplane planner and the fast path take it unchanged. An address held in a
 * block not its holder's (borrowed.ts) gets a host route to its holder the same way
 * (more specific than its block's route; the block's owner accepts it too).
 */
import type { PoolSpec } from '../dataplane/plan/types.js';
import { onSameSubnet, poolOf } from '../dataplane/plan/route-plan.js';
import type { Block } from '../ipam/types.js';
import type { NodeBgpInfo } from '../node-config/types.js';
import { canonicalAddress, hostOf } from '../node-config/node-info.js';
import { borrowedAddresses } from './borrowed.js';

const encapsulates = (mode: PoolSpec['vxlanMode'], sameSubnet: boolean): boolean => mode === 'Always' || (mode === 'CrossSubnet' && !sameSubnet);

export function ipamEncapRoutes(a: { node: string; blocks: readonly Block[]; pools: readonly PoolSpec[]; nodes: readonly NodeBgpInfo[] }): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const byName = new Map(a.nodes.map((n) => [n.name, n]));
  const local = byName.get(a.node);
  if (!local) return out;
  /** the next hop toward `holder` for `cidr` when its pool tunnels there */
  const tunnelHop = (cidr: string, holder: string): string | undefined => {
    const owner = byName.get(holder);
    if (!owner || owner.name === a.node) return undefined;
    const pool = poolOf(a.pools, cidr);
    if (!pool) return undefined;
    const v6 = cidr.includes(':');
    const same = onSameSubnet({ name: local.name, ...(local.address ? { address: local.address } : {}) }, { name: owner.name, ...(owner.address ? { address: owner.address } : {}) });
    const tunnelled = encapsulates(pool.vxlanMode, same) || (!v6 && encapsulates(pool.ipipMode, same));
    if (!tunnelled) return undefined;
    // the owner's address names the owner (dataplaneInputOf maps it back to the node); the plan picks the device
    const hop = v6 ? owner.address6 ?? owner.address : owner.address ?? owner.address6;
    // canonical, as the speaker's next hops are (dataplaneInputOf keys nodes by canonical address)
    return hop ? canonicalAddress(hostOf(hop)) ?? hostOf(hop) : undefined;
  };
  const sorted = [...a.blocks].sort((x, y) => (x.cidr < y.cidr ? -1 : x.cidr > y.cidr ? 1 : 0));
  for (const b of sorted) {
    if (!b.affinity?.startsWith('host:')) continue;
    const hop = tunnelHop(b.cidr, b.affinity.slice('host:'.length));
    if (hop) out.set(b.cidr, [hop]);
  }
  // addresses held in blocks not their holder's (borrowed.ts): a host route to the holder, as its speaker would originate
  for (const x of borrowedAddresses(sorted)) {
    const hop = tunnelHop(x.prefix, x.node);
    if (hop) out.set(x.prefix, [hop]);
  }
  return out;
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

/**
 * natOutgoing as iptables rules (nat table), rendered as data then as
 * iptables-restore text for margay's own chain only. Traffic from a natOutgoing
 * pool to any address outside every pool is masqueraded to the node's address:
 *   -A MARGAY-NAT-OUTGOING -d <each pool> -j RETURN
 *   -A MARGAY-NAT-OUTGOING -s <each natOutgoing pool> -j MASQUERADE
 * POSTROUTING jumps to the chain through one rule carrying a fixed comment (the
 * only rule margay adds to a chain it does not own). Disabled pools count like any
 * other (as in Calico's felix): `disabled` only stops new allocations, the pool's
 * pods keep running (pool migration), so its addresses are still pod addresses and,
 * with natOutgoing, still masqueraded.
 *
 * Before those, per tunnel device that has an address (as Calico's felix does):
 *   -A MARGAY-NAT-OUTGOING -o <dev> -m addrtype ! --src-type LOCAL --limit-iface-out
 *                          -m addrtype --src-type LOCAL -j MASQUERADE
 * The node's own traffic that kube-proxy DNATs to a remote pod chose its source (the
 * uplink address) before the DNAT; leaving the tunnel with it, the remote node's
 * reverse-path check (strict rp_filter) drops it. Masquerading a local source that is
 * not the device's own gives it the tunnel address. It goes first: the destination is
 * a pod address, which the pool RETURNs would end on. Pod traffic (no local source)
 * never matches. IPv4 only: no IPv6 tunnel device has an address (only its
 * link-local), so masquerading could only pick the global address it already has.
 */
import { canonicalPrefix, familyOf } from '../netlink/ip.js';
import type { DataplanePlan, PoolSpec } from './types.js';

export const NAT_OUTGOING_CHAIN = 'MARGAY-NAT-OUTGOING';
export const NAT_JUMP_COMMENT = 'margay:nat-outgoing';

export interface NatRules {
  family: 4 | 6;
  /** Empty when no pool of this family has natOutgoing and no tunnel device an address: the chain and the jump are removed. */
  rules: string[][];
}

/** The node's own (local-source) traffic leaving `dev` with a source that is not `dev`'s address: masqueraded to it. */
export const tunnelMasqRule = (dev: string): string[] =>
  ['-o', dev, '-m', 'addrtype', '!', '--src-type', 'LOCAL', '--limit-iface-out', '-m', 'addrtype', '--src-type', 'LOCAL', '-j', 'MASQUERADE'];

/** The planned tunnel devices that carry an address of `family` (VXLAN, IPIP): those get tunnelMasqRule. */
export function natTunnelDevices(plan: Pick<DataplanePlan, 'vxlan' | 'vxlan6' | 'ipip'>, family: 4 | 6): string[] {
  return [plan.vxlan, plan.vxlan6, plan.ipip]
    .flatMap((d) => (d?.address !== undefined && familyOf(d.address.split('/')[0] ?? '') === family ? [d.device] : []));
}

/** `tunnels`: natTunnelDevices of this pass's plan (absent: none). */
export function planNatOutgoing(pools: readonly PoolSpec[], family: 4 | 6, tunnels: readonly string[] = []): NatRules {
  const mine = pools.filter((p) => familyOf(p.cidr.split('/')[0] ?? '') === family);
  const masq = mine.filter((p) => p.natOutgoing);
  const tunnelRules = [...new Set(tunnels)].map(tunnelMasqRule);
  if (masq.length === 0) return { family, rules: tunnelRules };
  const all = [...new Set(mine.map((p) => canonicalPrefix(p.cidr)))].sort();
  const src = [...new Set(masq.map((p) => canonicalPrefix(p.cidr)))].sort();
  return {
    family,
    rules: [
      ...tunnelRules,
      ...all.map((c) => ['-d', c, '-j', 'RETURN']),
      ...src.map((c) => ['-s', c, '-j', 'MASQUERADE']),
    ],
  };
}

export const jumpRule = (): string[] => ['-m', 'comment', '--comment', NAT_JUMP_COMMENT, '-j', NAT_OUTGOING_CHAIN];

/** iptables-restore --noflush input that rewrites margay's chain (declaring it flushes it). */
export function renderNatRestore(n: NatRules): string {
  const lines = ['*nat', `:${NAT_OUTGOING_CHAIN} - [0:0]`, ...n.rules.map((r) => `-A ${NAT_OUTGOING_CHAIN} ${r.join(' ')}`), 'COMMIT', ''];
  return lines.join('\n');
}

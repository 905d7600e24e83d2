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
 */
import { canonicalPrefix, familyOf } from '../netlink/ip.js';
import type { PoolSpec } from './types.js';

export const NAT_OUTGOING_CHAIN = 'MARGAY-NAT-OUTGOING';
export const NAT_JUMP_COMMENT = 'margay:nat-outgoing';

export interface NatRules {
  family: 4 | 6;
  /** Empty when no pool of this family has natOutgoing: the chain and the jump are removed. */
  rules: string[][];
}

export function planNatOutgoing(pools: readonly PoolSpec[], family: 4 | 6): NatRules {
  const mine = pools.filter((p) => familyOf(p.cidr.split('/')[0] ?? '') === family);
  const masq = mine.filter((p) => p.natOutgoing);
  if (masq.length === 0) return { family, rules: [] };
  const all = [...new Set(mine.map((p) => canonicalPrefix(p.cidr)))].sort();
  const src = [...new Set(masq.map((p) => canonicalPrefix(p.cidr)))].sort();
  return {
    family,
    rules: [
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

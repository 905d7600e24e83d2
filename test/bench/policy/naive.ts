/**
 * The reference a naive renderer would produce: no ipsets, one iptables rule per
 * (peer IP or CIDR) × (port, or each number a named port resolves to) of every rule of every policy
 * direction on the node, plus an except as a RETURN rule per except CIDR. Counts
 * rules only (IPv4), for the benchmark's comparison.
 */
import type { NodeIR } from '../../../policy/ir/types.js';

export function naiveRuleCount(ir: NodeIR): number {
  let rules = 0;
  for (const p of ir.policies) {
    for (const r of p.rules) {
      const peers = r.peers === 'all' ? 1 : r.peers.reduce((n, x) => n + (x.kind === 'pods' ? x.ips.filter((ip) => !ip.includes(':')).length : x.cidr.includes(':') ? 0 : 1 + x.except.length), 0);
      // A named port costs one rule per distinct number it resolves to.
      const ports = r.ports === 'all' ? 1 : r.ports.reduce((n, x) => n + (x.kind === 'named' ? new Set(x.members.map((m) => m.port)).size : 1), 0);
      rules += peers * ports;
    }
  }
  // The per-workload and dispatch structure is the same as margay's.
  for (const w of ir.workloads) rules += 2 + 2 * ((w.ingress?.length ?? 0) + (w.egress?.length ?? 0)) + 2;
  return rules;
}

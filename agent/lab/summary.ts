import type { FabricKind, SubnetPlan } from './plan.js';

/**
 * The text a person sees after `margay lab up` (and in the demo): pure, from the
 * lab's description, so its wording is unit-tested without a kernel.
 */
export interface LabView {
  prefix: string;
  fabric: { kind: FabricKind; ns: string; subnets: readonly SubnetPlan[] };
  nodes: readonly { name: string; ns: string; address: string; address6: string; subnet: string }[];
  pods: readonly { name: string; node: string; ns: string; ipv4: string; ipv6?: string }[];
}

/** `hints`: how to get into and remove the lab — only useful while it stays up. */
export function renderLabSummary(lab: LabView, opts: { hints?: boolean } = {}): string {
  const id = lab.prefix.endsWith('-') ? lab.prefix.slice(0, -1) : lab.prefix;
  const kind = lab.fabric.kind === 'l2' ? 'an L2 fabric (one bridge)' : 'a routed fabric (a router between two subnets)';
  const rows: string[][] = [['', 'namespace', 'IPv4', 'IPv6', 'subnet']];
  for (const s of lab.fabric.subnets) rows.push([`fabric ${s.bridge}`, lab.fabric.ns, s.gateway, s.gateway6, s.v4]);
  for (const n of lab.nodes) rows.push([`node ${n.name}`, n.ns, n.address, n.address6, n.subnet]);
  for (const p of lab.pods) rows.push([`pod ${p.node}/${p.name}`, p.ns, p.ipv4, p.ipv6 ?? '-', '']);
  const first = lab.nodes[0];
  const second = lab.nodes[1];
  const lines = [`lab ${id}: ${lab.nodes.length} node${lab.nodes.length === 1 ? '' : 's'} on ${kind}`, '', ...table(rows), ''];
  if (opts.hints === false) return `${lines.join('\n')}`;
  if (first) lines.push(`a shell on a node:   ip netns exec ${first.ns} bash`);
  if (first && second) lines.push(`ping across nodes:   ip netns exec ${first.ns} ping -c 3 ${second.address}`);
  lines.push(`list its namespaces: ip netns list | grep ${id}-`);
  lines.push(`tear it down:        margay lab down --prefix ${id}`);
  return `${lines.join('\n')}\n`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd());
}

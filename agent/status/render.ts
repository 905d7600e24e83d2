/**
 * `margay status` as text (pure): a peers table like `calicoctl node status`, then
 * the routes the agent programs, its IPAM blocks, its tunnel devices and the policy
 * counts.
 */
import type { AgentStatus, TunnelRow } from './types.js';

const TUNNEL_TYPES: Record<TunnelRow['type'], string> = { vxlan: 'VXLAN (IPv4 underlay)', 'vxlan-v6': 'VXLAN (IPv6 underlay)', ipip: 'IPIP' };

/** The TUNNEL ADDRESS cell: the IPv4 address, then the IPv6 link-local next hop; "none (not assigned yet)" without either. */
function tunnelAddress(t: TunnelRow): string {
  const parts = [...(t.address !== undefined ? [t.address] : []), ...(t.address6 !== undefined ? [`${t.address6} (link-local)`] : [])];
  return parts.length > 0 ? parts.join(', ') : 'none (not assigned yet)';
}

export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const row = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line, row(header), line, ...rows.map(row), ...(rows.length > 0 ? [line] : [])].join('\n');
}

/**
 * SINCE (UTC, as the agent reports it): the time of day when that is `today`
 * (YYYY-MM-DD, UTC), else the date too (as BIRD and calicoctl do); always the date
 * when `today` is not given.
 */
export function since(iso: string, today?: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(iso);
  if (!m) return iso;
  return m[1] === today ? (m[2] as string) : `${m[1] as string} ${m[2] as string}`;
}

/** `today`: the caller's UTC date (YYYY-MM-DD), for SINCE (this module reads no clock) */
export function renderStatus(s: AgentStatus, today?: string): string {
  const out: string[] = [];
  out.push(`margay agent on ${s.node}${s.asn !== undefined ? ` (AS ${s.asn}, router ID ${s.routerId ?? '?'})` : ''}: ${s.ready ? 'ready' : 'not ready'}`);
  for (const r of s.reasons) out.push(`  - ${r}`);
  out.push('');
  if (s.bgp === 'off') out.push('BGP is off (--bgp off): an external speaker carries the routes to other nodes\' blocks; this agent opens no session.', '');
  else for (const fam of ['IPv4', 'IPv6'] as const) {
    const peers = s.peers.filter((p) => p.address.includes(':') === (fam === 'IPv6'));
    if (fam === 'IPv6' && peers.length === 0) continue;
    out.push(`${fam} BGP status`);
    if (peers.length === 0) out.push('No IPv4 peers found.');
    else out.push(renderTable(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'], peers.map((p) => [p.address, p.type, p.state, since(p.since, today), p.info])));
    out.push('');
  }
  out.push('Routes');
  if (s.routes.length === 0) out.push('No routes programmed.');
  else out.push(renderTable(['PREFIX', 'VIA', 'WHY'], s.routes.map((r) => [r.prefix, r.via, r.reason])));
  out.push('');
  out.push('IPAM blocks');
  if (s.blocks.length === 0) out.push('No blocks held by this node.');
  else out.push(renderTable(['BLOCK', 'POOL', 'IN USE'], s.blocks.map((b) => [b.cidr, b.pool, `${b.used}/${b.size}`])));
  out.push('');
  if (s.tunnels !== undefined) {
    out.push('Tunnels');
    if (s.tunnels.length === 0) out.push('No tunnel devices (no IPPool uses VXLAN or IPIP).');
    else out.push(renderTable(['DEVICE', 'TYPE', 'TUNNEL ADDRESS'], s.tunnels.map((t) => [t.device, TUNNEL_TYPES[t.type], tunnelAddress(t)])));
    out.push('');
  }
  const p = s.policy;
  out.push(`Policy: ${p.policies} NetworkPolicies (${p.rejected} rejected), ${p.localPods} local pods, ${p.applies} applies, ${p.failures} failures, ${p.synced ? 'in sync' : 'NOT in sync'}${p.lastError ? ` (last error: ${p.lastError})` : ''}`);
  if (s.problems.length > 0) {
    out.push('');
    out.push('Problems');
    for (const x of s.problems) out.push(`  - ${x}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * `margay bgp status [--socket PATH] [--json]`: asks a running speaker over its
 * control socket and prints its peers and Loc-RIB size (or the raw JSON answer).
 */
import type { Command } from './command.js';
import { parseFlags } from './args.js';
import { queryControl } from '../../bgp/session/control.js';
import type { PeerStatus, SpeakerStatus } from '../../bgp/session/status.js';

export const DEFAULT_CONTROL_SOCKET = '/run/margay/bgp.ctl';

const USAGE = `usage: margay bgp status [--socket PATH] [--json]

Asks a running 'margay bgp speaker' over its control socket (the config's
controlSocket; default ${DEFAULT_CONTROL_SOCKET}) and prints each peer (address, ASN,
state, since, the reason of the last state change, prefixes received / accepted /
advertised) and the Loc-RIB size. --json prints the speaker's answer as one JSON
object, for scripts.`;

function ago(sinceIso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(sinceIso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** The last column: the reason, the last error while down, and prefixes ignored for a next hop of our own. */
function info(p: PeerStatus): string {
  const parts = [p.lastError && p.state !== 'Established' ? `${p.reason}; last error: ${p.lastError}` : p.reason];
  if (p.ownNextHop) parts.push(`${p.ownNextHop} ignored: next hop is this speaker`);
  return parts.join('; ');
}

export function renderStatus(st: SpeakerStatus, now: number): string {
  const head = ['PEER', 'ASN', 'STATE', 'SINCE', 'RCVD', 'ACCEPTED', 'ADVERTISED', 'LAST REASON'];
  const rows = st.peers.map((p) => [p.address, String(p.asn), p.state, ago(p.since, now), String(p.received), String(p.accepted), String(p.advertised), info(p)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  const rib = Object.entries(st.locRib.families).map(([f, n]) => `${f} ${n}`).join(', ');
  return [`BGP speaker AS ${st.asn}, router ID ${st.routerId}`, `Loc-RIB: ${st.locRib.total} routes${rib ? ` (${rib})` : ''}`, '', line(head), ...rows.map(line)].join('\n');
}

export const bgpStatusCommand: Command = {
  name: 'status',
  summary: 'ask a running speaker for its peers',
  usage: USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, { socket: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
    const answer = (await queryControl(values.socket ?? DEFAULT_CONTROL_SOCKET, { cmd: 'status' })) as SpeakerStatus & { error?: string };
    if (answer.error) throw new Error(`speaker answered: ${answer.error}`);
    process.stdout.write(values.json ? `${JSON.stringify(answer)}\n` : `${renderStatus(answer, Date.now())}\n`);
    return 0;
  },
};

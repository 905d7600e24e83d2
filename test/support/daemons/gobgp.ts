/**
 * GoBGP inside a namespace: `gobgpd -f CONF` (TOML) with its gRPC API on the
 * namespace's own 127.0.0.1; `cli(args)` runs the `gobgp` client inside the same
 * namespace. Stopped by PID.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { netnsExec } from '../../../agent/lab/netns.js';
import { daemonDir, startInNetns, waitFor, which, type Daemon } from './common.js';

export interface GoBgp extends Daemon {
  cli(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
}

export const haveGoBgp = (): boolean => which('gobgpd') !== undefined && which('gobgp') !== undefined;

export interface GoBgpNeighbor {
  address: string;
  asn: number;
  passive?: boolean;
  families?: ('ipv4-unicast' | 'ipv6-unicast')[];
  routeReflectorClient?: boolean;
  holdTime?: number;
  /** configured but administratively down (`gobgp neighbor ADDR enable` brings it up) */
  adminDown?: boolean;
}

/** A TOML config for the common case; pass your own text to gobgp() for anything else. */
export function gobgpConfig(asn: number, routerId: string, neighbors: GoBgpNeighbor[], listenAddress?: string): string {
  const lines = ['[global.config]', `  as = ${asn}`, `  router-id = "${routerId}"`];
  if (listenAddress) lines.push(`  local-address-list = ["${listenAddress}"]`);
  for (const n of neighbors) {
    lines.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${n.address}"`, `    peer-as = ${n.asn}`);
    if (n.adminDown) lines.push('    admin-down = true');
    if (n.passive) lines.push('  [neighbors.transport.config]', '    passive-mode = true');
    if (n.holdTime) lines.push('  [neighbors.timers.config]', `    hold-time = ${n.holdTime}`, `    keepalive-interval = ${Math.max(1, Math.floor(n.holdTime / 3))}`, '    connect-retry = 1');
    else lines.push('  [neighbors.timers.config]', '    connect-retry = 1');
    if (n.routeReflectorClient) lines.push('  [neighbors.route-reflector.config]', '    route-reflector-client = true', `    route-reflector-cluster-id = "${routerId}"`);
    for (const f of n.families ?? ['ipv4-unicast']) {
      lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${f}"`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function gobgp(ns: string, config: string, apiPort = 50051): Promise<GoBgp> {
  const dir = await daemonDir('gobgp');
  const conf = join(dir, 'gobgpd.toml');
  await writeFile(conf, config);
  const d = startInNetns(ns, ['gobgpd', '-f', conf, '-t', 'toml', '-p', '--pprof-disable', `--api-hosts=127.0.0.1:${apiPort}`], dir);
  const cli: GoBgp['cli'] = async (args, opts = {}) =>
    (await netnsExec(ns, ['gobgp', '-u', '127.0.0.1', '-p', String(apiPort), ...args], { timeoutMs: opts.timeoutMs ?? 20_000, ...(opts.input !== undefined ? { input: opts.input } : {}) })).stdout;
  try {
    await waitFor('gobgpd API', async () => (await cli(['global'])).includes('AS'), 15_000);
  } catch (err) {
    await d.stop();
    throw new Error(`${(err as Error).message}\n${d.output()}`);
  }
  return { ...d, cli };
}

/** The session state GoBGP reports for a neighbor ("established", "active", ...). */
export async function gobgpNeighborState(g: GoBgp, address: string): Promise<string> {
  const out = JSON.parse(await g.cli(['neighbor', address, '-j'])) as { state?: { session_state?: number | string } };
  const s = out.state?.session_state;
  const names = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];
  return typeof s === 'number' ? names[s] ?? String(s) : String(s ?? '').toLowerCase();
}

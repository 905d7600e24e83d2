/**
 * ExaBGP inside a namespace, driven through its API: a process entry runs
 * `tail -F` on a command file in the daemon's directory, so `announce(line)` appends
 * one API command (e.g. "announce route 10.9.0.0/24 next-hop self med 5"). Useful for
 * precise attributes and for a 2-octet-only peer (`capability { asn4 disable; }`).
 */
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonDir, startInNetns, which, type Daemon } from './common.js';

export interface ExaBgp extends Daemon {
  announce(command: string): Promise<void>;
}

export const haveExaBgp = (): boolean => which('exabgp') !== undefined;

export interface ExaNeighbor {
  address: string;
  localAddress: string;
  routerId: string;
  localAs: number;
  peerAs: number;
  asn4?: boolean;
  holdTime?: number;
}

export function exabgpConfig(commandFile: string, n: ExaNeighbor): string {
  return `process feed {
  run /usr/bin/tail -n +1 -F ${commandFile};
  encoder text;
}
neighbor ${n.address} {
  router-id ${n.routerId};
  local-address ${n.localAddress};
  local-as ${n.localAs};
  peer-as ${n.peerAs};
  hold-time ${n.holdTime ?? 90};
  capability { asn4 ${n.asn4 === false ? 'disable' : 'enable'}; }
  api { processes [ feed ]; }
}
`;
}

/** `config(commandFile)` returns the ExaBGP config text (see exabgpConfig). */
export async function exabgp(ns: string, config: (commandFile: string) => string): Promise<ExaBgp> {
  const dir = await daemonDir('exabgp');
  const cmds = join(dir, 'commands');
  await writeFile(cmds, '');
  const conf = join(dir, 'exabgp.conf');
  await writeFile(conf, config(cmds));
  const env = {
    ...process.env,
    exabgp_daemon_user: 'root', exabgp_daemon_drop: 'false', exabgp_daemon_daemonize: 'false',
    exabgp_log_destination: 'stdout', exabgp_api_ack: 'false', exabgp_tcp_bind: '',
    exabgp_api_pipename: join(dir, 'exabgp'), exabgp_cache_attributes: 'false',
  };
  const d = startInNetns(ns, ['exabgp', conf], dir, { env });
  return { ...d, announce: (line) => appendFile(cmds, `${line}\n`) };
}

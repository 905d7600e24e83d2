/**
 * ExaBGP inside a namespace, driven through its API: a process entry runs
 * `tail -F` on a command file in the daemon's directory, so `announce(line)` appends
 * one API command (e.g. "announce route 10.9.0.0/24 next-hop self med 5"). Useful for
 * precise attributes and for a 2-octet-only peer (`capability { asn4 disable; }`).
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonDir, startInNetns, which, type Daemon } from './common.js';

export interface ExaBgp extends Daemon {
  announce(command: string): Promise<void>;
  /** UPDATEs ExaBGP received, as its JSON API printed them (one object per line) */
  received(): Promise<Record<string, unknown>[]>;
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
process sink {
  run /bin/sh -c "cat >> ${commandFile}.received";
  encoder json;
}
neighbor ${n.address} {
  router-id ${n.routerId};
  local-address ${n.localAddress};
  local-as ${n.localAs};
  peer-as ${n.peerAs};
  hold-time ${n.holdTime ?? 90};
  capability { asn4 ${n.asn4 === false ? 'disable' : 'enable'}; }
  api { processes [ feed ]; }
  api { processes [ sink ]; receive { parsed; packets; update; } }
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
  return {
    ...d,
    announce: (line) => appendFile(cmds, `${line}\n`),
    received: async () => (await readFile(`${cmds}.received`, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('{')).flatMap((l) => {
      try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; }
    }),
  };
}

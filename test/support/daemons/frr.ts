/**
 * FRR's bgpd inside a namespace, without zebra (`-Z -n`: no kernel routes), with its
 * config, pid file and vty socket in a private temporary directory. FRR insists on
 * /var/tmp/frr, so the daemon runs with a private bind mount of its own directory
 * over /var/tmp (ip netns exec already gives it a private mount namespace).
 */
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../../agent/lab/exec.js';
import { daemonDir, startInNetns, waitFor, which, type Daemon } from './common.js';

export const BGPD = '/usr/lib/frr/bgpd';

export interface Frr extends Daemon {
  vtysh(cmd: string): Promise<string>;
}

export const haveFrr = (): boolean => which('vtysh') !== undefined && which(BGPD) !== undefined;

export async function frr(ns: string, config: string): Promise<Frr> {
  const dir = await daemonDir('frr');
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'vartmp'), { recursive: true });
  const conf = join(dir, 'bgpd.conf');
  await writeFile(conf, config);
  const script = `mount --bind ${join(dir, 'vartmp')} /var/tmp && exec ${BGPD} -Z -n -S -u root -g root -f ${conf} -i ${join(dir, 'bgpd.pid')} --vty_socket ${dir} -P 0 -z ${join(dir, 'zserv.api')} --log stdout`;
  const d = startInNetns(ns, ['sh', '-c', script], dir);
  const vtysh = async (cmd: string): Promise<string> => (await run(['vtysh', '--vty_socket', dir, '-c', cmd], { timeoutMs: 20_000 })).stdout;
  try {
    await waitFor('bgpd vty', async () => (await vtysh('show bgp summary')).length >= 0 && true, 15_000);
  } catch (err) {
    await d.stop();
    throw new Error(`${(err as Error).message}\n${d.output()}`);
  }
  return { ...d, vtysh };
}

/** FRR's state of one neighbor ("Established", "Active", ...). */
export async function frrNeighborState(f: Frr, address: string): Promise<string> {
  const out = JSON.parse(await f.vtysh(`show bgp neighbors ${address} json`)) as Record<string, { bgpState?: string }>;
  return out[address]?.bgpState ?? '';
}

/**
 * BIRD 2 inside a namespace: `bird -f -c CONF -s SOCK -P PID` with everything in a
 * private temporary directory; `birdc(cmd)` talks to that socket only.
 */
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecError, run } from '../../../agent/lab/exec.js';
import { daemonDir, startInNetns, waitFor, which, type Daemon } from './common.js';

export interface Bird extends Daemon {
  birdc(cmd: string): Promise<string>;
  /** replace the config and `configure` */
  reconfigure(config: string): Promise<string>;
  /** the daemon's log file (the config should log to `log "<dir>/bird.log" all;` — see birdLogLine) */
  log(): Promise<string>;
}

export const haveBird = (): boolean => which('bird') !== undefined && which('birdc') !== undefined;

/** A `log` line for a config, writing to the harness log file inside `dir`. */
export const birdLogLine = (dir: string): string => `log "${join(dir, 'bird.log')}" all;`;

/** `config` may contain `@DIR@`, replaced by the daemon's directory (for log files). */
export async function bird(ns: string, config: string): Promise<Bird> {
  const dir = await daemonDir('bird');
  const conf = join(dir, 'bird.conf');
  const sock = join(dir, 'bird.ctl');
  await writeFile(conf, config.replaceAll('@DIR@', dir));
  const d = startInNetns(ns, ['bird', '-f', '-c', conf, '-s', sock, '-P', join(dir, 'bird.pid')], dir);
  // birdc exits non-zero for answers such as "Network not found": keep what it printed
  const birdc = async (cmd: string): Promise<string> => {
    try {
      return (await run(['birdc', '-s', sock, ...cmd.split(' ')], { timeoutMs: 20_000 })).stdout;
    } catch (err) {
      if (err instanceof ExecError && err.stdout.includes('BIRD')) return err.stdout;
      throw err;
    }
  };
  try {
    await waitFor('bird control socket', async () => (await birdc('show status')).includes('Daemon is up'), 30_000);
  } catch (err) {
    await d.stop();
    throw new Error(`${(err as Error).message}\n${d.output()}`);
  }
  return {
    ...d,
    birdc,
    async reconfigure(next) {
      await writeFile(conf, next.replaceAll('@DIR@', dir));
      return birdc('configure');
    },
    log: () => readFile(join(dir, 'bird.log'), 'utf8').catch(() => ''),
  };
}

/** The state column of `show protocols NAME` (e.g. "Established", "Active"). */
export async function birdProtocolState(b: Bird, name: string): Promise<string> {
  const out = await b.birdc(`show protocols ${name}`);
  const line = out.split('\n').find((l) => l.startsWith(`${name} `));
  return line?.trim().split(/\s+/).slice(5).join(' ') ?? '';
}

/** Number of routes BIRD holds in a table (`show route count table T`). */
export async function birdRouteCount(b: Bird, table = 'master4'): Promise<number> {
  const out = await b.birdc(`show route count table ${table}`);
  const m = /(\d+) of \d+ routes/.exec(out) ?? /(\d+) routes/.exec(out);
  return m ? Number(m[1]) : 0;
}

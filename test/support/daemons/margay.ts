/**
 * margay's own standalone speaker as a daemon of the harness: the built CLI
 * (`margay bgp speaker`) inside a namespace, its YAML config and control socket in
 * a private temporary directory. `status()` asks the control socket (what
 * `margay bgp status --json` prints); `reload()` rewrites the config and sends SIGHUP.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { queryControl } from '../../../bgp/session/control.js';
import type { SpeakerStatus } from '../../../bgp/session/status.js';
import { existsSync } from 'node:fs';
import { MARGAY_JS } from '../cli.js';
import { daemonDir, startInNetns, waitFor, type Daemon } from './common.js';

export interface MargaySpeaker extends Daemon {
  socket: string;
  status(): Promise<SpeakerStatus>;
  /** received routes with attributes (control socket `routes`) */
  routes(peer?: string): Promise<{ prefix: string; peer: string; attributes: Record<string, unknown> }[]>;
  reload(config: Record<string, unknown>): Promise<void>;
  /** state of one peer, '' when unknown */
  peerState(address: string): Promise<string>;
  /** JSON log lines parsed */
  logs(): Record<string, unknown>[];
  signal(sig: NodeJS.Signals): void;
}

/** The built CLI, whether this module runs from the sources (vitest) or from dist/ (benches). */
const CLI_JS = existsSync(MARGAY_JS) ? MARGAY_JS : MARGAY_JS.replace(/\/dist\/dist\//, '/dist/');

export interface MargayOptions {
  logLevel?: string;
  keepDir?: boolean;
  /** node flags before the CLI (added to MARGAY_SPEAKER_NODE_ARGS) */
  nodeArgs?: string[];
  /** extra environment (e.g. MARGAY_SPEAKER_V8_FLAGS: '0') */
  env?: Record<string, string>;
}

export async function margaySpeaker(ns: string, config: Record<string, unknown>, opts: MargayOptions = {}): Promise<MargaySpeaker> {
  const dir = await daemonDir('speaker');
  const socket = join(dir, 'bgp.ctl');
  const file = join(dir, 'speaker.yaml');
  await writeFile(file, stringify({ controlSocket: socket, ...config }));
  // MARGAY_SPEAKER_NODE_ARGS: extra node flags for profiling (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
  const nodeArgs = [...(process.env.MARGAY_SPEAKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''), ...(opts.nodeArgs ?? [])];
  const d = startInNetns(ns, [process.execPath, ...nodeArgs, CLI_JS, '--log-level', opts.logLevel ?? 'info', 'bgp', 'speaker', '--config', file], dir, {
    ...(opts.keepDir ? { keepDir: true } : {}), ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  const status = async (): Promise<SpeakerStatus> => (await queryControl(socket, { cmd: 'status' })) as SpeakerStatus;
  try {
    await waitFor('speaker control socket', async () => (await status()).peers !== undefined, 30_000);
  } catch (err) {
    await d.stop();
    throw new Error(`${(err as Error).message}\n${d.output()}`);
  }
  return {
    ...d,
    socket,
    status,
    async routes(peer) {
      const r = (await queryControl(socket, peer ? { cmd: 'routes', peer } : { cmd: 'routes' })) as { routes: { prefix: string; peer: string; attributes: Record<string, unknown> }[] };
      return r.routes;
    },
    async reload(next) {
      await writeFile(file, stringify({ controlSocket: socket, ...next }));
      process.kill(d.pid, 'SIGHUP');
    },
    async peerState(address) {
      return (await status()).peers.find((p) => p.address === address)?.state ?? '';
    },
    logs: () => d.output().split('\n').filter((l) => l.startsWith('{')).flatMap((l) => {
      try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; }
    }),
    signal: (sig) => process.kill(d.pid, sig),
  };
}

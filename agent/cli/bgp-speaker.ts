/**
 * `margay bgp speaker --config FILE`: a standalone BGP speaker. Reads and validates
 * the YAML config, runs the session runtime, logs session transitions (with their
 * reason) and route counts under the `bgp` component; SIGHUP reloads the config
 * (peers are added, changed, removed without disturbing the others; an invalid
 * file is rejected and the running config kept); SIGTERM/SIGINT send Cease to
 * every peer and exit.
 *
 * Heap: a speaker holding a full table is mostly long-lived V8 heap, so the process
 * runs with the V8 flags in `SPEAKER_V8_FLAGS` (set at isolate creation only: when
 * they are missing the process replaces itself with `process.execve`, same PID, no
 * wrapper process). `MARGAY_SPEAKER_V8_FLAGS=0` keeps Node's defaults. Figures in
 * bgp/DESIGN.md (session/, Measured).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from './command.js';
import { parseFlags } from './args.js';
import { UsageError } from './usage-error.js';
import { execWithV8Flags, v8FlagsFrom } from './v8-flags.js';
import { logger } from '../log.js';
import { ConfigError, parseConfig, type SpeakerConfig } from '../../bgp/session/config.js';
import { SpeakerRuntime } from '../../bgp/session/runtime.js';
import { wireCodec } from '../../bgp/session/wire-codec.js';
import { createCore } from '../../bgp/session/create-core.js';

const USAGE = `usage: margay bgp speaker --config FILE

Runs a standalone BGP speaker. FILE is YAML:
  asn: 65001                 # local AS (4-octet allowed)
  routerId: 10.0.0.1
  clusterId: 10.0.0.1        # route-reflector cluster ID (default: routerId)
  restartTime: 120           # graceful-restart time announced, seconds (default 120)
  listen: {address: 0.0.0.0, port: 179}   # or false: never accept connections
  controlSocket: /run/margay/bgp.ctl       # for 'margay bgp status' (none without it)
  neighbors:
    - address: 10.0.0.2
      asn: 65002
      port: 179              # the peer's TCP port (default 179)
      localAddress: 10.0.0.1 # connect from this address (default: listen's, unless a wildcard)
      password: s3cret       # TCP MD5 (RFC 2385)
      passive: false         # only accept connections
      routeReflectorClient: false
      holdTime: 90           # 0 or >= 3
      connectRetry: 5        # seconds between connect attempts (RFC 4271 suggests 120; jittered 0.75-1.0x)
      families: [ipv4, ipv6]
      maxPrefixes: 1000      # Cease 6/1 beyond this
      nextHopSelf: false
      gracefulRestart: false
      ttlSecurity: 1         # GTSM (RFC 5082): allowed hops
  originate:
    - prefix: 10.244.0.0/24
      communities: ["65001:100", NO_EXPORT]
      nextHop: 10.0.0.1      # default: this speaker's address on each session

SIGHUP reloads FILE: neighbors and originate change in place; changes to asn,
routerId, clusterId, restartTime, listen and controlSocket are logged as warnings
and take effect only after a restart. SIGTERM sends Cease to every peer and exits.`;

/** V8 flags of the standalone speaker; measured in bgp/DESIGN.md. */
export const SPEAKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=10'];

async function load(path: string): Promise<SpeakerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config ${path}: ${(err as Error).message}`);
  }
  return parseConfig(text);
}

export const bgpSpeakerCommand: Command = {
  name: 'speaker',
  summary: 'run a standalone BGP speaker',
  usage: USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, { config: { type: 'string' } }, USAGE);
    if (!values.config) throw new UsageError('--config FILE is required', USAGE);
    const path = values.config;
    const log = logger('bgp');
    let config: SpeakerConfig;
    try {
      config = await load(path);
    } catch (err) {
      process.stderr.write(`margay: ${(err as Error).message}\n`);
      return err instanceof ConfigError ? 2 : 1;
    }
    const v8 = v8FlagsFrom('MARGAY_SPEAKER_V8_FLAGS', process.env.MARGAY_SPEAKER_V8_FLAGS, SPEAKER_V8_FLAGS);
    if ('error' in v8) throw new UsageError(v8.error, USAGE);
    execWithV8Flags(v8.flags);
    const core = createCore(config);
    const runtime = new SpeakerRuntime({ config, core, codec: wireCodec, log });
    await runtime.start();
    log.info({ asn: config.asn, routerId: config.routerId, neighbors: config.neighbors.length, originate: config.originate.length }, 'speaker started');

    let lastCounts = '';
    const counts = setInterval(() => {
      const st = runtime.status();
      const summary = JSON.stringify(st.peers.map((p) => [p.address, p.state, p.received, p.advertised]));
      if (summary === lastCounts) return;
      lastCounts = summary;
      log.info({ locRib: st.locRib.total, peers: st.peers.map((p) => ({ peer: p.address, state: p.state, received: p.received, accepted: p.accepted, advertised: p.advertised })) }, 'route counts');
    }, 5000);
    counts.unref();

    process.on('SIGHUP', () => {
      // never rejects: a reload that fails is logged and the running config kept
      load(path).then((next) => {
        if (runtime.reload(next)) log.info({ neighbors: next.neighbors.length, originate: next.originate.length }, 'config reloaded');
      }, (err: Error) => log.error({ err: err.message }, 'config reload rejected; keeping the running config'))
        .catch((err: unknown) => log.error({ err: String(err) }, 'config reload failed; keeping the running config'));
    });
    await new Promise<void>((resolve) => {
      const stop = (sig: string): void => {
        log.info({ signal: sig }, 'stopping: Cease to every peer');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    clearInterval(counts);
    await runtime.stop();
    log.info({}, 'speaker stopped');
    return 0;
  },
};

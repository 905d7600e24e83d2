/**
 * A CNI server on its own, for the lab and tests until the node agent hosts it:
 *   node dist/agent/cni/standalone.js [--proc-sys DIR] CONFIG.json
 * The command line, the config and the choices the agent takes from its datastore
 * (default pod MTU) or flags (sysctl root) are in standalone-config.ts, with the
 * usage text (--help). Prints {"ready": socket, defaultMtu?, uplink?} once listening
 * and one JSON line per PodEvent on stdout; logs go to stderr. Stops on SIGTERM/SIGINT.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRtnl } from '../dataplane/kernel/rtnl.js';
import { NetlinkPodWiring } from '../dataplane/pod-wiring.js';
import { Ipam } from '../ipam/allocator.js';
import { FileIpamStore } from '../ipam/file-store.js';
import { logger } from '../log.js';
import type { PodWiring } from './handler.js';
import { IpPodWiring } from './ip-wiring.js';
import { CniServer } from './server.js';
import {
  parseStandaloneArgs, parseStandaloneConfig, resolveProcSys, STANDALONE_USAGE, standaloneDefaultMtu, StandaloneUsageError,
  type StandaloneConfig, type StandaloneMtu,
} from './standalone-config.js';

const log = logger('cni');

function settings(): { cfg: StandaloneConfig; procSys: string | undefined; mtu: StandaloneMtu } | undefined {
  const args = parseStandaloneArgs(process.argv.slice(2));
  if (args.help) return undefined;
  let text: string;
  try {
    text = readFileSync(args.file, 'utf8');
  } catch (err) {
    throw new StandaloneUsageError(`cannot read ${args.file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const cfg = parseStandaloneConfig(text);
  const procSys = resolveProcSys(args.procSysFlag, process.env.MARGAY_PROC_SYS, cfg.procSys, (root) => existsSync(join(root, 'net', 'ipv4')));
  const nl = openRtnl();
  try {
    return { cfg, procSys, mtu: standaloneDefaultMtu(cfg.uplink, cfg.pools, { links: nl.links(), routes4: nl.routes(4), routes6: nl.routes(6) }) };
  } finally {
    nl.close();
  }
}

let s: ReturnType<typeof settings>;
try {
  s = settings();
} catch (err) {
  if (!(err instanceof StandaloneUsageError)) throw err;
  process.stderr.write(`standalone.js: ${err.message}\n\n${STANDALONE_USAGE}\n`);
  process.exit(2);
}
if (s === undefined) {
  process.stdout.write(`${STANDALONE_USAGE}\n`);
  process.exit(0);
}
const { cfg, procSys, mtu } = s;
if (mtu.mtu !== undefined) log.info({ mtu: mtu.mtu, uplink: mtu.uplink }, 'cni: pods without a configured MTU get this one (uplink and tunnels)');
else log.warn({ why: mtu.why }, 'cni: no default pod MTU (the kernel\'s applies)');
const ipam = new Ipam({ store: new FileIpamStore(cfg.storeDir), node: cfg.node, pools: cfg.pools, ...(cfg.nodeLabels ? { nodeLabels: cfg.nodeLabels } : {}), strictAffinity: cfg.strictAffinity === true });
const wiringOpts = procSys !== undefined ? { procSys } : {};
const wiring: PodWiring = cfg.wiring === 'ip' ? new IpPodWiring(wiringOpts) : new NetlinkPodWiring(wiringOpts);
const defaultMtu = mtu.mtu;
const server = new CniServer({ socketPath: cfg.socket, ipam, wiring, log, ...(defaultMtu !== undefined ? { defaultMtu: () => defaultMtu } : {}) });
server.on('pod', (e) => process.stdout.write(`${JSON.stringify({ event: e })}\n`));
await server.start();
process.stdout.write(`${JSON.stringify({ ready: cfg.socket, ...(mtu.mtu !== undefined ? { defaultMtu: mtu.mtu, uplink: mtu.uplink } : {}) })}\n`);
const stop = (): void => { void server.stop().then(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

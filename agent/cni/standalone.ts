/**
 * A CNI server on its own, for the lab and tests until the node agent hosts it:
 *   node dist/agent/cni/standalone.js CONFIG.json
 * CONFIG: {socket, node, nodeLabels?, storeDir, pools: IpPool[], strictAffinity?,
 *          wiring?: "netlink" (default, agent/dataplane's NetlinkPodWiring) | "ip" (iproute2)}.
 * Prints {"ready": socket} once listening and one JSON line per PodEvent on stdout;
 * logs go to stderr. Stops on SIGTERM/SIGINT. MARGAY_CNI_AGENT_STAGES=1: answers
 * carry where the agent's share went (stages.ts; the plugin's MARGAY_CNI_TIMING
 * line shows them).
 */
import { readFileSync } from 'node:fs';
import { Ipam } from '../ipam/allocator.js';
import { FileIpamStore } from '../ipam/file-store.js';
import type { IpPool } from '../ipam/types.js';
import { logger } from '../log.js';
import { NetlinkPodWiring } from '../dataplane/pod-wiring.js';
import type { PodWiring } from './handler.js';
import { IpPodWiring } from './ip-wiring.js';
import { CniServer } from './server.js';

interface StandaloneConfig {
  socket: string;
  node: string;
  nodeLabels?: Record<string, string>;
  storeDir: string;
  pools: IpPool[];
  strictAffinity?: boolean;
  wiring?: 'netlink' | 'ip';
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: standalone.js CONFIG.json\n');
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(file, 'utf8')) as StandaloneConfig;
const ipam = new Ipam({ store: new FileIpamStore(cfg.storeDir), node: cfg.node, pools: cfg.pools, ...(cfg.nodeLabels ? { nodeLabels: cfg.nodeLabels } : {}), strictAffinity: cfg.strictAffinity === true });
const wiring: PodWiring = cfg.wiring === 'ip' ? new IpPodWiring() : new NetlinkPodWiring();
const server = new CniServer({ socketPath: cfg.socket, ipam, wiring, log: logger('cni') });
server.on('pod', (e) => process.stdout.write(`${JSON.stringify({ event: e })}\n`));
await server.start();
process.stdout.write(`${JSON.stringify({ ready: cfg.socket })}\n`);
const stop = (): void => { void server.stop().then(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/**
 * What the standalone CNI server (standalone.ts) runs with: its command line, its
 * config file, the sysctl root and the default pod MTU. Pure over what it is given
 * (argv, env, file text, the kernel's links and routes), so the choices are tested
 * without a namespace; standalone.ts does the reading.
 *
 * The agent derives its pods' default MTU from the datastore (agent/node/pod-mtu.ts:
 * the uplink is the device holding the Node's address). The standalone server has
 * no datastore: its pools are the config's, fixed for its lifetime, and its uplink
 * is the config's `uplink`, else the device of the main table's IPv4 default route,
 * else of the IPv6 one. Worked out once at start (an ADD does not dump the links).
 */
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import type { LinkMsg } from '../dataplane/netlink/link.js';
import type { RouteMsg } from '../dataplane/netlink/route.js';
import type { PoolSpec } from '../dataplane/plan/types.js';
import type { EncapMode, IpPool } from '../ipam/types.js';
import { defaultPodMtu } from './pod-mtu.js';

export const STANDALONE_USAGE = `usage: node dist/agent/cni/standalone.js [--proc-sys DIR] CONFIG.json

Runs margay's CNI server without the node agent (the lab, tests, benchmarks).
CONFIG: {socket, node, nodeLabels?, storeDir, pools: IpPool[], strictAffinity?,
         wiring?: "netlink" (default) | "ip", uplink?: DEVICE, procSys?: DIR}

  --proc-sys DIR   where pod wiring writes its per-veth sysctls (default /proc/sys)
                   [MARGAY_PROC_SYS; else the config's procSys]: the host's
                   /proc/sys/net mounted under DIR/net, as for the agent's --proc-sys
                   (privileged=false). DIR/net/ipv4 must exist.

Default pod MTU (a netconf without "mtu"): as the agent's, the smallest of the
uplink's MTU and the config pools' tunnels' (IPIP −20, VXLAN −50, IPv6 VXLAN −70).
There is no datastore Node here, so the uplink is the config's "uplink" device,
else the device of the IPv4 default route, else of the IPv6 one; none: the kernel's
MTU. Worked out once at start; the ready line says it.

Prints {"ready": SOCKET, "defaultMtu"?: N, "uplink"?: DEVICE} once listening, then
one JSON line per pod event; logs go to stderr. Stops on SIGTERM/SIGINT.
MARGAY_CNI_AGENT_STAGES=1: answers carry where the agent's share went.`;

export interface StandaloneConfig {
  socket: string;
  node: string;
  nodeLabels?: Record<string, string>;
  storeDir: string;
  pools: IpPool[];
  strictAffinity?: boolean;
  wiring?: 'netlink' | 'ip';
  /** the device whose MTU the default pod MTU starts from (default: the default route's) */
  uplink?: string;
  /** sysctl root, below MARGAY_PROC_SYS and --proc-sys */
  procSys?: string;
}

/** A bad command line or config: the server says why and exits 2. */
export class StandaloneUsageError extends Error {
  override name = 'StandaloneUsageError';
}

export type StandaloneArgs = { help: true } | { help: false; file: string; procSysFlag?: string };

export function parseStandaloneArgs(argv: string[]): StandaloneArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { 'proc-sys': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new StandaloneUsageError(err instanceof Error ? err.message : String(err));
  }
  if (parsed.values.help === true) return { help: true };
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new StandaloneUsageError('CONFIG.json is required');
  if (extra.length > 0) throw new StandaloneUsageError(`one CONFIG.json, got also ${extra.join(' ')}`);
  const flag = parsed.values['proc-sys'];
  return { help: false, file, ...(flag !== undefined ? { procSysFlag: flag } : {}) };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The config file's text: JSON with the required fields of the right types. */
export function parseStandaloneConfig(text: string): StandaloneConfig {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new StandaloneUsageError(`config is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObj(v)) throw new StandaloneUsageError('config must be a JSON object');
  for (const k of ['socket', 'node', 'storeDir'] as const) {
    if (typeof v[k] !== 'string' || v[k] === '') throw new StandaloneUsageError(`config: "${k}" must be a non-empty string`);
  }
  if (!Array.isArray(v.pools)) throw new StandaloneUsageError('config: "pools" must be an array of IPPools');
  for (const k of ['uplink', 'procSys'] as const) {
    if (v[k] !== undefined && (typeof v[k] !== 'string' || v[k] === '')) throw new StandaloneUsageError(`config: "${k}" must be a non-empty string`);
  }
  if (v.wiring !== undefined && v.wiring !== 'netlink' && v.wiring !== 'ip') throw new StandaloneUsageError(`config: "wiring" must be "netlink" or "ip", got ${JSON.stringify(v.wiring)}`);
  return v as unknown as StandaloneConfig;
}

/**
 * The sysctl root: --proc-sys, else MARGAY_PROC_SYS, else the config's procSys
 * (undefined: /proc/sys). Absolute, and `hasNetIpv4(root)` (root/net/ipv4 exists),
 * as the agent checks: a wrong mount fails at start, not at the first pod.
 */
export function resolveProcSys(flag: string | undefined, env: string | undefined, config: string | undefined, hasNetIpv4: (root: string) => boolean): string | undefined {
  const [root, from] = flag !== undefined ? [flag, '--proc-sys'] : env !== undefined && env !== '' ? [env, 'MARGAY_PROC_SYS'] : [config, 'the config\'s procSys'];
  if (root === undefined) return undefined;
  if (!isAbsolute(root)) throw new StandaloneUsageError(`${from} must be an absolute directory, got "${root}"`);
  if (!hasNetIpv4(root)) throw new StandaloneUsageError(`${from} ${root}: no net/ipv4 under it (is the host's /proc/sys/net mounted there?)`);
  return root;
}

const mode = (m: EncapMode | undefined): EncapMode => m ?? 'Never';

/** The config's pools as the dataplane sees them (what defaultPodMtu reads). */
export function poolSpecsOf(pools: readonly IpPool[]): PoolSpec[] {
  return pools.map((p) => ({
    cidr: p.spec.cidr, ipipMode: mode(p.spec.ipipMode), vxlanMode: mode(p.spec.vxlanMode), natOutgoing: p.spec.natOutgoing === true,
    ...(p.spec.disabled === true ? { disabled: true } : {}),
  }));
}

const MAIN_TABLE = 254;

/** The main table's default route's device (the first path's), if any. */
function defaultRouteDevice(routes: readonly RouteMsg[], dst: string): number | undefined {
  return routes.find((r) => r.dst === dst && r.table === MAIN_TABLE && r.type === 'unicast' && r.nexthops[0]?.ifindex !== undefined)?.nexthops[0]?.ifindex;
}

export type StandaloneMtu = { mtu: number; uplink: string } | { mtu: undefined; why: string };

/**
 * The default pod MTU over the kernel's links and default routes (see the header).
 * A named uplink that does not exist is a config error (thrown); no default route
 * is not: the kernel's MTU applies, and `why` says so.
 */
export function standaloneDefaultMtu(
  uplink: string | undefined, pools: readonly IpPool[],
  kernel: { links: readonly LinkMsg[]; routes4: readonly RouteMsg[]; routes6: readonly RouteMsg[] },
): StandaloneMtu {
  let link: LinkMsg | undefined;
  if (uplink !== undefined) {
    link = kernel.links.find((l) => l.name === uplink);
    if (!link) throw new StandaloneUsageError(`config: uplink ${uplink} names no device in this network namespace`);
  } else {
    const index = defaultRouteDevice(kernel.routes4, '0.0.0.0/0') ?? defaultRouteDevice(kernel.routes6, '::/0');
    link = index === undefined ? undefined : kernel.links.find((l) => l.index === index);
    if (!link) return { mtu: undefined, why: 'no "uplink" in the config and no default route in this network namespace' };
  }
  return { mtu: defaultPodMtu(link.mtu ?? 1500, poolSpecsOf(pools)), uplink: link.name };
}

/**
 * `margay agent`: run the node agent. Every setting is a flag or an environment
 * variable (the flag wins); construction of the shells lives in agent/node/main.ts.
 */
import type { Command } from '../command.js';
import { parseFlags, intFlag, choiceFlag } from '../args.js';
import { UsageError } from '../usage-error.js';
import { AGENT_V8_FLAGS, execWithV8Flags, v8FlagsFrom } from '../v8-flags.js';
import type { AgentSettings } from '../../node/main.js';
import type { NodeForwarding } from '../../dataplane/sysctl.js';

const USAGE = `usage: margay agent --node NAME [flags]

Runs the node agent: datastore watch, IPAM, the CNI server, BGP (node-to-node mesh,
route reflectors, external peers), routes and tunnels, NetworkPolicy enforcement,
health, metrics and the status socket. SIGTERM/SIGINT stop it gracefully: routes
and rules stay in the kernel and BGP peers keep this node's routes (graceful
restart) until it is back.

flags (environment variable in brackets):
  --node NAME              this node's name, as in the Node object [MARGAY_NODE, NODE_NAME]
  --datastore KIND         file | kubernetes (default file) [MARGAY_DATASTORE]
  --datastore-dir DIR      file datastore: the directory of YAML manifests [MARGAY_DATASTORE_DIR]
  --ipam-dir DIR           IPAM records as files [MARGAY_IPAM_DIR] (default DATASTORE_DIR/ipam;
                           kubernetes: IPAMBlock/IPAMHandle objects unless given)
  --kube-server URL        kubernetes: API server URL (default: kubeconfig / in-cluster) [MARGAY_KUBE_SERVER]
  --kubeconfig FILE        kubernetes: kubeconfig file [KUBECONFIG]
  --secret-namespace NS    kubernetes: namespace of BGP password Secrets [MARGAY_NAMESPACE, POD_NAMESPACE]
                           (default kube-system)
  --run-dir DIR            where the sockets live (default /run/margay) [MARGAY_RUN_DIR]
  --cni-socket PATH        unix socket margay-cni talks to (default RUN_DIR/cni.sock; "" = no CNI server) [MARGAY_CNI_SOCKET]
  --status-socket PATH     unix socket 'margay status' asks (default RUN_DIR/agent.sock) [MARGAY_STATUS_SOCKET]
  --health-port N          /healthz /readyz /metrics on this port (default 9099; 0 = off) [MARGAY_HEALTH_PORT]
  --health-address ADDR    address the health port binds (default 127.0.0.1) [MARGAY_HEALTH_ADDRESS]
  --uplink DEV             the underlay device [MARGAY_UPLINK] (default: the device holding
                           the node's IPv4 address, else its global IPv6 address)
  --node-address CIDR      this node's BGP address/prefix, e.g. 10.0.0.5/24 [MARGAY_NODE_ADDRESS]
                           (only when its Node object has no margay.io/bgp-ipv4-address)
  --bgp on|off             off: an external speaker on the host carries the routes (default on) [MARGAY_BGP]
                           (BIRD, a routing daemon: it must export this node's block blackholes, kernel
                           protocol 80, and install what it learns); the agent opens no session, listens
                           on no BGP port, readiness does not wait for BGP; IPAM, CNI, pod routes,
                           VXLAN/IPIP routes (from IPAM), natOutgoing and policy work as usual
  --as-number N            cluster AS (or AS-dot a.b) when no BGPConfiguration "default" sets one (default 64512) [MARGAY_BGP_AS_NUMBER]
  --node-to-node-mesh B    true|false, likewise (default true) [MARGAY_BGP_NODE_TO_NODE_MESH]
  --bgp-listen-port N      likewise (default 179) [MARGAY_BGP_LISTEN_PORT]
  --bgp-sync-timeout MS    longest wait for peers' End-of-RIB before programming routes (default 10000) [MARGAY_BGP_SYNC_TIMEOUT]
  --hold-time S            BGP hold time offered to peers (default 90) [MARGAY_BGP_HOLD_TIME]
  --restart-time S         graceful-restart time announced to peers (default 120) [MARGAY_BGP_RESTART_TIME]
  --resync MS              periodic full reconcile of routes and rules (default 30000) [MARGAY_RESYNC]
  --ipam-gc-interval MS    release addresses of pods gone without a CNI DEL [MARGAY_IPAM_GC_INTERVAL]
                           (host veth missing in two passes in a row; kubernetes: also no Pod in two
                           passes; default 60000, 0 = off)
  --iptables-backend B     auto|nft|legacy (default auto) [MARGAY_IPTABLES_BACKEND]: auto follows the
                           node's (kubelet's KUBE-IPTABLES-HINT chain, else whichever of iptables-legacy-save
                           and iptables-nft-save shows rules; none: nft), as kube-proxy's image does
  --ip-forwarding M        on|ipv4|off (default on) [MARGAY_IP_FORWARDING]: node-wide forwarding the agent
                           turns on at start where it is off (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding;
                           logged), as felix; ipv4 leaves IPv6's alone, off both (pods then reach beyond
                           the node only if the node's own configuration forwards)
  --proc-sys DIR           where pod wiring writes its sysctls (default /proc/sys) [MARGAY_PROC_SYS]; the chart
                           sets /host/proc/sys when unprivileged (the host's /proc/sys/net mounted there)
  --log-level LEVEL        fatal|error|warn|info|debug|trace (default info) [MARGAY_LOG_LEVEL]

The agent restarts itself once (same PID) with its V8 flags, ${AGENT_V8_FLAGS.join(' ')};
MARGAY_AGENT_V8_FLAGS=0 keeps Node's defaults, or gives other flags (space or comma
separated).

Diagnostics (environment only): MARGAY_TRACE_ROUTES=1 logs the route path's stage
timings; for comparisons, MARGAY_FAST_ROUTES=0 turns the route fast path off,
MARGAY_FAST_WARM=0 its warm-up, MARGAY_DEFER_INPUTS_MS=N (whole ms, default 3,
0 = at once) the wait of datastore snapshots and other nodes' IPAM records.

Per-node BGP settings come from Node annotations (see docs/agent.md):
  margay.io/bgp-ipv4-address: 172.30.0.11/24    margay.io/as-number: "65001"
  margay.io/route-reflector-cluster-id: 244.0.0.1  margay.io/router-id: 10.0.0.1`;

const FLAGS = {
  node: { type: 'string' }, datastore: { type: 'string' }, 'datastore-dir': { type: 'string' }, 'ipam-dir': { type: 'string' },
  'kube-server': { type: 'string' }, kubeconfig: { type: 'string' }, 'secret-namespace': { type: 'string' },
  'cni-socket': { type: 'string' }, 'status-socket': { type: 'string' }, 'run-dir': { type: 'string' },
  'as-number': { type: 'string' }, 'node-to-node-mesh': { type: 'string' }, 'bgp-listen-port': { type: 'string' }, 'health-port': { type: 'string' },
  'health-address': { type: 'string' }, uplink: { type: 'string' }, 'node-address': { type: 'string' }, 'bgp-sync-timeout': { type: 'string' },
  'hold-time': { type: 'string' }, bgp: { type: 'string' }, 'restart-time': { type: 'string' }, resync: { type: 'string' }, 'ipam-gc-interval': { type: 'string' },
  'iptables-backend': { type: 'string' }, 'ip-forwarding': { type: 'string' }, 'proc-sys': { type: 'string' },
} as const;

/** The longest MARGAY_DEFER_INPUTS_MS taken (a diagnostic: the default is 3 ms). */
const MAX_DEFER_INPUTS_MS = 60_000;

/**
 * The agent's settings from its arguments and ENV (process.env in the command; the
 * parse reads nothing else): every value checked here, so that a bad one is a
 * UsageError (exit 2) naming the flag — and the variable, when it came from one —
 * before anything starts.
 */
export async function agentSettingsFrom(argv: string[], env: NodeJS.ProcessEnv): Promise<AgentSettings> {
  const { values: v } = parseFlags(argv, FLAGS, USAGE);
  const str = (flag: string | undefined, ...vars: (string | undefined)[]): string | undefined => flag ?? vars.find((x) => x !== undefined && x !== '');
  /**
   * One setting: `read` gets the flag's text, else the first variable set (empty = unset);
   * a UsageError from reading a variable's text names that variable — the operator's mistake is there.
   */
  const setting = <T>(flag: keyof typeof v, vars: readonly string[], read: (text: string | undefined) => T): T => {
    const given = v[flag] as string | undefined;
    const from = given === undefined ? vars.find((x) => env[x] !== undefined && env[x] !== '') : undefined;
    try {
      return read(given ?? (from !== undefined ? env[from] : undefined));
    } catch (err) {
      if (err instanceof UsageError && from !== undefined) throw new UsageError(`${err.message} (from ${from})`, err.usage ?? USAGE);
      throw err;
    }
  };
  const fail = (message: string): never => { throw new UsageError(message, USAGE); };
  const node = str(v.node, env.MARGAY_NODE, env.NODE_NAME);
  if (!node) throw new UsageError('--node NAME is required (or MARGAY_NODE / NODE_NAME)', USAGE);
  const datastore = setting('datastore', ['MARGAY_DATASTORE'], (t) => choiceFlag(t, 'datastore', ['file', 'kubernetes'] as const, 'file'));
  const datastoreDir = str(v['datastore-dir'], env.MARGAY_DATASTORE_DIR);
  if (datastore === 'file' && !datastoreDir) throw new UsageError('--datastore-dir DIR is required with the file datastore', USAGE);
  const hold = setting('hold-time', ['MARGAY_BGP_HOLD_TIME'], (t) => {
    const n = intFlag(t, 'hold-time', 90, 0, 65535);
    return n > 0 && n < 3 ? fail('--hold-time must be 0 or at least 3') : n;
  });
  const nodeAddress = setting('node-address', ['MARGAY_NODE_ADDRESS'], (t) =>
    (t !== undefined && !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(t) ? fail(`--node-address must be an IPv4 address/prefix like 10.0.0.5/24, got "${t}"`) : t));
  const runDir = str(v['run-dir'], env.MARGAY_RUN_DIR) ?? '/run/margay';
  const cniSocket = v['cni-socket'] ?? env.MARGAY_CNI_SOCKET ?? `${runDir}/cni.sock`;
  const { parseAsn } = await import('../../node-config/node-info.js');
  const asn = setting('as-number', ['MARGAY_BGP_AS_NUMBER'], (t) =>
    (t === undefined ? undefined : parseAsn(t) ?? fail(`--as-number must be an AS number, 1..4294967295 or AS-dot a.b (each part 0..65535), got "${t}"`)));
  const mesh = setting('node-to-node-mesh', ['MARGAY_BGP_NODE_TO_NODE_MESH'], (t) =>
    (t === undefined ? undefined : t === 'true' || t === 'false' ? t === 'true' : fail(`--node-to-node-mesh must be true or false, got "${t}"`)));
  const listenPort = setting('bgp-listen-port', ['MARGAY_BGP_LISTEN_PORT'], (t) => (t === undefined ? undefined : intFlag(t, 'bgp-listen-port', 179, 1, 65535)));
  const bgpDefaults = {
    ...(asn !== undefined ? { asn } : {}),
    ...(mesh !== undefined ? { meshEnabled: mesh } : {}),
    ...(listenPort !== undefined ? { listenPort } : {}),
  };
  const { parseBgpMode } = await import('../../node/bgp-mode.js');
  const bgp = setting('bgp', ['MARGAY_BGP'], (t) => {
    const mode = parseBgpMode(t);
    return typeof mode === 'string' ? mode : fail(mode.error);
  });
  const { parseIptablesBackend } = await import('../../node/iptables-backend.js');
  const iptablesBackend = setting('iptables-backend', ['MARGAY_IPTABLES_BACKEND'], (t) =>
    parseIptablesBackend(t) ?? fail(`--iptables-backend must be auto, nft or legacy, got "${t}"`));
  const { nodeForwardingOf } = await import('../../dataplane/sysctl.js');
  const ipForwarding = setting('ip-forwarding', ['MARGAY_IP_FORWARDING'], (t): NodeForwarding => {
    try {
      return nodeForwardingOf(t);
    } catch {
      return fail(`--ip-forwarding must be on, ipv4 or off, got "${t}"`);
    }
  });
  const procSys = setting('proc-sys', ['MARGAY_PROC_SYS'], (t) => (t !== undefined && !t.startsWith('/') ? fail(`--proc-sys must be an absolute directory, got "${t}"`) : t));
  const ipamGcMs = setting('ipam-gc-interval', ['MARGAY_IPAM_GC_INTERVAL'], (t) => (t === undefined ? undefined : intFlag(t, 'ipam-gc-interval', 0, 0, 86_400_000)));
  // diagnostics, environment only (docs/agent.md "Configuration")
  const deferText = str(undefined, env.MARGAY_DEFER_INPUTS_MS);
  if (deferText !== undefined && !(/^\d+$/.test(deferText) && Number(deferText) <= MAX_DEFER_INPUTS_MS)) {
    throw new UsageError(`MARGAY_DEFER_INPUTS_MS must be a whole number of milliseconds from 0 to ${MAX_DEFER_INPUTS_MS} (0 = at once), got "${deferText}"`, USAGE);
  }
  return {
    node, datastore, bgp, iptablesBackend, ipForwarding,
    ...(procSys !== undefined ? { procSys } : {}),
    ...(datastoreDir ? { datastoreDir } : {}),
    ...(str(v['ipam-dir'], env.MARGAY_IPAM_DIR) ? { ipamDir: str(v['ipam-dir'], env.MARGAY_IPAM_DIR) as string } : {}),
    ...(str(v['kube-server'], env.MARGAY_KUBE_SERVER) ? { kubeServer: str(v['kube-server'], env.MARGAY_KUBE_SERVER) as string } : {}),
    ...(str(v.kubeconfig, env.KUBECONFIG) ? { kubeconfig: str(v.kubeconfig, env.KUBECONFIG) as string } : {}),
    secretNamespace: str(v['secret-namespace'], env.MARGAY_NAMESPACE, env.POD_NAMESPACE) ?? 'kube-system',
    bgpDefaults,
    cniSocket: cniSocket === '' ? null : cniSocket,
    statusSocket: str(v['status-socket'], env.MARGAY_STATUS_SOCKET) ?? `${runDir}/agent.sock`,
    healthPort: setting('health-port', ['MARGAY_HEALTH_PORT'], (t) => intFlag(t, 'health-port', 9099, 0, 65535)),
    healthAddress: str(v['health-address'], env.MARGAY_HEALTH_ADDRESS) ?? '127.0.0.1',
    ...(str(v.uplink, env.MARGAY_UPLINK) ? { uplink: str(v.uplink, env.MARGAY_UPLINK) as string } : {}),
    ...(nodeAddress ? { nodeAddress } : {}),
    syncBoundMs: setting('bgp-sync-timeout', ['MARGAY_BGP_SYNC_TIMEOUT'], (t) => intFlag(t, 'bgp-sync-timeout', 10_000, 0, 3_600_000)),
    holdTime: hold,
    restartTime: setting('restart-time', ['MARGAY_BGP_RESTART_TIME'], (t) => intFlag(t, 'restart-time', 120, 1, 4095)),
    resyncMs: setting('resync', ['MARGAY_RESYNC'], (t) => intFlag(t, 'resync', 30_000, 100, 86_400_000)),
    ...(ipamGcMs !== undefined ? { ipamGcMs } : {}),
    fastRoutes: env.MARGAY_FAST_ROUTES !== '0',
    fastWarm: env.MARGAY_FAST_WARM !== '0',
    ...(deferText !== undefined ? { deferInputsMs: Number(deferText) } : {}),
  };
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run the node agent',
  usage: USAGE,
  async run(argv) {
    const env = process.env;
    const settings = await agentSettingsFrom(argv, env);
    const v8 = v8FlagsFrom('MARGAY_AGENT_V8_FLAGS', env.MARGAY_AGENT_V8_FLAGS, AGENT_V8_FLAGS);
    if ('error' in v8) throw new UsageError(v8.error, USAGE);
    execWithV8Flags(v8.flags);
    const { runAgent } = await import('../../node/main.js');
    return runAgent(settings);
  },
};

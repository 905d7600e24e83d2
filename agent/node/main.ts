/**
 * The agent's composition root (thin): builds the datastore, the IPAM store and
 * the loggers from the CLI's settings, runs the Agent until SIGTERM/SIGINT, and
 * keeps the process alive through any stray exception (logged, never fatal).
 *
 * The signal handlers come first, before anything that can wait: in its container
 * the agent is PID 1, and the kernel drops a signal to PID 1 that has no handler,
 * so a SIGTERM while the first datastore list still retries (API server not
 * reachable) was lost and the pod waited for its SIGKILL. A signal during start
 * stops the agent (which aborts the start) the same way as after it: exit 0.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { validateObject } from '../../crds/schemas.js';
import { logger } from '../log.js';
import { FileDatastore } from '../datastore/file-datastore.js';
import type { Datastore } from '../datastore/datastore.js';
import { withSemanticChecks, type ObjectValidator } from '../datastore/validate.js';
import { FileIpamStore } from '../ipam/file-store.js';
import type { IpamStore } from '../ipam/store.js';
import { DEFAULT_PROC_SYS, ensureNodeForwarding, type NodeForwarding } from '../dataplane/sysctl.js';
import { Agent } from './agent.js';
import type { SecretReader } from './bgp.js';
import type { BgpDefaults } from '../node-config/node-config.js';
import type { BgpMode } from './bgp-mode.js';
import type { IptablesBackendSetting } from './iptables-backend.js';
import { selectIptablesBackend } from './iptables-backend-shell.js';

export interface AgentSettings {
  node: string;
  datastore: 'file' | 'kubernetes';
  datastoreDir?: string;
  ipamDir?: string;
  kubeServer?: string;
  kubeconfig?: string;
  secretNamespace: string;
  cniSocket: string | null;
  statusSocket: string;
  healthPort: number;
  healthAddress: string;
  uplink?: string;
  nodeAddress?: string;
  bgpDefaults: BgpDefaults;
  syncBoundMs: number;
  holdTime: number;
  restartTime: number;
  resyncMs: number;
  /** off: an external speaker carries the routes (bgp-mode.ts); default on */
  bgp?: BgpMode;
  /** undefined: 60 s (both datastores; files: by the pods' host veths) */
  ipamGcMs?: number;
  /** the iptables backend (iptables-backend.ts): auto (default) follows the node's */
  iptablesBackend?: IptablesBackendSetting;
  /** the sysctl root pod wiring writes under (default /proc/sys; the chart's unprivileged mode: /host/proc/sys) */
  procSys?: string;
  /** node-wide forwarding turned on at start (--ip-forwarding / MARGAY_IP_FORWARDING): on (default), ipv4, off */
  ipForwarding?: NodeForwarding;
  /** diagnostics (options.ts; the CLI reads MARGAY_FAST_ROUTES, MARGAY_FAST_WARM, MARGAY_DEFER_INPUTS_MS): default on, on, 3 ms */
  fastRoutes?: boolean;
  fastWarm?: boolean;
  deferInputsMs?: number;
}

/** crds/schemas' validateObject, then the selector checks (datastore/validate.ts), as the datastore's validator. */
export const validator: ObjectValidator = withSemanticChecks((obj) => {
  const r = validateObject(obj);
  return r.ok ? { ok: true } : { ok: false, errors: r.errors.map((e) => ({ path: e.path, message: e.message })) };
});

/** The first SIGTERM or SIGINT, from the moment it is called (once each: a second one kills as usual). */
function stopSignal(): { promise: Promise<string>; received: () => string | undefined } {
  let received: string | undefined;
  const promise = new Promise<string>((resolve) => {
    const on = (signal: string): void => {
      received ??= signal;
      resolve(received);
    };
    process.once('SIGTERM', () => on('SIGTERM'));
    process.once('SIGINT', () => on('SIGINT'));
  });
  return { promise, received: () => received };
}

export async function runAgent(s: AgentSettings): Promise<number> {
  const log = logger('agent');
  const signal = stopSignal();
  process.on('uncaughtException', (err) => log.error({ err: err.stack ?? String(err) }, 'uncaught exception (a bug): logged, the agent keeps running'));
  process.on('unhandledRejection', (err) => log.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection (a bug): logged, the agent keeps running'));
  if (s.procSys !== undefined && !existsSync(join(s.procSys, 'net', 'ipv4'))) {
    // every CNI ADD would fail: say so once, at start
    log.fatal({ procSys: s.procSys }, 'sysctl root has no net/ipv4 (is the host\'s /proc/sys/net mounted under it?)');
    return 1;
  }
  try {
    // pods reach beyond the node only through node-wide forwarding (felix's IPForwarding=Enabled)
    const fwd = ensureNodeForwarding(s.procSys ?? DEFAULT_PROC_SYS, s.ipForwarding ?? 'on');
    for (const p of fwd.enabled) log.info({ sysctl: p.replaceAll('/', '.') }, 'node forwarding was off: turned on (--ip-forwarding off or ipv4 leaves it)');
    if (fwd.raKept.length > 0) log.info({ interfaces: fwd.raKept }, 'IPv6 forwarding on: accept_ra 1 → 2 on the node\'s interfaces, so router advertisements still set their routes');
    for (const f of fwd.failed) log.warn({ sysctl: f.path.replaceAll('/', '.'), err: f.error }, 'node forwarding: cannot turn it on; pods will not reach beyond the node');
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'node forwarding');
    return 1;
  }
  let linkDir: string | undefined;
  try {
    // the policy applier and the natOutgoing chain run iptables tools by name: the link
    // directory first in PATH makes them the chosen backend's
    const sel = await selectIptablesBackend({ setting: s.iptablesBackend ?? 'auto' });
    if (sel.backend !== undefined) {
      linkDir = sel.dir;
      process.env.PATH = `${sel.dir}:${process.env.PATH ?? ''}`;
    }
    log.info({ setting: s.iptablesBackend ?? 'auto', backend: sel.backend ?? 'as installed', reason: sel.reason }, 'iptables backend');
    // margay's hooks and chains left in the backend not chosen (a former choice): removed, or said why not
    for (const c of sel.backend !== undefined ? sel.cleaned : []) {
      if (c.error === undefined) log.info({ backend: c.backend, tool: c.tool, rules: c.rules, chains: c.chains }, 'iptables backend: removed margay\'s state from the backend not chosen');
      else log.warn({ backend: c.backend, tool: c.tool, rules: c.rules, chains: c.chains, err: c.error }, 'iptables backend: cannot remove margay\'s state from the backend not chosen; its hooks may still drop pod traffic');
    }
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'iptables backend: cannot use it');
    return 1;
  }
  let datastore: Datastore;
  let ipamStore: IpamStore;
  let readSecret: SecretReader | undefined;
  if (s.datastore === 'file') {
    const dir = s.datastoreDir as string;
    datastore = new FileDatastore({ dir, validate: validator, log: logger('datastore'), debounceMs: 5 });
    ipamStore = new FileIpamStore(s.ipamDir ?? join(dir, 'ipam'));
  } else {
    // loaded only in kubernetes mode: the file datastore never needs the client library
    const { KubernetesDatastore } = await import('../datastore/kubernetes-datastore.js');
    const { KubernetesIpamStore } = await import('../datastore/kubernetes-ipam-store.js');
    const { kubeRequest } = await import('../datastore/kubernetes-transport.js');
    const k = new KubernetesDatastore({ ...(s.kubeServer ? { server: s.kubeServer } : {}), ...(s.kubeconfig ? { kubeconfig: s.kubeconfig } : {}), validate: validator, log: logger('datastore') });
    datastore = k;
    ipamStore = s.ipamDir ? new FileIpamStore(s.ipamDir) : new KubernetesIpamStore(k.kubeConfig, { log: logger('ipam') });
    readSecret = async (ref) => {
      const secret = await kubeRequest(k.kubeConfig, 'GET', `/api/v1/namespaces/${encodeURIComponent(s.secretNamespace)}/secrets/${encodeURIComponent(ref.name)}`);
      const data = (secret.data ?? {}) as Record<string, string>;
      const v = data[ref.key];
      if (typeof v !== 'string') throw new Error(`Secret ${s.secretNamespace}/${ref.name} has no key "${ref.key}"`);
      return Buffer.from(v, 'base64').toString('utf8');
    };
  }
  for (const p of [s.statusSocket, s.cniSocket]) if (p) mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
  const agent = new Agent({
    node: s.node, datastore, ipamStore, cniSocket: s.cniSocket, statusSocket: s.statusSocket,
    health: s.healthPort > 0 ? { port: s.healthPort, host: s.healthAddress } : null,
    ...(s.uplink ? { uplink: s.uplink } : {}), ...(s.nodeAddress ? { nodeAddress: s.nodeAddress } : {}), bgpDefaults: s.bgpDefaults, ...(readSecret ? { readSecret } : {}),
    logs: { agent: log, bgp: logger('bgp'), dataplane: logger('dataplane'), policy: logger('policy'), cni: logger('cni') },
    syncBoundMs: s.syncBoundMs, resyncMs: s.resyncMs, ipamGcMs: s.ipamGcMs ?? 60_000,
    // both stores have a change feed (IpamStore.watch); the poll is for a store without one
    ipamPollMs: s.datastore === 'kubernetes' ? 30_000 : 2000, restartTime: s.restartTime, holdTime: s.holdTime,
    fastRoutes: s.fastRoutes ?? true, fastWarm: s.fastWarm ?? true,
    ...(s.deferInputsMs !== undefined ? { deferInputsMs: s.deferInputsMs } : {}), bgp: s.bgp ?? 'on',
    ...(s.procSys !== undefined ? { procSys: s.procSys } : {}),
  });
  // a signal before this point (forwarding, backend, imports) still stops without starting
  const starting = signal.received() === undefined ? agent.start() : undefined;
  const first = starting ? await Promise.race([starting.then((how) => ({ how }), (err: unknown) => ({ err })), signal.promise]) : signal.received();
  if (typeof first === 'object' && 'err' in first) {
    log.fatal({ err: first.err instanceof Error ? first.err.stack ?? first.err.message : String(first.err) }, 'agent cannot start');
    await agent.stop().catch(() => undefined);
    if (linkDir) rmSync(linkDir, { recursive: true, force: true });
    return 1;
  }
  if (typeof first === 'string') {
    log.info({ signal: first }, 'stopping gracefully: start aborted (the agent was still starting)');
    // start settles at its next step ('aborted'); a failure it meets on the way is no longer news
    starting?.catch(() => undefined);
  } else {
    log.info({ signal: await signal.promise }, 'stopping gracefully');
  }
  await agent.stop();
  if (linkDir) rmSync(linkDir, { recursive: true, force: true });
  // everything is closed; a handle a library keeps open must not hold the process
  // (a restart waits for it): exit shortly unless the loop empties first
  setTimeout(() => process.exit(0), 300).unref();
  return 0;
}

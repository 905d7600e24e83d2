/**
 * The agent side of the CNI plugin, independent of sockets and the kernel: ADD
 * allocates addresses (IPAM, by handle) and wires the pod through a PodWiring;
 * DEL releases and unwires, tolerating anything already gone; CHECK compares what
 * is there with what ADD left. Requests for one handle run one at a time.
 * Every successful ADD/DEL returns a PodEvent with its answer, so that the caller
 * (CniServer) hands it to the agent (policy, routes) after that request's answer —
 * the event belongs to the request, not to whoever answers next.
 */
import type { Ipam } from '../ipam/allocator.js';
import { IpamError } from '../ipam/errors.js';
import type { Assignment, PodRef } from '../ipam/types.js';
import { CniError } from './errors.js';
import { handleId, hostIfName } from './names.js';
import type { CniResult } from './protocol.js';
import type { AgentRequest } from './wire.js';

export const GATEWAY_V4 = '169.254.1.1';
export const GATEWAY_V6 = 'fe80::1';

export interface PodLink {
  hostIf: string;
  podIf: string;
  netns: string;
  addresses: readonly Assignment[];
  mtu?: number;
}

/** The narrow kernel interface the CNI side needs (ip commands today, netlink later). */
export interface PodWiring {
  netnsExists(netns: string): Promise<boolean>;
  /** Creates or repairs the veth pair, addresses, routes and sysctls; idempotent. */
  add(link: PodLink): Promise<{ hostMac: string; podMac: string }>;
  /** Removes the host-side interface (its peer goes with it); false when it was gone. */
  del(hostIf: string): Promise<boolean>;
  /** What differs from what add() would leave; empty when all is well. */
  check(link: PodLink): Promise<string[]>;
}

/**
 * CHECK's MTU rule, shared by every PodWiring: with an MTU (the netconf's `mtu`)
 * both ends must have it; without one, the two ends must agree — a default MTU
 * that changed since ADD (a pool got a tunnel) applies to later pods only, and a
 * chained plugin (`tuning`) may have set another. `pod` undefined: not read.
 */
export function mtuDrift(l: PodLink, host: number | undefined, pod?: number): string[] {
  const problems: string[] = [];
  if (l.mtu !== undefined && host !== l.mtu) problems.push(`host interface ${l.hostIf} has MTU ${host}, not ${l.mtu}`);
  if (pod === undefined) return problems;
  const want = l.mtu ?? host;
  if (want !== undefined && pod !== want) problems.push(`${l.podIf} in ${l.netns} has MTU ${pod}, not ${want}${l.mtu === undefined ? ` (its host end ${l.hostIf}'s)` : ''}`);
  return problems;
}

export interface PodEvent {
  type: 'added' | 'removed';
  containerId: string;
  ifName: string;
  hostIf: string;
  netns?: string;
  addresses: Assignment[];
  pod?: PodRef;
}

export interface CniHandlerOptions {
  ipam: Ipam;
  wiring: PodWiring;
  /**
   * The pods' MTU when the network config has no `mtu` (the agent: the smallest of
   * the uplink's and the pools' tunnels', pod-mtu.ts); undefined leaves the kernel's.
   */
  defaultMtu?: () => number | undefined;
}

/** What one request produced: the result (ADD) and the event (successful ADD/DEL). */
export interface Handled {
  result?: CniResult;
  event?: PodEvent;
}

function podOf(args: Record<string, string>): PodRef | undefined {
  const namespace = args.K8S_POD_NAMESPACE;
  const name = args.K8S_POD_NAME;
  return namespace && name ? { namespace, name } : undefined;
}

export function ipamToCni(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof IpamError) {
    switch (e.reason) {
      case 'exhausted': return new CniError('POOL_EXHAUSTED', e.message);
      case 'no-pool': return new CniError('NO_POOL', e.message);
      case 'contention': return new CniError('TRY_AGAIN_LATER', e.message);
      case 'unavailable': return new CniError('TRY_AGAIN_LATER', `IPAM datastore: ${e.message}`);
      case 'store': return new CniError('IO_FAILURE', `IPAM datastore: ${e.message}`);
      case 'invalid-pool': return new CniError('INVALID_CONFIG', e.message);
    }
  }
  return new CniError('AGENT_INTERNAL', `agent: ${e instanceof Error ? e.message : String(e)}`);
}

export function buildResult(cniVersion: string, link: PodLink, macs: { hostMac: string; podMac: string }): CniResult {
  const has4 = link.addresses.some((a) => a.family === 4);
  const has6 = link.addresses.some((a) => a.family === 6);
  return {
    cniVersion,
    interfaces: [{ name: link.hostIf, mac: macs.hostMac }, { name: link.podIf, mac: macs.podMac, sandbox: link.netns }],
    ips: link.addresses.map((a) => ({ address: `${a.address}/${a.prefix}`, gateway: a.family === 4 ? GATEWAY_V4 : GATEWAY_V6, interface: 1 })),
    routes: [...(has4 ? [{ dst: '0.0.0.0/0', gw: GATEWAY_V4 }] : []), ...(has6 ? [{ dst: '::/0', gw: GATEWAY_V6 }] : [])],
    dns: {},
  };
}

export class CniHandler {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: CniHandlerOptions) {}

  /** `wiring`: this request's PodWiring (default the handler's; the server passes a timed one per request). */
  handle(req: AgentRequest, wiring: PodWiring = this.opts.wiring): Promise<Handled> {
    return this.exclusive(handleId(req.network, req.containerId, req.ifName), () => this.dispatch(req, wiring));
  }

  /**
   * Runs `fn` in the IPAM handle's queue: after the requests for it that came
   * before, and before those that come after. The IPAM GC releases a leaked
   * handle through this, so no ADD for it can run in between.
   */
  exclusive<T>(handle: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(handle) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(handle, tail);
    void tail.then(() => { if (this.locks.get(handle) === tail) this.locks.delete(handle); });
    return run;
  }

  /**
   * The link ADD makes (and CHECK expects): the netconf's MTU, else (ADD only) the
   * default one. CHECK without a netconf MTU has none to compare with — the default
   * may have changed since this pod's ADD — so the wiring checks that the ends agree.
   */
  private podLink(req: AgentRequest, netns: string, addresses: readonly Assignment[]): PodLink {
    const mtu = req.mtu ? req.mtu : req.command === 'ADD' ? this.opts.defaultMtu?.() : undefined;
    return { hostIf: hostIfName(req.containerId, req.ifName), podIf: req.ifName, netns, addresses, ...(mtu ? { mtu } : {}) };
  }

  private async dispatch(req: AgentRequest, wiring: PodWiring): Promise<Handled> {
    switch (req.command) {
      case 'ADD': return this.add(req, wiring);
      case 'DEL': return { event: await this.del(req, wiring) };
      case 'CHECK': await this.check(req, wiring); return {};
    }
  }

  private async add(req: AgentRequest, wiring: PodWiring): Promise<Handled> {
    const { ipam } = this.opts;
    const netns = req.netns;
    if (!netns) throw new CniError('INVALID_ENV', 'CNI_NETNS is not set');
    if (!(await wiring.netnsExists(netns))) {
      throw new CniError('UNKNOWN_CONTAINER', `container ${req.containerId}: network namespace ${netns} does not exist`);
    }
    const handle = handleId(req.network, req.containerId, req.ifName);
    const pod = podOf(req.args);
    let addresses: Assignment[];
    try {
      addresses = await ipam.assign({ handle, containerId: req.containerId, ...(pod ? { pod } : {}) });
    } catch (e) {
      throw ipamToCni(e);
    }
    const link = this.podLink(req, netns, addresses);
    let macs: { hostMac: string; podMac: string };
    try {
      macs = await wiring.add(link);
    } catch (e) {
      await wiring.del(link.hostIf).catch(() => false);
      await ipam.release(handle).catch(() => undefined);
      throw new CniError('DATAPLANE_FAILURE', `wiring ${req.ifName} of container ${req.containerId} (host side ${link.hostIf}) failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const event: PodEvent = { type: 'added', containerId: req.containerId, ifName: req.ifName, hostIf: link.hostIf, netns, addresses, ...(pod ? { pod } : {}) };
    return { result: buildResult(req.cniVersion, link, macs), event };
  }

  private async del(req: AgentRequest, wiring: PodWiring): Promise<PodEvent> {
    const { ipam } = this.opts;
    const hostIf = hostIfName(req.containerId, req.ifName);
    const handle = handleId(req.network, req.containerId, req.ifName);
    const addresses = (await ipam.lookup(handle).catch(() => undefined)) ?? [];
    try {
      await wiring.del(hostIf);
    } catch (e) {
      throw new CniError('DATAPLANE_FAILURE', `removing ${hostIf} of container ${req.containerId} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      await ipam.release(handle);
    } catch (e) {
      throw ipamToCni(e);
    }
    const pod = podOf(req.args);
    return { type: 'removed', containerId: req.containerId, ifName: req.ifName, hostIf, addresses, ...(req.netns ? { netns: req.netns } : {}), ...(pod ? { pod } : {}) };
  }

  private async check(req: AgentRequest, wiring: PodWiring): Promise<void> {
    const { ipam } = this.opts;
    const handle = handleId(req.network, req.containerId, req.ifName);
    const addresses = await ipam.lookup(handle).catch((e: unknown) => { throw ipamToCni(e); });
    if (!addresses || addresses.length === 0) {
      throw new CniError('UNKNOWN_CONTAINER', `container ${req.containerId} (${req.ifName}) is unknown to margay: it holds no address (was ADD called, or DEL already?)`);
    }
    const netns = req.netns as string;
    if (!(await wiring.netnsExists(netns))) {
      throw new CniError('UNKNOWN_CONTAINER', `container ${req.containerId}: network namespace ${netns} does not exist`);
    }
    const problems: string[] = [];
    if (req.prevResult) {
      const listed = new Set((req.prevResult.ips ?? []).map((ip) => ip.address));
      for (const a of addresses) if (!listed.has(`${a.address}/${a.prefix}`)) problems.push(`prevResult does not list ${a.address}/${a.prefix}`);
    }
    const link = this.podLink(req, netns, addresses);
    problems.push(...(await wiring.check(link)));
    if (problems.length > 0) throw new CniError('CHECK_FAILED', `container ${req.containerId}: ${problems.join('; ')}`);
  }
}

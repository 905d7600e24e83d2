/**
 * PodWiring (agent/cni/handler.ts) over margay's netlink layer instead of iproute2:
 * the same result as agent/cni/ip-wiring.ts (same MACs, gateways, route protocol),
 * without a process per step. Runs in the node's namespace (the agent's); the pod
 * end of the veth is created directly inside the pod namespace (IFLA_NET_NS_FD in
 * VETH_INFO_PEER), and the pod side is programmed through a netlink socket opened in
 * the pod namespace (setns around socket(2), see kernel/nl-socket.ts).
 *
 * IPv6 pods: both ends get accept_dad=0 before they come up (as Calico), so that
 * no link-local stays tentative and node→pod IPv6 (kubelet probes) works at once,
 * and disable_ipv6=0 (the host end; all/default/lo/eth0 in the pod, which a runtime
 * may hand over with IPv6 disabled).
 * Host side: veth with MAC ee:ee:ee:ee:ee:ee, up, forwarding + proxy_arp through
 * IFLA_AF_SPEC (netlink), proxy_delay (and IPv6 proxy_ndp/forwarding) through
 * the sysctl root (default /proc/sys, sysctl.ts) in the node's namespace, a proxy
 * NDP entry for fe80::1, and a /32 (/128) route to the pod with MARGAY_POD_ROUTE_PROTOCOL.
 * Pod side: lo up, the pod's /32 (/128, no DAD), interface up, default routes via
 * 169.254.1.1 (onlink) and fe80::1.
 *
 * Netlink calls are synchronous. ADD's are short (~1 ms in all), but deleting a veth
 * sleeps in the kernel for tens of ms (RCU grace periods), which would stall the
 * agent's event loop — and every CNI request queued behind it. So DEL runs on a
 * worker thread (this same module, started with DELETER_ROLE) with its own socket
 * in the node's namespace; if the worker cannot run (e.g. this module loaded as
 * TypeScript source), DEL falls back to the synchronous call.
 */
import { closeSync, openSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { GATEWAY_V4, GATEWAY_V6, mtuDrift, type PodLink, type PodWiring } from '../cni/handler.js';
import { HOST_MAC, netnsPathExists, podMac } from '../cni/ip-wiring.js';
import { EEXIST, ENODEV, NetlinkError } from './kernel/errno.js';
import { withNetnsSync } from './kernel/nl-socket.js';
import { openRtnl, type Rtnl, throwOnFailure } from './kernel/rtnl.js';
import {
  IFA_F_NODAD, IFF_UP, IPV4_DEVCONF_FORWARDING, IPV4_DEVCONF_PROXY_ARP, NTF_PROXY, NUD_PERMANENT, RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE, RT_TABLE_MAIN,
} from './netlink/constants.js';
import type { LinkRequest } from './netlink/link.js';
import type { RouteMsg } from './netlink/route.js';
import { MARGAY_POD_ROUTE_PROTOCOL } from './plan/resolve.js';
import { DEFAULT_PROC_SYS, hostVethSysctlDrift, podIpv6Sysctls, readSysctl, writeSysctl } from './sysctl.js';

function withPod<T>(netns: string, fn: (pod: Rtnl) => T): T {
  const pod = openRtnl({ netnsPath: netns });
  try {
    return fn(pod);
  } finally {
    pod.close();
  }
}

const route = (family: 4 | 6, dst: string, scope: number, hop: { gateway?: string; ifindex: number; onlink: boolean }): RouteMsg => ({
  family, dst, table: RT_TABLE_MAIN, protocol: MARGAY_POD_ROUTE_PROTOCOL, scope, type: 'unicast',
  nexthops: [{ ...hop, weight: 1 }],
});

const DELETER_ROLE = 'margay-veth-deleter';

interface DeleterData { role: typeof DELETER_ROLE; nodeNetnsPath?: string }
interface DeleteRequest { id: number; hostIf: string }
/** `broken`: the worker is gone; the caller deletes synchronously instead. */
interface DeleteReply { id: number; deleted?: boolean; error?: string; broken?: boolean }

/** Deletes the link named `hostIf` (its veth peer goes with it); false when there is none. */
function deleteByName(rtnl: Rtnl, hostIf: string): boolean {
  const link = rtnl.linkByName(hostIf);
  if (!link) return false;
  try {
    rtnl.deleteLink(link.index);
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === ENODEV) return false; // gone meanwhile
    throw e;
  }
  return true;
}

/** The main thread's end of the deleting worker. */
class VethDeleter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (r: DeleteReply) => void>();
  private nextId = 1;
  broken = false;

  constructor(nodeNetnsPath: string | undefined) {
    const data: DeleterData = { role: DELETER_ROLE, ...(nodeNetnsPath !== undefined ? { nodeNetnsPath } : {}) };
    this.worker = new Worker(new URL(import.meta.url), { workerData: data });
    this.worker.on('message', (r: DeleteReply) => {
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
    });
    const fail = (): void => {
      this.broken = true;
      for (const [id, done] of this.pending) done({ id, broken: true });
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', fail);
    this.worker.unref(); // after the listeners; held only while a DEL is pending
  }

  delete(hostIf: string): Promise<DeleteReply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, hostIf } satisfies DeleteRequest);
    });
  }

  close(): void {
    this.broken = true;
    void this.worker.terminate();
  }
}

export class NetlinkPodWiring implements PodWiring {
  private readonly host: Rtnl;
  private readonly deleter: VethDeleter | undefined;

  /**
   * The node's namespace is the agent's own unless `nodeNetnsPath` names another
   * (tests, or an agent that runs outside its node's namespace). `procSys`: where
   * the sysctls are written (default /proc/sys; /host/proc/sys in an unprivileged pod).
   */
  /** where the sysctls are written and read (`--proc-sys`) */
  private readonly procSys: string;

  constructor(private readonly opts: { nodeNetnsPath?: string; procSys?: string } = {}) {
    this.procSys = opts.procSys ?? DEFAULT_PROC_SYS;
    this.host = openRtnl(opts.nodeNetnsPath !== undefined ? { netnsPath: opts.nodeNetnsPath } : {});
    try {
      this.deleter = new VethDeleter(opts.nodeNetnsPath);
    } catch {
      this.deleter = undefined; // DEL stays synchronous
    }
  }

  /** Writes ROOT/<path> in the node's namespace (net/ follows the writing thread's namespace, whatever the mount). */
  private sysctl(path: string, value: string): void {
    const write = (): void => writeSysctl(this.procSys, path, value);
    if (this.opts.nodeNetnsPath !== undefined) withNetnsSync(this.opts.nodeNetnsPath, write);
    else write();
  }

  /** CHECK: proxy_arp/forwarding (proxy_ndp/forwarding for IPv6) on the host veth, read back in the node's namespace. */
  private hostSysctlDrift(l: PodLink): string[] {
    const drift = (): string[] => hostVethSysctlDrift(l.hostIf, l.addresses.some((a) => a.family === 6), (p) => readSysctl(this.procSys, p));
    return this.opts.nodeNetnsPath !== undefined ? withNetnsSync(this.opts.nodeNetnsPath, drift) : drift();
  }

  /** Writes ROOT/<path> = value for each path in the pod's namespace (this thread moved into it once). */
  private podSysctls(netns: string, paths: readonly string[], value: string): void {
    withNetnsSync(netns, () => { for (const p of paths) writeSysctl(this.procSys, p, value); });
  }

  /** Whether DEL runs on the worker thread (false once it failed: DEL is then synchronous). */
  get deletesOffThread(): boolean {
    return this.deleter !== undefined && !this.deleter.broken;
  }

  close(): void {
    this.deleter?.close();
    this.host.close();
  }

  netnsExists(netns: string): Promise<boolean> {
    return netnsPathExists(netns);
  }

  /**
   * Creates the veth pair, its peer straight inside the pod namespace. A retried
   * ADD finds the host end there (EEXIST): it starts from scratch (the peer goes
   * with the host end). The common path dumps no link table: a dump of the node's
   * links costs O(pods) (≈1 ms per 200 pods, twice per ADD, plus the garbage).
   */
  private createVeth(l: PodLink): void {
    const fd = openSync(l.netns, 'r');
    try {
      const req: LinkRequest = {
        name: l.hostIf, mac: HOST_MAC, ...(l.mtu !== undefined ? { mtu: l.mtu } : {}),
        info: { kind: 'veth', peer: { name: l.podIf, netnsFd: fd, mac: podMac(l.hostIf), ...(l.mtu !== undefined ? { mtu: l.mtu } : {}) } },
      };
      try {
        this.host.addLink(req);
      } catch (e) {
        const stale = e instanceof NetlinkError && e.errno === EEXIST ? this.host.linkByName(l.hostIf) : undefined;
        if (!stale) throw e;
        this.host.deleteLink(stale.index);
        this.host.addLink(req);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Host side of a new veth: up, sysctls, proxy NDP, routes to the pod. */
  private wireHost(l: PodLink, ifindex: number): void {
    // no DAD: a tentative link-local on the host end holds node→pod IPv6 up for 1–2 s
    if (l.addresses.some((a) => a.family === 6)) {
      this.sysctl(`net/ipv6/conf/${l.hostIf}/disable_ipv6`, '0');
      this.sysctl(`net/ipv6/conf/${l.hostIf}/accept_dad`, '0');
    }
    this.host.setLink({ index: ifindex, up: true, inetConf: { [IPV4_DEVCONF_FORWARDING]: 1, [IPV4_DEVCONF_PROXY_ARP]: 1 } });
    this.sysctl(`net/ipv4/neigh/${l.hostIf}/proxy_delay`, '0');
    if (l.addresses.some((a) => a.family === 6)) {
      this.sysctl(`net/ipv6/conf/${l.hostIf}/proxy_ndp`, '1');
      this.sysctl(`net/ipv6/conf/${l.hostIf}/forwarding`, '1');
      this.sysctl(`net/ipv6/neigh/${l.hostIf}/proxy_delay`, '0');
      throwOnFailure(this.host.writeNeighs([{ op: 'replace', neigh: { family: 6, ifindex, state: NUD_PERMANENT, flags: NTF_PROXY, dst: GATEWAY_V6 } }]), () => `proxy NDP ${GATEWAY_V6} on ${l.hostIf}`);
    }
    const hostRoutes = l.addresses.map((a) => route(a.family, `${a.address}/${a.prefix}`, RT_SCOPE_LINK, { ifindex, onlink: false }));
    throwOnFailure(this.host.writeRoutes(hostRoutes.map((r) => ({ op: 'replace', route: r }))), (i) => `route to ${hostRoutes[i]?.dst} via ${l.hostIf}`);
  }

  async add(l: PodLink): Promise<{ hostMac: string; podMac: string }> {
    this.createVeth(l);
    withPod(l.netns, (pod) => {
      const links = pod.links(); // lo and the new interface: cheap, unlike the node's table
      const lo = links.find((x) => x.name === 'lo');
      const eth = links.find((x) => x.name === l.podIf);
      if (!eth) throw new Error(`${l.podIf} did not appear in ${l.netns}`);
      // the pod end's IFLA_LINK is the host end's index (in the node's namespace)
      if (eth.link === undefined || eth.link <= 0) throw new Error(`${l.podIf} in ${l.netns} does not name its veth peer`);
      this.wireHost(l, eth.link);
      if (l.addresses.some((a) => a.family === 6)) this.podSysctls(l.netns, podIpv6Sysctls(l.podIf), '0');
      if (lo && (lo.flags & IFF_UP) === 0) pod.setLink({ index: lo.index, up: true });
      for (const a of l.addresses) pod.addAddr({ ifindex: eth.index, address: `${a.address}/${a.prefix}`, ...(a.family === 6 ? { flags: IFA_F_NODAD } : {}) });
      pod.setLink({ index: eth.index, up: true });
      const defaults: RouteMsg[] = [];
      if (l.addresses.some((a) => a.family === 4)) defaults.push(route(4, '0.0.0.0/0', RT_SCOPE_UNIVERSE, { gateway: GATEWAY_V4, ifindex: eth.index, onlink: true }));
      if (l.addresses.some((a) => a.family === 6)) defaults.push(route(6, '::/0', RT_SCOPE_UNIVERSE, { gateway: GATEWAY_V6, ifindex: eth.index, onlink: false }));
      throwOnFailure(pod.writeRoutes(defaults.map((r) => ({ op: 'replace', route: r }))), (i) => `default route ${defaults[i]?.dst} in ${l.netns}`);
    });
    return { hostMac: HOST_MAC, podMac: podMac(l.hostIf) };
  }

  async del(hostIf: string): Promise<boolean> {
    if (this.deleter && !this.deleter.broken) {
      const r = await this.deleter.delete(hostIf);
      if (!r.broken) {
        if (r.error !== undefined) throw new Error(r.error);
        return r.deleted === true;
      }
    }
    return deleteByName(this.host, hostIf);
  }

  async check(l: PodLink): Promise<string[]> {
    const host = this.host.linkByName(l.hostIf);
    if (!host) return [`host interface ${l.hostIf} does not exist`];
    const problems: string[] = [];
    if ((host.flags & IFF_UP) === 0) problems.push(`host interface ${l.hostIf} is down`);
    problems.push(...this.hostSysctlDrift(l));
    const families = [...new Set(l.addresses.map((a) => a.family))];
    const hostRoutes = families.flatMap((f) => this.host.routes(f));
    for (const a of l.addresses) {
      const dst = `${a.address}/${a.prefix}`;
      if (!hostRoutes.some((r) => r.dst === dst && r.nexthops.some((n) => n.ifindex === host.index))) problems.push(`no host route to ${dst} via ${l.hostIf}`);
    }
    const missing = (): string[] => [...problems, ...mtuDrift(l, host.mtu), `interface ${l.podIf} does not exist in ${l.netns}`];
    if (!(await this.netnsExists(l.netns))) return missing();
    return withPod(l.netns, (pod) => {
      const eth = pod.linkByName(l.podIf);
      if (!eth) return missing();
      problems.push(...mtuDrift(l, host.mtu, eth.mtu));
      const have = new Set(pod.addrs().filter((a) => a.ifindex === eth.index).map((a) => a.address));
      for (const a of l.addresses) if (!have.has(`${a.address}/${a.prefix}`)) problems.push(`${l.podIf} in ${l.netns} lacks ${a.address}/${a.prefix}`);
      for (const [f, gw, zero] of [[4, GATEWAY_V4, '0.0.0.0/0'], [6, GATEWAY_V6, '::/0']] as const) {
        if (!l.addresses.some((a) => a.family === f)) continue;
        const ok = pod.routes(f).some((r) => r.dst === zero && r.nexthops.some((n) => n.gateway === gw && n.ifindex === eth.index));
        if (!ok) problems.push(`no IPv${f} default route via ${gw} in ${l.netns}`);
      }
      return problems;
    });
  }
}

// The deleting worker: this module, loaded on a worker thread with DELETER_ROLE.
function isDeleterData(d: unknown): d is DeleterData {
  return typeof d === 'object' && d !== null && (d as { role?: unknown }).role === DELETER_ROLE;
}

if (!isMainThread && parentPort && isDeleterData(workerData)) {
  const port = parentPort;
  const path = workerData.nodeNetnsPath;
  const rtnl = openRtnl(path !== undefined ? { netnsPath: path } : {});
  port.on('message', (m: DeleteRequest) => {
    let reply: DeleteReply;
    try {
      reply = { id: m.id, deleted: deleteByName(rtnl, m.hostIf) };
    } catch (e) {
      reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
}

/**
 * PodWiring over iproute2 (`ip -batch`, and `nsenter --net=PATH` for the pod side),
 * behind the narrow PodWiring interface so that it can move to the netlink layer.
 * Runs in the node's network namespace (the agent's); the pod end of the veth is
 * created directly inside the pod namespace, so nothing is ever created elsewhere.
 *
 * Host side: veth `mgw…` with MAC ee:ee:ee:ee:ee:ee, accept_dad=0 and disable_ipv6=0
 * on both ends (and all/default/lo in the pod) before they come up (IPv6 pods), up; proxy ARP (answers the
 * pod's 169.254.1.1; the node needs a route to 169.254.1.1, a default route does)
 * and proxy NDP for fe80::1, proxy delay 0, forwarding on the interface (sysctls under
 * the configured root, agent/dataplane/sysctl.ts); a /32 and
 * /128 route to the pod with protocol MARGAY_POD_ROUTE_PROTOCOL.
 * Pod side: CNI_IFNAME with the pod's /32 and /128 (no DAD), a deterministic MAC,
 * default routes via 169.254.1.1 (onlink) and fe80::1.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { run, ExecError } from '../exec.js';
import { MARGAY_POD_ROUTE_PROTOCOL } from '../dataplane/plan/resolve.js';
import { DEFAULT_PROC_SYS, hostVethSysctlDrift, podIpv6Sysctls, readSysctl, sysctlPath, writeSysctl } from '../dataplane/sysctl.js';
import { GATEWAY_V4, GATEWAY_V6, mtuDrift, type PodLink, type PodWiring } from './handler.js';

export const HOST_MAC = 'ee:ee:ee:ee:ee:ee';

/** PodWiring.netnsExists of both wirings (this one and agent/dataplane/pod-wiring.ts): the netns path is there. */
export async function netnsPathExists(netns: string): Promise<boolean> {
  try {
    statSync(netns);
    return true;
  } catch {
    return false;
  }
}

/** A locally administered unicast MAC derived from the host interface name. */
export function podMac(hostIf: string): string {
  const h = createHash('sha1').update(hostIf).digest();
  return ['0a', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** The veth pair, both ends down: their sysctls (accept_dad) must be written before they come up. */
function vethArgv(l: PodLink): string[] {
  const mtu = l.mtu ? ['mtu', String(l.mtu)] : [];
  return ['ip', 'link', 'add', l.hostIf, 'address', HOST_MAC, ...mtu, 'type', 'veth', 'peer', 'name', l.podIf, 'address', podMac(l.hostIf), ...mtu, 'netns', l.netns];
}

function hostLines(l: PodLink): string[] {
  const lines = [`link set ${l.hostIf} up`];
  for (const a of l.addresses) {
    lines.push(`route replace ${a.address}/${a.prefix} dev ${l.hostIf} scope link proto ${MARGAY_POD_ROUTE_PROTOCOL}`);
  }
  if (l.addresses.some((a) => a.family === 6)) lines.push(`neigh replace proxy ${GATEWAY_V6} dev ${l.hostIf}`);
  return lines;
}

function podLines(l: PodLink): string[] {
  const lines = ['link set lo up'];
  for (const a of l.addresses) lines.push(`addr replace ${a.address}/${a.prefix} dev ${l.podIf}${a.family === 6 ? ' nodad' : ''}`);
  lines.push(`link set ${l.podIf} up`);
  if (l.addresses.some((a) => a.family === 4)) lines.push(`route replace default via ${GATEWAY_V4} dev ${l.podIf} onlink`);
  if (l.addresses.some((a) => a.family === 6)) lines.push(`route replace default via ${GATEWAY_V6} dev ${l.podIf}`);
  return lines;
}

/** Whether a link exists in this process's namespace (/proc/self/net follows the netns; /sys may not). */
function linkExists(name: string): boolean {
  return readFileSync('/proc/self/net/dev', 'utf8').split('\n').some((l) => l.trimStart().startsWith(`${name}:`));
}

interface IpLink { ifname: string; address?: string; operstate?: string; flags?: string[]; mtu?: number }
interface IpAddr { ifname: string; mtu?: number; addr_info?: { local: string; prefixlen: number }[] }
interface IpRoute { dst: string; gateway?: string; dev?: string; protocol?: string | number }

export class IpPodWiring implements PodWiring {
  /** `procSys`: where the sysctls are written (agent/dataplane/sysctl.ts; default /proc/sys). */
  /** where the sysctls are written and read (`--proc-sys`) */
  private readonly procSys: string;

  constructor(opts: { procSys?: string } = {}) {
    this.procSys = opts.procSys ?? DEFAULT_PROC_SYS;
  }

  private sysctl(path: string, value: string): void {
    writeSysctl(this.procSys, path, value);
  }

  /** Writes 0 to the sysctl PATHS in the pod's namespace (under the root, by a process inside it). */
  private async podSysctlsZero(netns: string, paths: string[]): Promise<void> {
    const root = this.procSys;
    await run(['nsenter', `--net=${netns}`, 'tee', ...paths.map((p) => sysctlPath(root, p))], { input: '0' });
  }

  netnsExists(netns: string): Promise<boolean> {
    return netnsPathExists(netns);
  }

  async add(l: PodLink): Promise<{ hostMac: string; podMac: string }> {
    // A retried ADD: start from scratch (the peer goes with the host end).
    if (linkExists(l.hostIf)) await this.del(l.hostIf);
    await run(vethArgv(l));
    const v6 = l.addresses.some((a) => a.family === 6);
    // IPv6 on (the pod's namespace may come with it disabled) and no DAD on either end:
    // a tentative link-local on the host end holds node→pod IPv6 up for 1–2 s
    if (v6) {
      this.sysctl(`net/ipv6/conf/${l.hostIf}/disable_ipv6`, '0');
      this.sysctl(`net/ipv6/conf/${l.hostIf}/accept_dad`, '0');
      await this.podSysctlsZero(l.netns, podIpv6Sysctls(l.podIf));
    }
    await run(['ip', '-batch', '-'], { input: `${hostLines(l).join('\n')}\n` });
    const c = `net/ipv4/conf/${l.hostIf}`;
    this.sysctl(`${c}/proxy_arp`, '1');
    this.sysctl(`${c}/forwarding`, '1');
    this.sysctl(`net/ipv4/neigh/${l.hostIf}/proxy_delay`, '0');
    if (v6) {
      this.sysctl(`net/ipv6/conf/${l.hostIf}/proxy_ndp`, '1');
      this.sysctl(`net/ipv6/conf/${l.hostIf}/forwarding`, '1');
      this.sysctl(`net/ipv6/neigh/${l.hostIf}/proxy_delay`, '0');
    }
    await run(['nsenter', `--net=${l.netns}`, 'ip', '-batch', '-'], { input: `${podLines(l).join('\n')}\n` });
    return { hostMac: HOST_MAC, podMac: podMac(l.hostIf) };
  }

  async del(hostIf: string): Promise<boolean> {
    try {
      await run(['ip', 'link', 'del', hostIf]);
      return true;
    } catch (e) {
      if (e instanceof ExecError && /Cannot find device|does not exist/.test(e.stderr)) return false;
      throw e;
    }
  }

  async check(l: PodLink): Promise<string[]> {
    const problems: string[] = [];
    let host: IpLink | undefined;
    try {
      host = (JSON.parse((await run(['ip', '-j', 'link', 'show', 'dev', l.hostIf])).stdout) as IpLink[])[0];
    } catch {
      return [`host interface ${l.hostIf} does not exist`];
    }
    if (!host?.flags?.includes('UP')) problems.push(`host interface ${l.hostIf} is down`);
    problems.push(...hostVethSysctlDrift(l.hostIf, l.addresses.some((a) => a.family === 6), (p) => readSysctl(this.procSys, p)));
    const routes = [
      ...(JSON.parse((await run(['ip', '-j', '-4', 'route', 'show', 'dev', l.hostIf])).stdout) as IpRoute[]),
      ...(JSON.parse((await run(['ip', '-j', '-6', 'route', 'show', 'dev', l.hostIf])).stdout) as IpRoute[]),
    ];
    // `ip -j` prints a host route's dst without its /32 or /128
    for (const a of l.addresses) {
      if (!routes.some((r) => r.dst === a.address || r.dst === `${a.address}/${a.prefix}`)) problems.push(`no host route to ${a.address}/${a.prefix} via ${l.hostIf}`);
    }
    let pod: IpAddr | undefined;
    try {
      pod = (JSON.parse((await run(['nsenter', `--net=${l.netns}`, 'ip', '-j', 'addr', 'show', 'dev', l.podIf])).stdout) as IpAddr[])[0];
    } catch {
      return [...problems, ...mtuDrift(l, host?.mtu), `interface ${l.podIf} does not exist in ${l.netns}`];
    }
    problems.push(...mtuDrift(l, host?.mtu, pod?.mtu));
    const have = new Set((pod?.addr_info ?? []).map((i) => `${i.local}/${i.prefixlen}`));
    for (const a of l.addresses) if (!have.has(`${a.address}/${a.prefix}`)) problems.push(`${l.podIf} in ${l.netns} lacks ${a.address}/${a.prefix}`);
    const podRoutes = [
      ...(JSON.parse((await run(['nsenter', `--net=${l.netns}`, 'ip', '-j', '-4', 'route', 'show', 'default'])).stdout) as IpRoute[]),
      ...(JSON.parse((await run(['nsenter', `--net=${l.netns}`, 'ip', '-j', '-6', 'route', 'show', 'default'])).stdout) as IpRoute[]),
    ];
    if (l.addresses.some((a) => a.family === 4) && !podRoutes.some((r) => r.gateway === GATEWAY_V4 && r.dev === l.podIf)) problems.push(`no IPv4 default route via ${GATEWAY_V4} in ${l.netns}`);
    if (l.addresses.some((a) => a.family === 6) && !podRoutes.some((r) => r.gateway === GATEWAY_V6 && r.dev === l.podIf)) problems.push(`no IPv6 default route via ${GATEWAY_V6} in ${l.netns}`);
    return problems;
  }
}

/**
 * Sysctl files under a configurable root (the agent's --proc-sys / MARGAY_PROC_SYS,
 * default /proc/sys). An unprivileged container has /proc/sys read-only and runc
 * refuses mounts inside /proc, so the chart mounts the host's /proc/sys/net at
 * /host/proc/sys/net and the agent writes there instead (as Cilium's host-proc-sys-net).
 * That is the same thing: the entries under /proc/sys/net, whatever mount reaches
 * them, are those of the network namespace of the task that opens the file, so a
 * write from a thread inside the node's (or a pod's) namespace lands in that namespace.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

export const DEFAULT_PROC_SYS = '/proc/sys';

/**
 * ROOT/PATH for a sysctl PATH in slash form relative to /proc/sys
 * (`net/ipv4/neigh/mgw1/proxy_delay`). Throws on an absolute path, an empty root or an
 * empty, `.` or `..` segment: an interface name must never lead outside the root.
 */
export function sysctlPath(root: string, path: string): string {
  if (root === '') throw new Error('sysctl root is empty');
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new Error(`not a sysctl path: "${path}"`);
  return `${root.replace(/\/+$/, '')}/${path}`;
}

/** Writes VALUE to the sysctl PATH under ROOT (in the calling thread's network namespace for net/). */
export function writeSysctl(root: string, path: string, value: string): void {
  writeFileSync(sysctlPath(root, path), value);
}

/** The value of the sysctl PATH under ROOT, trimmed (in the calling thread's network namespace for net/). */
export function readSysctl(root: string, path: string): string {
  return readFileSync(sysctlPath(root, path), 'utf8').trim();
}

/** The host veth's sysctls ADD leaves at 1 (IPv6 ones for an IPv6 pod), as [path, dotted name]. */
export function hostVethSysctls(hostIf: string, v6: boolean): [string, string][] {
  const paths = [`net/ipv4/conf/${hostIf}/proxy_arp`, `net/ipv4/conf/${hostIf}/forwarding`];
  if (v6) paths.push(`net/ipv6/conf/${hostIf}/proxy_ndp`, `net/ipv6/conf/${hostIf}/forwarding`);
  return paths.map((p) => [p, p.replaceAll('/', '.')]);
}

/** CHECK: the host veth's sysctls that are not 1, read through `read` (which may throw). */
export function hostVethSysctlDrift(hostIf: string, v6: boolean, read: (path: string) => string): string[] {
  const problems: string[] = [];
  for (const [path, name] of hostVethSysctls(hostIf, v6)) {
    let v: string;
    try {
      v = read(path);
    } catch (e) {
      problems.push(`cannot read ${name}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    if (v !== '1') problems.push(`${name} is ${v}, not 1`);
  }
  return problems;
}

/**
 * What an IPv6 pod's namespace needs at 0 before its addresses go on: IPv6 on (some
 * runtimes hand over namespaces with disable_ipv6=1; as Calico, all/default/lo and
 * the pod's interface) and no DAD on the pod's interface.
 */
export function podIpv6Sysctls(podIf: string): string[] {
  return [...['all', 'default', 'lo', podIf].map((d) => `net/ipv6/conf/${d}/disable_ipv6`), `net/ipv6/conf/${podIf}/accept_dad`];
}

/** Which node-wide forwarding the agent turns on at start (MARGAY_IP_FORWARDING: on, the default; ipv4; off). */
export type NodeForwarding = 'on' | 'ipv4' | 'off';

export function nodeForwardingOf(env: string | undefined): NodeForwarding {
  if (env === undefined || env === '' || env === 'on') return 'on';
  if (env === 'ipv4' || env === 'off') return env;
  throw new Error(`MARGAY_IP_FORWARDING must be on, ipv4 or off, not "${env}"`);
}

export interface ForwardingOutcome {
  /** the sysctls found at 0 and set to 1 */
  enabled: string[];
  /** interfaces whose accept_ra went 1 → 2 as IPv6 forwarding came on (router advertisements still taken) */
  raKept: string[];
  /** those that could not be read or written (IPv6 absent: skipped, not listed) */
  failed: { path: string; error: string }[];
}

/**
 * Node-wide forwarding (net.ipv4.ip_forward; net.ipv6.conf.all.forwarding unless
 * `mode` is ipv4), as Calico's felix (IPForwarding=Enabled): pods reach beyond the
 * node only through it. Writes 1 where it reads 0, in the calling thread's
 * namespace under ROOT. A node without IPv6 (no net/ipv6) is left as it is.
 */
export function ensureNodeForwarding(root: string, mode: NodeForwarding): ForwardingOutcome {
  const out: ForwardingOutcome = { enabled: [], raKept: [], failed: [] };
  if (mode === 'off') return out;
  const paths = ['net/ipv4/ip_forward', ...(mode === 'on' ? ['net/ipv6/conf/all/forwarding'] : [])];
  for (const path of paths) {
    try {
      if (readSysctl(root, path) !== '0') continue;
      if (path === 'net/ipv6/conf/all/forwarding') out.raKept = keepRouterAdvertisements(root, out.failed);
      writeSysctl(root, path, '1');
      out.enabled.push(path);
    } catch (e) {
      if (path.startsWith('net/ipv6/') && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      out.failed.push({ path, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/**
 * With forwarding on, the kernel ignores router advertisements on interfaces whose
 * accept_ra is 1: a node that learns its IPv6 default route by SLAAC would lose it.
 * Its own interfaces at 1 go to 2 (taken even when forwarding). Not `all`/`default`
 * (new interfaces, pods' host veths among them, must not take routes from pods), not
 * `lo`, not workload veths (mgw…).
 */
function keepRouterAdvertisements(root: string, failed: ForwardingOutcome['failed']): string[] {
  const kept: string[] = [];
  let names: string[];
  try {
    names = readdirSync(sysctlPath(root, 'net/ipv6/conf'));
  } catch {
    return kept;
  }
  for (const name of names) {
    if (['all', 'default', 'lo'].includes(name) || name.startsWith('mgw')) continue;
    const path = `net/ipv6/conf/${name}/accept_ra`;
    try {
      if (readSysctl(root, path) !== '1') continue;
      writeSysctl(root, path, '2');
      kept.push(name);
    } catch (e) {
      failed.push({ path, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return kept;
}

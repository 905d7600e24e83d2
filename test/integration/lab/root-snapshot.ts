import { run } from '../../../agent/lab/exec.js';

/**
 * A snapshot of what the lab promises never to change in the root network
 * namespace: links, addresses, routes (IPv4 and IPv6, every table), policy rules,
 * and the sysctls the lab sets inside its own namespaces. Volatile fields
 * (counters, address lifetimes, route expiry, operstate) are dropped; everything
 * else is kept as the kernel reports it.
 */
export interface RootSnapshot {
  links: unknown[];
  addrs: unknown[];
  routes4: unknown[];
  routes6: unknown[];
  rules: unknown[];
  sysctls: Record<string, string>;
}

const SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv6/conf/all/forwarding',
  'net/ipv6/conf/default/accept_dad',
  'net/ipv6/conf/all/accept_dad',
];

async function ipJson(ns: string | undefined, ...args: string[]): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(['ip', ...(ns ? ['-n', ns] : []), '-j', ...args]);
  return JSON.parse(stdout || '[]') as Record<string, unknown>[];
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = Array.isArray(o[k]) ? [...(o[k] as unknown[])].sort() : o[k];
  return out;
}

const LINK_KEYS = ['ifindex', 'ifname', 'flags', 'mtu', 'link_type', 'address', 'master', 'link', 'link_netnsid'];
const ROUTE_KEYS = ['type', 'dst', 'gateway', 'dev', 'table', 'protocol', 'scope', 'prefsrc', 'metric', 'nexthops'];

/** The root namespace's snapshot; with `ns`, a lab namespace's (to prove the snapshot sees changes). */
export async function snapshotRoot(ns?: string): Promise<RootSnapshot> {
  const [links, addrs, routes4, routes6, rules] = await Promise.all([
    ipJson(ns, 'link'),
    ipJson(ns, 'addr'),
    ipJson(ns, '-4', 'route', 'show', 'table', 'all'),
    ipJson(ns, '-6', 'route', 'show', 'table', 'all'),
    ipJson(ns, 'rule'),
  ]);
  const sysctls: Record<string, string> = {};
  const paths = SYSCTLS.map((k) => `/proc/sys/${k}`);
  const { stdout } = await run([...(ns ? ['ip', 'netns', 'exec', ns] : []), 'cat', ...paths]);
  stdout.trim().split('\n').forEach((v, i) => (sysctls[SYSCTLS[i] as string] = v.trim()));
  return {
    links: links.map((l) => pick(l, LINK_KEYS)),
    addrs: addrs.map((a) => ({
      ifname: a.ifname,
      addr_info: ((a.addr_info as Record<string, unknown>[]) ?? []).map((i) => pick(i, ['family', 'local', 'prefixlen', 'scope'])),
    })),
    routes4: routes4.map((r) => pick(r, ROUTE_KEYS)),
    routes6: routes6.map((r) => pick(r, ROUTE_KEYS)),
    rules,
    sysctls,
  };
}

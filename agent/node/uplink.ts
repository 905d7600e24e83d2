/**
 * The dataplane's configuration for this node, read from the kernel: the uplink
 * (the `--uplink` flag, else the device holding the node's IPv4 address, else the
 * device holding its IPv6 address — a global one, never link-local, which every
 * device has) and the node's own addresses completed with the kernel's prefix
 * length — a Node that only has an InternalIP (/32) would otherwise share a subnet
 * with nobody (CrossSubnet, direct routes). `nodes` is updated in place for this
 * node. No uplink found: an UplinkError that says what was looked for.
 */
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import type { AddrMsg } from '../dataplane/netlink/addr.js';
import { RT_SCOPE_UNIVERSE } from '../dataplane/netlink/constants.js';
import { bytesToIp, ipToBytes } from '../dataplane/netlink/ip.js';
import type { LinkMsg } from '../dataplane/netlink/link.js';
import { DEFAULT_CONFIG, type DataplaneConfig } from '../dataplane/plan/types.js';
import { hostOf } from '../node-config/node-info.js';
import { ANNOTATIONS, type NodeBgpInfo } from '../node-config/types.js';

export class UplinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UplinkError';
  }
}

/** The address in the kernel's text form (fd00:0::1 and fd00::1 are one address). */
function sameHost(a: string, b: string): boolean {
  try {
    return bytesToIp(ipToBytes(hostOf(a))) === bytesToIp(ipToBytes(hostOf(b)));
  } catch {
    return hostOf(a) === hostOf(b);
  }
}

/** The kernel's address equal to `address`; for IPv6 only global-scope ones count. */
function held(addrs: readonly AddrMsg[], address: string | undefined, family: 4 | 6): AddrMsg | undefined {
  if (address === undefined) return undefined;
  return addrs.find((x) => x.family === family && (family === 4 || x.scope === RT_SCOPE_UNIVERSE) && sameHost(x.address, address));
}

/** Which device is the uplink, or why none is: pure over what the kernel listed. */
export function pickUplink(
  node: string, uplinkFlag: string | undefined, me: NodeBgpInfo | undefined,
  kernel: { links: readonly LinkMsg[]; addrs4: readonly AddrMsg[]; addrs6: readonly AddrMsg[] },
): { link: LinkMsg; mine?: AddrMsg; mine6?: AddrMsg } {
  const mine = held(kernel.addrs4, me?.address, 4);
  const mine6 = held(kernel.addrs6, me?.address6, 6);
  const found = { ...(mine ? { mine } : {}), ...(mine6 ? { mine6 } : {}) };
  if (uplinkFlag !== undefined) {
    const link = kernel.links.find((l) => l.name === uplinkFlag);
    if (!link) throw new UplinkError(`no uplink device: --uplink ${uplinkFlag} names no device in this network namespace`);
    return { link, ...found };
  }
  const byIndex = (a: AddrMsg | undefined): LinkMsg | undefined => (a ? kernel.links.find((l) => l.index === a.ifindex) : undefined);
  const link = byIndex(mine) ?? byIndex(mine6);
  if (link) return { link, ...found };
  const hint = `give --uplink, or annotate Node ${node} with its address (${ANNOTATIONS.ipv4Address} or ${ANNOTATIONS.ipv6Address})`;
  if (!me) throw new UplinkError(`no uplink device: Node ${node} is not in the datastore (yet); ${hint}`);
  if (me.address === undefined && me.address6 === undefined) throw new UplinkError(`no uplink device: Node ${node} has no IPv4 or IPv6 address; ${hint}`);
  const looked = [
    ...(me.address !== undefined ? [`IPv4 address ${hostOf(me.address)}`] : []),
    ...(me.address6 !== undefined ? [`global IPv6 address ${hostOf(me.address6)}`] : []),
  ];
  throw new UplinkError(`no uplink device: no device of this network namespace holds Node ${node}'s ${looked.join(' or its ')}; ${hint}`);
}

/** Throws UplinkError when no uplink is found (the flag names no device, or no device holds the node's addresses). */
export function dataplaneConfigOf(node: string, uplinkFlag: string | undefined, nodes: NodeBgpInfo[], nl: Rtnl): DataplaneConfig {
  const me = nodes.find((n) => n.name === node);
  const { link, mine, mine6 } = pickUplink(node, uplinkFlag, me, { links: nl.links(), addrs4: me?.address !== undefined ? nl.addrs(4) : [], addrs6: me?.address6 !== undefined ? nl.addrs(6) : [] });
  if (me && mine && me.address !== mine.address) me.address = mine.address;
  if (me && mine6 && me.address6 !== mine6.address) me.address6 = mine6.address;
  return { ...DEFAULT_CONFIG, uplink: link.name, uplinkMtu: link.mtu ?? 1500 };
}

/**
 * The dataplane's configuration for this node, read from the kernel: the uplink
 * (the `--uplink` flag, or the device holding the node's address) and the node's
 * own addresses completed with the kernel's prefix length — a Node that only has an
 * InternalIP (/32) would otherwise share a subnet with nobody (CrossSubnet, direct
 * routes). `nodes` is updated in place for this node.
 */
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import { DEFAULT_CONFIG, type DataplaneConfig } from '../dataplane/plan/types.js';
import { hostOf } from '../node-config/node-info.js';
import type { NodeBgpInfo } from '../node-config/types.js';

export function dataplaneConfigOf(node: string, uplinkFlag: string | undefined, nodes: NodeBgpInfo[], nl: Rtnl): DataplaneConfig | undefined {
  const me = nodes.find((n) => n.name === node);
  const mine = me?.address ? nl.addrs(4).find((x) => hostOf(x.address) === hostOf(me.address as string)) : undefined;
  if (me && mine && me.address !== mine.address) me.address = mine.address;
  const mine6 = me?.address6 ? nl.addrs(6).find((x) => hostOf(x.address) === hostOf(me.address6 as string)) : undefined;
  if (me && mine6 && me.address6 !== mine6.address) me.address6 = mine6.address;
  let uplink = uplinkFlag ? nl.linkByName(uplinkFlag) : undefined;
  if (!uplink && mine) uplink = nl.links().find((l) => l.index === mine.ifindex);
  if (!uplink) return undefined;
  return { ...DEFAULT_CONFIG, uplink: uplink.name, uplinkMtu: uplink.mtu ?? 1500 };
}

/**
 * The narrow interface the dataplane (and the CNI plugin) program the kernel through,
 * and its implementation on one netlink socket. Everything is in the namespace the
 * socket was opened in: the agent's own (the node's) by default, or a pod's via
 * `openRtnl({ netns })`.
 */
import {
  NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_APPEND, RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELROUTE,
  RTM_GETADDR, RTM_GETLINK, RTM_GETNEIGH, RTM_GETROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWNEIGH, RTM_NEWROUTE, RTM_SETLINK,
} from '../netlink/constants.js';
import { type AddrMsg, decodeAddr, encodeAddr, encodeAddrDump } from '../netlink/addr.js';
import type { Family } from '../netlink/ip.js';
import { decodeLink, encodeLink, type LinkMsg, type LinkRequest } from '../netlink/link.js';
import { decodeNeigh, encodeNeigh, encodeNeighDump, type NeighFamily, type NeighMsg } from '../netlink/neigh.js';
import { decodeRoute, encodeRoute, encodeRouteDump, type RouteMsg } from '../netlink/route.js';
import { NetlinkError } from './errno.js';
import { type BatchFailure, netnsPath, NlSocket, type NlRequest } from './nl-socket.js';

export type RouteWrite = { op: 'add' | 'replace' | 'append' | 'delete'; route: RouteMsg };
export type NeighWrite = { op: 'replace' | 'delete'; neigh: NeighMsg };

export interface Rtnl {
  links(): LinkMsg[];
  linkByName(name: string): LinkMsg | undefined;
  /** RTM_NEWLINK with CREATE|EXCL; throws NetlinkError (EEXIST, EOPNOTSUPP for an unknown kind, ...). */
  addLink(req: LinkRequest): void;
  /** Changes an existing link (by index or name): up/down, mtu, mac, namespace, sysctls. */
  setLink(req: LinkRequest): void;
  deleteLink(index: number): void;
  addrs(family?: Family): AddrMsg[];
  addAddr(a: { ifindex: number; address: string; scope?: number; flags?: number }): void;
  deleteAddr(a: { ifindex: number; address: string }): void;
  routes(family: Family): RouteMsg[];
  /** Route writes in few datagrams; returns the refused ones (with the write's index). */
  writeRoutes(writes: readonly RouteWrite[]): BatchFailure[];
  neighs(family: NeighFamily): NeighMsg[];
  writeNeighs(writes: readonly NeighWrite[]): BatchFailure[];
  close(): void;
}

const routeFlags: Record<RouteWrite['op'], number> = {
  add: NLM_F_CREATE | NLM_F_EXCL,
  replace: NLM_F_CREATE | NLM_F_REPLACE,
  append: NLM_F_CREATE | NLM_F_APPEND,
  delete: 0,
};

export class KernelRtnl implements Rtnl {
  constructor(private readonly sock: NlSocket) {}

  links(): LinkMsg[] {
    return this.sock.dump(RTM_GETLINK, encodeLink({}), 'dump links').flatMap((m) => decodeLink(m.body) ?? []);
  }

  linkByName(name: string): LinkMsg | undefined {
    return this.links().find((l) => l.name === name);
  }

  addLink(req: LinkRequest): void {
    this.sock.request({ type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, body: encodeLink(req) }, `add link ${req.name ?? req.index}`);
  }

  setLink(req: LinkRequest): void {
    this.sock.request({ type: req.netnsFd !== undefined || req.inetConf ? RTM_NEWLINK : RTM_SETLINK, flags: 0, body: encodeLink(req) }, `set link ${req.name ?? req.index}`);
  }

  deleteLink(index: number): void {
    this.sock.request({ type: RTM_DELLINK, flags: 0, body: encodeLink({ index }) }, `delete link ${index}`);
  }

  addrs(family?: Family): AddrMsg[] {
    return this.sock.dump(RTM_GETADDR, encodeAddrDump(family ?? 0), 'dump addresses').flatMap((m) => decodeAddr(m.body) ?? []);
  }

  addAddr(a: { ifindex: number; address: string; scope?: number; flags?: number }): void {
    this.sock.request({ type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_REPLACE, body: encodeAddr(a) }, `add address ${a.address}`);
  }

  deleteAddr(a: { ifindex: number; address: string }): void {
    this.sock.request({ type: RTM_DELADDR, flags: 0, body: encodeAddr(a) }, `delete address ${a.address}`);
  }

  routes(family: Family): RouteMsg[] {
    return this.sock.dump(RTM_GETROUTE, encodeRouteDump(family), 'dump routes').flatMap((m) => decodeRoute(m.body) ?? []);
  }

  writeRoutes(writes: readonly RouteWrite[]): BatchFailure[] {
    return this.sock.batch(writes.map((w): NlRequest => ({
      type: w.op === 'delete' ? RTM_DELROUTE : RTM_NEWROUTE,
      flags: routeFlags[w.op],
      body: encodeRoute(w.route),
    })));
  }

  neighs(family: NeighFamily): NeighMsg[] {
    return this.sock.dump(RTM_GETNEIGH, encodeNeighDump(family), 'dump neighbours').flatMap((m) => decodeNeigh(m.body) ?? []);
  }

  writeNeighs(writes: readonly NeighWrite[]): BatchFailure[] {
    return this.sock.batch(writes.map((w): NlRequest => ({
      type: w.op === 'delete' ? RTM_DELNEIGH : RTM_NEWNEIGH,
      flags: w.op === 'delete' ? 0 : NLM_F_CREATE | NLM_F_REPLACE,
      body: encodeNeigh(w.neigh),
    })));
  }

  close(): void {
    this.sock.close();
  }
}

/** rtnetlink in the current namespace, or in a named one (`ip netns` name) or a namespace path. */
export function openRtnl(opts: { netns?: string; netnsPath?: string } = {}): KernelRtnl {
  const path = opts.netnsPath ?? (opts.netns !== undefined ? netnsPath(opts.netns) : undefined);
  return new KernelRtnl(NlSocket.open(path !== undefined ? { netnsPath: path } : {}));
}

/** Throws the first failure of a batch as a NetlinkError. */
export function throwOnFailure(failures: readonly BatchFailure[], what: (index: number) => string): void {
  const f = failures[0];
  if (f) throw new NetlinkError(f.errno, `${what(f.index)}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`, f.message);
}

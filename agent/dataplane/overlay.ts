/**
 * Tunnel devices and their neighbour state, converged like routes: read what the
 * kernel has, change only what differs. margay owns its devices by name (the VXLAN
 * device, tunl0) and everything on them: addresses, FDB and ARP entries.
 * - VXLAN: device with VNI, port, local address, underlay device, learning off; MTU
 *   50 below the uplink; MAC from vtepMac(); the VTEP address as a /32; per remote
 *   node one FDB entry (VTEP MAC → node address) and one permanent ARP entry (VTEP
 *   address → VTEP MAC); when an IPv6 pool encapsulates, also one permanent IPv6
 *   neighbour (the VTEP's link-local address → VTEP MAC): IPv6 pod traffic rides
 *   the same IPv4-underlay device. The IPv6-underlay device (vxlan-v6.margay, for
 *   IPv6-only nodes) is the same function with an IPv6 `local`, FDB dst and no address. Parameters the kernel cannot change (VNI, port, local, link)
 *   are fixed by deleting and recreating the device.
 * - IPIP: tunl0 (kind ipip, the fallback device). Where the kernel has no ipip module
 *   the device cannot exist: OverlayUnavailableError says so, naming the module.
 *   Creating it may itself load the module, whose fallback tunl0 then already
 *   exists (EEXIST): that device is adopted.
 * A refused neighbour write (FDB, ARP, IPv6 neighbour) does not stop the pass: it is
 * reported in `problems` (the other entries, the routes and NAT still converge) and
 * retried by the next pass, which finds it still missing. Device and address
 * failures throw: without the device nothing on it can be written.
 */
import { EEXIST, EOPNOTSUPP, errnoName, NetlinkError } from './kernel/errno.js';
import type { NeighWrite, Rtnl } from './kernel/rtnl.js';
import { NTF_SELF, NUD_PERMANENT, IFF_UP, RT_SCOPE_UNIVERSE } from './netlink/constants.js';
import type { LinkMsg } from './netlink/link.js';
import type { NeighMsg } from './netlink/neigh.js';
import type { IpipPlan, VxlanPlan } from './plan/types.js';

export class OverlayUnavailableError extends Error {
  constructor(message: string, readonly module: string) {
    super(message);
    this.name = 'OverlayUnavailableError';
  }
}

export interface OverlayReport {
  device: string;
  created: boolean;
  recreated: boolean;
  changes: string[];
  /** Neighbour writes the kernel refused, one sentence per kind (fdb, arp, nd). */
  problems: string[];
}

function vxlanMatches(l: LinkMsg, p: VxlanPlan, uplink: number): boolean {
  if (l.info?.kind !== 'vxlan') return false;
  const v = l.info.vxlan;
  return v.vni === p.vni && v.port === p.port && v.local === p.local && v.link === uplink && !v.learning;
}

/** Converges one device's addresses to `want` (global IPv4/IPv6, not link-local). */
function reconcileAddresses(nl: Rtnl, ifindex: number, want: readonly string[], changes: string[]): void {
  const have = nl.addrs().filter((a) => a.ifindex === ifindex && a.scope === RT_SCOPE_UNIVERSE).map((a) => a.address);
  for (const a of have) if (!want.includes(a)) { nl.deleteAddr({ ifindex, address: a }); changes.push(`address -${a}`); }
  for (const a of want) if (!have.includes(a)) { nl.addAddr({ ifindex, address: a }); changes.push(`address +${a}`); }
}

const neighKey = (n: Pick<NeighMsg, 'dst' | 'lladdr'>): string => `${n.dst ?? ''}>${n.lladdr ?? ''}`;

function reconcileNeighs(nl: Rtnl, have: readonly NeighMsg[], want: readonly NeighMsg[], what: string, report: OverlayReport): void {
  const wantKeys = new Set(want.map(neighKey));
  const haveKeys = new Set(have.map(neighKey));
  const writes: NeighWrite[] = [
    ...have.filter((n) => !wantKeys.has(neighKey(n))).map((neigh): NeighWrite => ({ op: 'delete', neigh })),
    ...want.filter((n) => !haveKeys.has(neighKey(n))).map((neigh): NeighWrite => ({ op: 'replace', neigh })),
  ];
  if (writes.length === 0) return;
  const failures = nl.writeNeighs(writes);
  const failed = new Set(failures.map((f) => f.index));
  writes.forEach((w, i) => { if (!failed.has(i)) report.changes.push(`${what} ${w.op === 'delete' ? '-' : '+'}${neighKey(w.neigh)}`); });
  const f = failures[0];
  if (f) {
    const w = writes[f.index];
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : '';
    report.problems.push(`VXLAN ${report.device}: ${what} ${w?.op ?? '?'} ${neighKey(w?.neigh ?? {})} failed: ${errnoName(f.errno)}${f.message ? ` (${f.message})` : ''}${more}`);
  }
}

/** Converges the VXLAN device; with no plan, removes margay's device if present. */
export function reconcileVxlan(nl: Rtnl, plan: VxlanPlan | undefined, opts: { device: string; uplink: string }): OverlayReport {
  const report: OverlayReport = { device: plan?.device ?? opts.device, created: false, recreated: false, changes: [], problems: [] };
  let dev = nl.linkByName(report.device);
  if (!plan) {
    if (dev) { nl.deleteLink(dev.index); report.changes.push('device deleted'); }
    return report;
  }
  const uplink = nl.linkByName(opts.uplink);
  if (!uplink) throw new Error(`VXLAN: uplink device ${opts.uplink} does not exist`);
  if (dev && !vxlanMatches(dev, plan, uplink.index)) {
    nl.deleteLink(dev.index);
    dev = undefined;
    report.recreated = true;
  }
  if (!dev) {
    nl.addLink({
      name: plan.device, mtu: plan.mtu, mac: plan.mac, up: true,
      info: { kind: 'vxlan', vxlan: { vni: plan.vni, port: plan.port, local: plan.local, link: uplink.index, learning: false } },
    });
    report.created = !report.recreated;
    dev = nl.linkByName(plan.device);
    if (!dev) throw new Error(`VXLAN: ${plan.device} vanished after creation`);
  } else if (dev.mtu !== plan.mtu || dev.mac !== plan.mac || (dev.flags & IFF_UP) === 0) {
    nl.setLink({ index: dev.index, mtu: plan.mtu, mac: plan.mac, up: true });
    report.changes.push('link settings');
  }
  const index = dev.index;
  reconcileAddresses(nl, index, plan.address !== undefined ? [plan.address] : [], report.changes);
  const fdbHave = nl.neighs('bridge').filter((n) => n.ifindex === index && (n.flags & NTF_SELF) !== 0 && n.dst !== undefined);
  const fdbWant = plan.peers.map((p): NeighMsg => ({ family: 'bridge', ifindex: index, state: NUD_PERMANENT, flags: NTF_SELF, lladdr: p.mac, dst: p.underlay }));
  reconcileNeighs(nl, fdbHave, fdbWant, 'fdb', report);
  const arpHave = nl.neighs(4).filter((n) => n.ifindex === index && (n.state & NUD_PERMANENT) !== 0);
  const arpWant = plan.peers.flatMap((p): NeighMsg[] => (p.tunnelAddress !== undefined ? [{ family: 4, ifindex: index, state: NUD_PERMANENT, flags: 0, lladdr: p.mac, dst: p.tunnelAddress }] : []));
  reconcileNeighs(nl, arpHave, arpWant, 'arp', report);
  const ndHave = nl.neighs(6).filter((n) => n.ifindex === index && (n.state & NUD_PERMANENT) !== 0);
  const ndWant = plan.peers.flatMap((p): NeighMsg[] => (p.tunnelAddress6 !== undefined ? [{ family: 6, ifindex: index, state: NUD_PERMANENT, flags: 0, lladdr: p.mac, dst: p.tunnelAddress6 }] : []));
  reconcileNeighs(nl, ndHave, ndWant, 'nd', report);
  return report;
}

/** Whether the running kernel can make ipip devices (module loaded or loadable on demand). */
export const IPIP_MODULE = 'ipip';

const kindOf = (l: LinkMsg): string => (l.info?.kind === 'other' ? l.info.name : l.info?.kind ?? 'plain');

/**
 * Creates tunl0 and returns it. The request itself may load the ipip module, whose
 * fallback tunl0 then appears in every namespace — so this CREATE|EXCL finds it and
 * answers EEXIST (kube-router's "tunl0: File exists"): that device is the one wanted.
 */
function createIpip(nl: Rtnl, plan: IpipPlan): LinkMsg {
  try {
    nl.addLink({ name: plan.device, mtu: plan.mtu, up: true, info: { kind: 'ipip', ipip: {} } });
  } catch (err) {
    if (!(err instanceof NetlinkError)) throw err;
    if (err.errno === EOPNOTSUPP) {
      throw new OverlayUnavailableError(`IPIP: this kernel has no "${IPIP_MODULE}" module (creating ${plan.device} of kind ipip: ${err.message})`, IPIP_MODULE);
    }
    if (err.errno !== EEXIST) throw err;
    const found = nl.linkByName(plan.device);
    if (found?.info?.kind === 'ipip') return found;
    throw new Error(`IPIP: creating ${plan.device} failed with EEXIST and ${found ? `${plan.device} is a ${kindOf(found)} device` : `no ${plan.device} is there`}`, { cause: err });
  }
  const dev = nl.linkByName(plan.device);
  if (!dev) throw new Error(`IPIP: ${plan.device} vanished after creation`);
  return dev;
}

/** Converges tunl0; throws OverlayUnavailableError when the kernel has no ipip support. */
export function reconcileIpip(nl: Rtnl, plan: IpipPlan | undefined, opts: { device: string }): OverlayReport {
  const report: OverlayReport = { device: plan?.device ?? opts.device, created: false, recreated: false, changes: [], problems: [] };
  let dev = nl.linkByName(report.device);
  if (!plan) {
    // tunl0 is the module's fallback device and cannot be deleted; take it down instead
    if (dev && (dev.flags & IFF_UP) !== 0) { nl.setLink({ index: dev.index, up: false }); report.changes.push('device down'); }
    return report;
  }
  if (dev && dev.info?.kind !== 'ipip') throw new Error(`IPIP: ${report.device} exists and is a ${kindOf(dev)} device`);
  if (!dev) {
    dev = createIpip(nl, plan);
    report.created = true;
  }
  if (dev.mtu !== plan.mtu || (dev.flags & IFF_UP) === 0) {
    nl.setLink({ index: dev.index, mtu: plan.mtu, up: true });
    report.changes.push('link settings');
  }
  reconcileAddresses(nl, dev.index, plan.address !== undefined ? [plan.address] : [], report.changes);
  return report;
}

/**
 * What this node tells its BGP peers: the speaker's plan (peers, identity, log level)
 * from the snapshot, and the prefixes it originates — its own IPAM blocks, a host
 * route (/32, /128) for each address it holds in a block not its own (borrowed:
 * borrowed.ts; withdrawn once released), and `serviceClusterIPs`. `update()` reconciles the running speaker with both whole
 * (after a routing object or an own block changed); `claimed()` is the fast path for
 * one block just claimed here, inside the CNI ADD, before its pod is wired, and
 * `released()` its reverse, for a block of this node just deleted by the allocator.
 *
 * With BGP off there is no speaker: an external one exports this node's blackholes
 * from the kernel, so writing the blackhole is the announcement.
 *
 * State: the last plan and the snapshot it was made from (a claim re-uses it), and
 * the bgp log level the agent started with (restored when logSeverityScreen goes).
 */
import type { Logger } from 'pino';
import type { Snapshot } from '../datastore/snapshot.js';
import type { Block } from '../ipam/types.js';
import { planNodeBgp } from '../node-config/node-config.js';
import type { NodeBgp } from './bgp.js';
import { externalImportPrefixes, originatedPrefixes } from './desired.js';
import type { IpamView } from './ipam-view.js';
import type { AgentOptions } from './options.js';
import type { RouteTrace } from './route-trace.js';

export interface OriginationDeps {
  o: Pick<AgentOptions, 'node' | 'bgpDefaults' | 'fastRoutes' | 'logs'>;
  bgp: NodeBgp;
  bgpOff: boolean;
  trace: RouteTrace;
  view: IpamView;
  /** this node's blocks (the view's, without those released here and not yet re-read) */
  own: () => Block[];
  snapshot: () => Snapshot | undefined;
  /** the route fast path for these prefixes (RoutesPass.writeFast) */
  writeFast: (prefixes: readonly string[]) => void;
  /** a claim's own write brings newer IPAM records than those waiting (DeferredInputs.dropIpam) */
  dropDeferredIpam: () => void;
}

export class Origination {
  private planned: { snapshot: Snapshot; plan: ReturnType<typeof planNodeBgp> } | undefined;
  /** the bgp component's level as the agent configured it (--log-level): back to it when logSeverityScreen goes */
  private readonly defaultBgpLevel: string;

  constructor(private readonly d: OriginationDeps) {
    this.defaultBgpLevel = d.o.logs.bgp.level;
  }

  private get log(): Logger {
    return this.d.o.logs.agent;
  }

  /** The speaker reconciled with the newest snapshot's plan and this node's blocks (nothing before both are read). */
  update(): Promise<void> {
    const { d } = this;
    const snapshot = d.snapshot();
    if (d.bgpOff || !snapshot || !d.view.read) return Promise.resolve();
    if (this.planned?.snapshot !== snapshot) {
      this.planned = { snapshot, plan: planNodeBgp(snapshot, d.o.node, d.o.bgpDefaults) };
      if (this.planned.plan.skipped) this.log.debug({ skipped: this.planned.plan.skipped }, 'bgp: peers left out of the plan');
    }
    const plan = this.planned.plan;
    const bgpLog = d.o.logs.bgp;
    const level = plan.local?.logLevel ?? this.defaultBgpLevel;
    if (bgpLog.level !== level) {
      this.log.info({ level }, plan.local?.logLevel ? 'bgp: log level from BGPConfiguration.logSeverityScreen' : 'bgp: log level back to the agent\'s (no logSeverityScreen)');
      bgpLog.level = level;
    }
    return d.bgp.update(plan, originated(plan, d.own(), d.view.borrowedHere()), externalImportPrefixes(snapshot));
  }

  /**
   * A block was just claimed for this node (inside a CNI ADD, before its pod is
   * wired): announce it at once — the UPDATE is written before this returns — then
   * its blackhole, one netlink message. Announcing first is safe: pods in the block
   * get their own /32 routes, the blackhole only drops traffic to its unused
   * addresses. The full pass follows, debounced.
   */
  claimed(b: Block): void {
    const { d } = this;
    const at = wallMs();
    if (d.o.fastRoutes === false) return void this.log.info({ cidr: b.cidr, at }, 'ipam: block claimed');
    d.trace.claim();
    d.dropDeferredIpam(); // a change feed's list from before the claim would drop the block; the claim's own write brings a new one
    if (d.bgpOff) {
      d.view.claimed(b);
      // the external speaker exports the blackhole from the kernel: writing it is the announcement
      d.writeFast([b.cidr]);
      return void this.log.info({ cidr: b.cidr, at }, 'ipam: block claimed, blackholed (BGP off)');
    }
    d.trace.originate();
    // the UPDATE first, the view's bookkeeping after; the plan depends on routing objects only, and every change of those re-plans (inputsChanged)
    const own = d.own();
    const announced = this.originateNow(own.some((x) => x.cidr === b.cidr) ? own : [...own, b]);
    d.view.claimed(b);
    if (!announced) void this.update();
    d.writeFast([b.cidr]);
    this.log.info({ cidr: b.cidr, at, announced }, announced ? 'ipam: block claimed, announced' : 'ipam: block claimed, announcement queued (next BGP update)');
  }

  /**
   * A block of this node was just released (a CNI DEL or the leak collector freed its
   * last address, and it is not the node's last block in its pool; the caller already
   * hides it from `own`): withdrawn at once — the UPDATE is written before this
   * returns — then its blackhole deleted by the fast path (a prefix no longer wanted),
   * the full pass debounced after. Withdrawing first: peers stop sending traffic to
   * the block before this node stops dropping it. With BGP off, deleting the
   * blackhole is the withdrawal (the external speaker exports it from the kernel).
   */
  released(cidr: string): void {
    const { d } = this;
    const at = wallMs();
    if (d.o.fastRoutes === false) return void this.log.info({ cidr, at }, 'ipam: block released');
    if (d.bgpOff) {
      d.writeFast([cidr]);
      return void this.log.info({ cidr, at }, 'ipam: block released, blackhole removed (BGP off)');
    }
    const withdrawn = this.originateNow(d.own());
    if (!withdrawn) void this.update();
    d.writeFast([cidr]);
    this.log.info({ cidr, at, withdrawn }, withdrawn ? 'ipam: block released, withdrawn' : 'ipam: block released, withdrawal queued (next BGP update)');
  }

  /** The speaker originates exactly `own` (+ borrowed addresses' host routes, serviceClusterIPs) now, with the last plan; false when it cannot (no plan yet, an update queued): update() then. */
  private originateNow(own: readonly Block[]): boolean {
    const planned = this.planned?.plan;
    return planned !== undefined && this.d.bgp.originate(originated(planned, own, this.d.view.borrowedHere()));
  }
}

/** The prefixes a node originates: its own blocks, host routes for the addresses it holds in others' blocks, and the plan's service cluster IPs. */
function originated(plan: ReturnType<typeof planNodeBgp>, own: readonly Block[], borrowed: readonly string[]): string[] {
  return originatedPrefixes(own, plan.local?.serviceClusterIPs ?? [], borrowed);
}

/** Wall-clock ms to the µs, for the claim and release log lines. */
function wallMs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
}

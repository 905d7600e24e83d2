/**
 * The agent's route writer: own blocks (blackholes) + remote routes (the speaker's
 * best routes, or with BGP off the tunnelled ones from IPAM) → the kernel, by two
 * paths.
 *
 * The full pass: a serialised reconcile loop (dataplane/loop.ts) — nodes, pools,
 * own blocks, remote routes and tunnel addresses → dataplane input → DataplanePass
 * (routes, tunnel devices, natOutgoing), diffed against the kernel. When a pool uses
 * VXLAN it first makes sure this node has its tunnel address.
 *
 * The gate (graceful restart, "fail static"): no pass runs — so no route is removed —
 * until BGP has synced (every peer Established with its End-of-RIB) or `syncBoundMs`
 * has passed since the speaker started, whichever comes first (so a peer that is itself
 * restarting, deferring its End-of-RIB, holds it at most the bound); with BGP off there is nothing to wait for.
 * The bound's clock starts when the speaker is first seen running (or, while no
 * speaker runs, at the first pass that has its inputs), not when the agent was
 * built: a slow API server at start must not eat the peers' time to resync.
 * Opened by the bound with mesh peers still waiting, the pass keeps those peers'
 * nodes' IPAM blocks routed via them (where nothing was learned) until they are in
 * sync or HOLD_WAITING_MS has passed (learnedForPass).
 *
 * The fast path (fast-routes.ts): a few changed prefixes go to the kernel as one
 * netlink batch right where the agent hears of them; the full pass follows as the
 * safety net, SAFETY_NET_MS later (a burst of UPDATEs costs one pass), or at once
 * when the fast path steps aside. After each full pass the warmer (fast-warm.ts)
 * runs the fast path on synthetic input so that V8 has it compiled when a block
 * arrives.
 *
 * State: the loop, the gate, since when routes are dirty (the route-programmed
 * latency metric: set by kick() only, so passes no input change asked for — the
 * resync tick, the safety net — are not observed), the last pass's report, its
 * failure and unmapped routes (for status), the fast path's context, the
 * safety-net timer.
 */
import type { Logger } from 'pino';
import type { Snapshot } from '../datastore/snapshot.js';
import type { DataplaneReport } from '../dataplane/apply.js';
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import type { PoolSpec } from '../dataplane/plan/types.js';
import { startDataplaneLoop, type DataplaneLoop, type LoopTimers } from '../dataplane/loop.js';
import { execIn, type Exec } from '../dataplane/nat-outgoing.js';
import type { AgentMetrics } from '../health/agent-metrics.js';
import type { Block } from '../ipam/types.js';
import { readNodes } from '../node-config/node-config.js';
import type { NodeBgp } from './bgp.js';
import { affinityOf, dataplaneInputOf, dataplanePoolsOf, wantedTunnels } from './desired.js';
import { DataplanePass } from './dataplane-pass.js';
import { FastRoutes } from './fast-routes.js';
import { contextKey, FastWarmer, WARM_ROUNDS } from './fast-warm.js';
import type { RouteContext } from './fast-plan.js';
import type { IpamView } from './ipam-view.js';
import type { AgentOptions } from './options.js';
import type { RouteTrace } from './route-trace.js';
import { memoRtnl } from './rtnl-memo.js';
import { dataplaneConfigOf } from './uplink.js';

/**
 * The gate opened by the bound while mesh peers were not yet in sync: their nodes'
 * blocks stay routed via them (as if learned) this long, or until they are in sync —
 * the speaker's deferral time (RFC 4724 §4.1, 60 s), well inside the 120 s for which
 * nodes that did not restart keep them as stale.
 */
export const HOLD_WAITING_MS = 60_000;

/** The full pass after a fast write: later, so that a burst of UPDATEs costs one pass. */
const SAFETY_NET_MS = 50;
/** how often the gate looks whether BGP has synced */
const GATE_POLL_MS = 100;

export interface RoutesPassDeps {
  o: Pick<AgentOptions, 'node' | 'uplink' | 'bgpDefaults' | 'syncBoundMs' | 'resyncMs' | 'fastRoutes' | 'fastWarm' | 'logs'>;
  metrics: AgentMetrics;
  trace: RouteTrace;
  bgp: NodeBgp;
  bgpOff: boolean;
  view: IpamView;
  snapshot: () => Snapshot | undefined;
  rtnl: () => Rtnl | undefined;
  /** this node's blocks */
  own: () => Block[];
  /** remote routes: prefix → next hops */
  learned: () => ReadonlyMap<string, readonly string[]>;
  /** allocates the tunnel addresses the pools want that this node lacks (VXLAN, IPIP) */
  ensureTunnelAddresses: (pools: readonly PoolSpec[]) => Promise<void>;
  stopped: () => boolean;
  /** natOutgoing's iptables runner (tests); default the host's */
  exec?: Exec;
  /** the resync tick's timer (tests); default setInterval */
  timers?: LoopTimers;
}

export class RoutesPass {
  private loop: DataplaneLoop | undefined;
  private open = false;
  private readonly startedAt = Date.now();
  /** when the sync bound's clock started: the speaker first seen running, else the first gated pass */
  private boundFrom: number | undefined;
  private bgpSeen = false;
  /** gate opened by the bound: the mesh peers then waiting on, and until when their nodes' blocks are held */
  private held: { peers: Set<string>; until: number } | undefined;
  private dirtySince: number | undefined;
  private pass: DataplanePass | undefined;
  private report: DataplaneReport | undefined;
  /** the error of the last pass that threw, until a pass reports again */
  private failed: string | undefined;
  /** the last pass's route context and its shape (fast-warm.ts contextKey): kept while the shape holds */
  private ctx: RouteContext | undefined;
  private ctxKey = '';
  private unmappedRoutes: string[] = [];
  /** learned routes and claimed blocks straight to the kernel; the full pass follows, debounced */
  private readonly fast = new FastRoutes();
  private safetyNet: NodeJS.Timeout | undefined;
  /** runs the fast path on synthetic input after full passes, so that V8 has it compiled when a block arrives */
  private readonly warmer: FastWarmer;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly d: RoutesPassDeps) {
    const { o } = d;
    this.warmer = new FastWarmer(o.fastWarm !== false && o.fastRoutes !== false, (t0) => d.trace.ran('warm slice', t0), (rounds, ms) => {
      if (rounds >= WARM_ROUNDS) o.logs.dataplane.info({ rounds, ms: Math.round(ms * 10) / 10 }, 'dataplane: route fast path warmed');
    });
  }

  start(onError: (err: unknown) => void): void {
    this.loop = startDataplaneLoop(() => this.run().catch((err: unknown) => {
      this.failed = err instanceof Error ? err.message : String(err);
      throw err;
    }), { resyncMs: this.d.o.resyncMs ?? 30_000, onError, ...(this.d.timers ? { timers: this.d.timers } : {}) });
  }

  /** The gate opens on sync (every peer's End-of-RIB in) or after the bound: kicks until it has. */
  watchGate(): void {
    const gate = setInterval(() => {
      if (this.open) return clearInterval(gate);
      this.noteBgp();
      if (this.d.bgpOff || (this.d.bgp.running && this.d.bgp.synced().synced) || this.boundPassed()) this.kick();
    }, GATE_POLL_MS);
    gate.unref();
    this.timers.push(gate);
  }

  /** starts the bound's clock (again) the first time the speaker is seen running */
  private noteBgp(): void {
    if (this.bgpSeen || !this.d.bgp.running) return;
    this.bgpSeen = true;
    this.boundFrom = Date.now();
  }

  private boundPassed(): boolean {
    return this.boundFrom !== undefined && Date.now() - this.boundFrom >= (this.d.o.syncBoundMs ?? 10_000);
  }

  stop(): void {
    if (this.safetyNet) clearTimeout(this.safetyNet);
    this.warmer.stop();
    for (const t of this.timers) clearTimeout(t);
    this.loop?.stop();
  }

  /** Inputs changed: a full pass soon (none before start()). */
  kick(): void {
    this.dirtySince ??= performance.now();
    void this.loop?.kick();
  }

  get gateOpen(): boolean {
    return this.open;
  }

  /** the last full pass's report */
  get lastReport(): DataplaneReport | undefined {
    return this.report;
  }

  /**
   * The error of the last pass when it threw and no pass has reported since (a pass
   * that throws — no uplink device, say — leaves no report): status names it, readiness waits on it.
   */
  get failure(): string | undefined {
    return this.failed;
  }

  /** learned routes the last pass did not program (every next hop is this node), as sentences */
  get unmapped(): readonly string[] {
    return this.unmappedRoutes;
  }

  /** The fast path for `prefixes`, then the full pass: debounced when the fast path wrote, at once when it stepped aside. */
  writeFast(prefixes: readonly string[]): void {
    const t0 = performance.now();
    const rtnl = this.d.rtnl();
    let r: ReturnType<FastRoutes['write']>;
    try {
      r = rtnl ? this.fast.write(rtnl, { own: this.d.own(), learned: this.d.learned() }, prefixes, this.d.trace.on ? () => this.d.trace.plannedFast() : undefined) : { done: false, why: 'no netlink socket' };
    } catch (err) {
      r = { done: false, why: err instanceof Error ? err.message : String(err) };
    }
    if (!r.done) {
      this.d.o.logs.dataplane.debug({ prefixes: prefixes.slice(0, 4), why: r.why }, 'dataplane: fast path stepped aside; full pass');
      this.kick();
      return;
    }
    if (r.written > 0) {
      this.d.trace.written('fast', prefixes);
      this.d.metrics.routeProgrammed((performance.now() - t0) / 1000);
    }
    this.safetyNet ??= setTimeout(() => {
      this.safetyNet = undefined;
      void this.loop?.kick();
    }, SAFETY_NET_MS);
  }

  /** false while the gate is shut; opens it (and says so) once BGP has synced or the bound has passed */
  private gate(): boolean {
    if (this.open) return true;
    const { bgp, bgpOff, o } = this.d;
    this.noteBgp();
    this.boundFrom ??= Date.now();
    const s = bgp.synced();
    const waited = this.boundPassed();
    if (!bgpOff && !(bgp.running && s.synced) && !waited) return false;
    this.open = true;
    if (!bgpOff && !s.synced && s.waiting.length > 0) this.hold(s.waiting);
    if (!bgpOff) bgp.keptForwarding(); // routes are programmed from now on: later OPENs carry the F bit
    const log: Logger = o.logs.agent;
    if (bgpOff) log.info({ afterMs: Date.now() - this.startedAt }, 'bgp off (an external speaker carries the routes): programming routes');
    else log.info({ synced: s.synced, waiting: s.waiting, afterMs: Date.now() - this.startedAt, boundAfterMs: Date.now() - (this.boundFrom ?? this.startedAt) }, s.synced ? 'bgp synced: programming routes' : 'bgp not synced within the bound: programming routes with what is known');
    return true;
  }

  /** keeps the waiting mesh peers' nodes' blocks routed via them for HOLD_WAITING_MS (a pass then drops what is still not learned) */
  private hold(waiting: readonly string[]): void {
    this.held = { peers: new Set(waiting), until: Date.now() + HOLD_WAITING_MS };
    const t = setTimeout(() => this.kick(), HOLD_WAITING_MS + 10);
    t.unref();
    this.timers.push(t);
  }

  /**
   * Remote routes for the pass: the learned ones, and while the hold lasts the blocks
   * of mesh peers' nodes still not in sync (a peer slower than the bound to come back
   * after a restart), via that peer, where nothing was learned for them.
   */
  private learnedForPass(): ReadonlyMap<string, readonly string[]> {
    const learned = this.d.learned();
    const h = this.held;
    if (!h) return learned;
    // the hold ends when it runs out or every peer it waited on is in sync
    const waiting = Date.now() >= h.until ? new Set<string>() : new Set(this.d.bgp.synced().waiting.filter((a) => h.peers.has(a)));
    h.peers = waiting;
    if (waiting.size === 0) {
      this.held = undefined;
      return learned;
    }
    const nodes = this.d.bgp.peerNodes();
    const out = new Map(learned);
    for (const addr of waiting) {
      const node = nodes.get(addr);
      if (!node) continue;
      const v6 = addr.includes(':');
      for (const b of this.d.view.blocks) {
        if (b.affinity !== affinityOf(node) || b.cidr.includes(':') !== v6 || out.has(b.cidr)) continue;
        out.set(b.cidr, [addr]);
      }
    }
    return out;
  }

  private async run(): Promise<void> {
    const snap = this.d.snapshot();
    const rtnl = this.d.rtnl();
    if (!snap || !rtnl || !this.d.view.read) return;
    if (!this.gate()) return;
    // the latency metric means "input change → converged": a pass no kick asked for
    // (the resync tick, the safety net after a fast write) is not observed
    const t0 = this.dirtySince;
    this.dirtySince = undefined;
    try {
      await this.converge(snap, rtnl, t0);
    } catch (err) {
      this.dirtySince ??= t0; // the change is still unconverged: the next pass observes it
      throw err;
    }
  }

  /** `t0`: since when inputs have been dirty (a kick), undefined for a pass no input change asked for */
  private async converge(snap: Snapshot, rtnl: Rtnl, t0: number | undefined): Promise<void> {
    const { o, view, trace, metrics } = this.d;
    const nodes = readNodes(snap, o.bgpDefaults);
    let nl = memoRtnl(rtnl); // links dumped once per synchronous stretch of the pass
    const config = dataplaneConfigOf(o.node, o.uplink, nodes, nl); // UplinkError: the loop reports it (failed)
    const pools = dataplanePoolsOf(snap);
    if (wantedTunnels(pools).length > 0) {
      await this.d.ensureTunnelAddresses(pools);
      nl = memoRtnl(rtnl);
    }
    const { input, unmapped, shadowed } = dataplaneInputOf({
      node: o.node, nodes, pools, own: this.d.own(), learned: this.learnedForPass(), config,
      tunnels: view.tunnels(),
    });
    this.unmappedRoutes = [
      ...unmapped.map((u) => `route ${u.prefix} via ${u.nextHops.join(', ')}: every next hop is this node itself, not programmed`),
      ...shadowed.map((x) => `route ${x.prefix} via ${x.nextHops.join(', ')}: inside this node's own block ${x.block}, not programmed (the node's own pod routes win)`),
    ];
    const tp = performance.now();
    this.pass ??= new DataplanePass(rtnl, this.d.exec ?? execIn(), o.resyncMs ?? 30_000);
    const report = await this.pass.run(input, performance.now(), nl);
    trace.ran('routes pass (from its start)', tp);
    o.logs.dataplane.debug({ ms: Math.round((performance.now() - tp) * 10) / 10 }, 'dataplane: pass');
    this.report = report;
    this.failed = undefined;
    const fresh: RouteContext = { node: o.node, nodes, pools, config, tunnels: view.tunnels(), ifindexByName: new Map(rtnl.links().map((l) => [l.name, l.index])) };
    const key = contextKey(fresh);
    // the same shape as the last pass's (pods' veths aside): keep that context, and the fast path's route templates made for it
    const ctx = key === this.ctxKey && this.ctx ? this.ctx : fresh;
    this.ctx = ctx;
    this.ctxKey = key;
    this.fast.passed(ctx, report);
    this.warmer.passed(key, performance.now(), () => this.d.stopped() ? undefined : {
      ctx, own: this.d.own(), learned: this.d.learned(), ...(this.d.bgpOff ? {} : { bgp: () => this.d.bgp.warm() }),
    });
    const ok = report.problems.length === 0;
    metrics.applied('dataplane', ok);
    if (t0 !== undefined) metrics.routeProgrammed((performance.now() - t0) / 1000);
    const r = report.routes;
    if (trace.on && r.added + r.replaced + r.deleted > 0) trace.written('pass', report.plan.routes.map((x) => x.dst));
    if (r.added + r.replaced + r.deleted > 0 || !ok) {
      o.logs.dataplane.info({ added: r.added, replaced: r.replaced, deleted: r.deleted, unchanged: r.unchanged, problems: report.problems }, 'dataplane: routes converged');
    }
  }
}

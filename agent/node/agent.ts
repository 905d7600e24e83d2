/**
 * The node agent: connects the pure pieces to their shells. One value per input —
 * the datastore snapshot, IPAM records, the speaker's best routes, local pods from
 * the CNI server — and three writers, each a serialised reconcile loop that
 * computes desired state whole from those values and applies the difference:
 *
 *   snapshot ─┬─ node-config ──────────────▶ speaker peers / originated blocks (bgp.ts)
 *             ├─ IPPools ─▶ IPAM allocator ◀── CNI server (unix socket) ◀── margay-cni
 *             ├─ nodes + pools + own blocks + learned routes ─▶ dataplane loop (routes, tunnels, NAT)
 *             └─ pods + namespaces + policies + IPAM handles ─▶ compile ─▶ policy applier
 *
 * Restart: nothing is flushed. The speaker starts with its own blocks already
 * originated (so its End-of-RIB follows a complete advertisement), sessions close
 * without NOTIFICATION on SIGTERM (peers keep our routes stale), and the dataplane
 * loop removes no route until BGP has synced — every peer Established with its
 * End-of-RIB — or `syncBoundMs` has passed, whichever comes first (never waiting
 * on peers that are themselves restarting). Policy's first pass reconciles
 * against the kernel with every local pod known, so no pod loses its rules.
 *
 * Every failure is logged and retried by the next pass; none stops the agent.
 */
import type { Logger } from 'pino';
import type { Rejection } from '../datastore/datastore.js';
import type { Snapshot } from '../datastore/snapshot.js';
import { describeObject } from '../datastore/resources.js';
import type { DataplaneReport } from '../dataplane/apply.js';
import { startDataplaneLoop, type DataplaneLoop } from '../dataplane/loop.js';
import { execIn } from '../dataplane/nat-outgoing.js';
import { openRtnl, type Rtnl } from '../dataplane/kernel/rtnl.js';
import { NetlinkPodWiring } from '../dataplane/pod-wiring.js';
import { CniServer } from '../cni/server.js';
import { hostIfName } from '../cni/names.js';
import { Ipam } from '../ipam/allocator.js';
import type { IpamChange, IpamWatch } from '../ipam/store.js';
import type { Block } from '../ipam/types.js';
import { AgentMetrics } from '../health/agent-metrics.js';
import { serveHealth, type HealthServer } from '../health/server.js';
import { planNodeBgp, readNodes } from '../node-config/node-config.js';
import { serveControl, type ControlServer } from '../../bgp/session/control.js';
import { compile } from '../../policy/compile.js';
import { PolicyApplier } from '../../policy/apply/applier.js';
import { hostExec } from '../../policy/apply/exec.js';
import type { AgentStatus } from '../status/types.js';
import { NodeBgp } from './bgp.js';
import { agentHealth } from './bgp-mode.js';
import { changedPrefixes, ipamEncapRoutes } from './ipam-routes.js';
import type { AgentOptions } from './options.js';

export type { AgentOptions } from './options.js';
import { observeClaims } from './claims.js';
import { DataplanePass } from './dataplane-pass.js';
import { LeakGc } from './leaks.js';
import { FastRoutes } from './fast-routes.js';
import { contextKey, FastWarmer, WARM_ROUNDS } from './fast-warm.js';
import { memoRtnl } from './rtnl-memo.js';
import { IpamView } from './ipam-view.js';
import { RouteTrace } from './route-trace.js';
import { dataplaneConfigOf } from './uplink.js';
import { blockRows, rejectionSentence, routeRows } from './status-view.js';
import {
  dataplanePoolsOf, dataplaneInputOf, externalImportPrefixes, ipamPoolsOf, originatedPrefixes, policyInputOf, vxlanTunnelHandle, wantsVxlan,
  withNodeAddress,
} from './desired.js';


/** The full pass after a fast write: later, so that a burst of UPDATEs costs one pass. */
const SAFETY_NET_MS = 50;
/** longest a policy pass waits for CNI requests being answered (Agent.policyPass) */
const POLICY_WAITS_FOR_CNI_MS = 25;
/**
 * Datastore snapshots and other nodes' IPAM records wait this long (coalesced), then
 * for the poll phase to pass (setImmediate): a BGP UPDATE whose bytes are already
 * queued on the socket is read first (options.ts `deferInputsMs`).
 */
const DEFER_INPUTS_MS = 3;

export class Agent {
  private snapshot: Snapshot | undefined;
  private rtnl: Rtnl | undefined;
  private ipam: Ipam | undefined;
  private cni: CniServer | undefined;
  private control: ControlServer | undefined;
  private healthServer: HealthServer | undefined;
  private routesLoop: DataplaneLoop | undefined;
  private policyLoop: DataplaneLoop | undefined;
  private readonly bgp: NodeBgp;
  private readonly applier: PolicyApplier;
  readonly metrics = new AgentMetrics();
  private lastReport: DataplaneReport | undefined;
  private pass: DataplanePass | undefined;
  private unmapped: string[] = [];
  private policyCounts = { policies: 0, rejected: 0, localPods: 0 };
  private policyOk = false;
  private policyFirst = true;
  private policyRetryMs = 250;
  private gateOpen = false;
  private readonly startedAt = Date.now();
  private routeDirtySince: number | undefined;
  private policyDirtySince: number | undefined;
  private rejected = new Map<string, Rejection>();
  private timers: NodeJS.Timeout[] = [];
  private routingKey = '';
  private leakGc: LeakGc | undefined;
  private readonly ipamView: IpamView;
  private ipamWatch: IpamWatch | undefined;
  /** ends the IPAM change feed also while its first list is still failing (no IpamWatch yet) */
  private readonly ipamWatchStop = new AbortController();
  private stopped = false;
  /** learned routes and claimed blocks straight to the kernel; the full pass follows, debounced */
  private readonly fast = new FastRoutes();
  private safetyNet: NodeJS.Timeout | undefined;
  /** runs the fast path on synthetic input after full passes, so that V8 has it compiled when a block arrives */
  private readonly warmer: FastWarmer;
  /** inputs that can wait a few ms (DEFER_INPUTS_MS): the newest snapshot, other nodes' IPAM records by kind */
  private readonly deferMs: number;
  private deferredSnapshot: Snapshot | undefined;
  private readonly deferredIpam = new Map<IpamChange['kind'], IpamChange>();
  private deferTimer: NodeJS.Timeout | undefined;
  private deferImmediate: NodeJS.Immediate | undefined;
  private readonly trace: RouteTrace;
  private planned: { snapshot: Snapshot; plan: ReturnType<typeof planNodeBgp> } | undefined;
  /** `--bgp off`: an external speaker carries the routes; margay's speaker never starts */
  private readonly bgpOff: boolean;
  /** with BGP off: routes to other nodes' blocks that go through a tunnel, from IPAM alone (ipam-routes.ts) */
  private ipamRoutes = new Map<string, string[]>();

  constructor(private readonly o: AgentOptions) {
    this.bgpOff = o.bgp === 'off';
    this.trace = RouteTrace.fromEnv(o.logs.dataplane);
    this.warmer = new FastWarmer(o.fastWarm !== false && o.fastRoutes !== false, (t0) => this.trace.ran('warm slice', t0), (rounds, ms) => {
      if (rounds >= WARM_ROUNDS) o.logs.dataplane.info({ rounds, ms: Math.round(ms * 10) / 10 }, 'dataplane: route fast path warmed');
    });
    this.deferMs = o.deferInputsMs ?? DEFER_INPUTS_MS;
    this.ipamView = new IpamView(o.node);
    this.bgp = new NodeBgp({
      log: o.logs.bgp, restartTime: o.restartTime ?? 120, holdTime: o.holdTime ?? 90,
      ...(o.readSecret ? { readSecret: o.readSecret } : {}),
      onRoutesChanged: (prefixes) => this.learnedChanged(prefixes),
      trace: this.trace,
    });
    this.applier = new PolicyApplier(hostExec(), o.logs.policy);
  }

  private get log(): Logger {
    return this.o.logs.agent;
  }

  /** Remote routes the dataplane programs: the speaker's best routes, or with BGP off the tunnelled ones from IPAM. */
  private get learned(): ReadonlyMap<string, readonly string[]> {
    return this.bgpOff ? this.ipamRoutes : this.bgp.learned;
  }

  /** BGP off: recomputes the tunnelled routes from IPAM, nodes and pools; changed prefixes go the fast path. */
  private refreshIpamRoutes(): void {
    const snap = this.snapshot;
    if (!this.bgpOff || !snap || !this.ipamView.read) return;
    const next = ipamEncapRoutes({ node: this.o.node, blocks: this.ipamView.blocks, pools: dataplanePoolsOf(snap), nodes: readNodes(snap, this.o.bgpDefaults) });
    const changed = changedPrefixes(this.ipamRoutes, next);
    if (changed.length === 0) return;
    this.ipamRoutes = next;
    this.learnedChanged(changed);
  }

  async start(): Promise<void> {
    const { node } = this.o;
    this.rtnl = openRtnl();
    await this.o.datastore.start({
      onSnapshot: (s) => this.snapshotIn(s),
      onRejected: (r) => {
        this.rejected.set(`${r.source} ${r.object}`, r);
        this.metrics.rejectedObjects(this.rejected.size);
        this.log.warn({ source: r.source, object: r.object, errors: r.errors }, 'datastore: object rejected and ignored');
      },
    });
    const snap = this.snapshot as Snapshot;
    const nodeObj = snap.objects.get('Node')?.get(node);
    const store = observeClaims(this.o.ipamStore, node, (b) => this.blockClaimed(b));
    this.ipam = new Ipam({ store, node, pools: ipamPoolsOf(snap), nodeLabels: nodeObj?.metadata.labels ?? {} });
    await this.refreshIpam();
    // other agents' IPAM writes (remote pods' addresses for policy peers, VXLAN tunnel
    // addresses) arrive through the store's change feed; a store without one is re-listed
    if (this.o.ipamStore.watch) {
      void this.o.ipamStore.watch((c) => this.ipamWatched(c), { signal: this.ipamWatchStop.signal }).then((w) => {
        if (this.stopped) w.close();
        else this.ipamWatch = w;
      }, (err: unknown) => this.failed('ipam', err));
    }
    if (this.o.cniSocket) {
      this.cni = new CniServer({ socketPath: this.o.cniSocket, ipam: this.ipam, wiring: new NetlinkPodWiring(), log: this.o.logs.cni });
      this.cni.on('pod', (e) => {
        this.log.info({ type: e.type, pod: e.pod, hostIf: e.hostIf, addresses: e.addresses.map((a) => a.address) }, `pod ${e.type}`);
        // a store with a change feed delivers this write itself (ipamRecords kicks policy and routes);
        // re-listing here would read twice and could land an older list after a newer feed
        if (!this.o.ipamStore.watch) void this.refreshIpam().then(() => this.inputsChanged());
      });
      await this.cni.start();
    }
    this.routesLoop = startDataplaneLoop(() => this.routesPass(), { resyncMs: this.o.resyncMs ?? 30_000, onError: (err) => this.failed('dataplane', err) });
    this.policyLoop = startDataplaneLoop(() => this.policyPass(), { resyncMs: this.o.resyncMs ?? 30_000, onError: (err) => this.failed('policy', err) });
    await this.updateBgp();
    this.control = await serveControl(this.o.statusSocket, (req) => {
      if (req.cmd === 'status') return this.status();
      return { error: `unknown command "${req.cmd}" (known: status)` };
    });
    if (this.o.health) {
      this.healthServer = await serveHealth({
        health: () => this.health(),
        metrics: () => {
          this.metrics.observePeers(this.bgp.rows().map((r) => ({ ...r, state: r.fsm }))); // fresh at every scrape
          return this.metrics.render();
        },
      }, this.o.health);
      this.log.info({ port: this.healthServer.port }, 'health and metrics listening');
    }
    // the gate opens on sync (every peer's End-of-RIB in) or after the bound
    this.timers.push(setTimeout(() => this.kickRoutes(), (this.o.syncBoundMs ?? 10_000) + 10));
    const gate = setInterval(() => {
      if (this.gateOpen) clearInterval(gate);
      else if (this.bgpOff || (this.bgp.running && this.bgp.synced().synced)) this.kickRoutes();
    }, 100);
    this.timers.push(gate);
    if (!this.o.ipamStore.watch) this.timers.push(setInterval(() => void this.refreshIpam(), this.o.ipamPollMs ?? 2000));
    this.timers.push(setInterval(() => { if (this.bgp.secretsMissing) void this.updateBgp(); }, 3000));
    this.timers.push(setInterval(() => this.metrics.observePeers(this.bgp.rows().map((r) => ({ ...r, state: r.fsm }))), 1000));
    if ((this.o.ipamGcMs ?? 0) > 0) this.timers.push(setInterval(() => void this.collectLeaks(), this.o.ipamGcMs));
    for (const t of this.timers) t.unref();
    void this.policyLoop.kick();
    void this.routesLoop.kick();
    this.log.info({ node, bgp: this.bgpOff ? 'off' : 'on', datastore: this.o.datastore.name, cniSocket: this.o.cniSocket, statusSocket: this.o.statusSocket }, 'agent started');
  }

  /** Graceful stop (SIGTERM): keeps kernel routes and rules, closes BGP without NOTIFICATION. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ipamWatch?.close();
    this.ipamWatchStop.abort();
    if (this.safetyNet) clearTimeout(this.safetyNet);
    if (this.deferTimer) clearTimeout(this.deferTimer);
    if (this.deferImmediate) clearImmediate(this.deferImmediate);
    this.warmer.stop();
    for (const t of this.timers) clearTimeout(t);
    this.routesLoop?.stop();
    this.policyLoop?.stop();
    await this.cni?.stop().catch(() => undefined);
    await this.bgp.stop(true).catch((err: unknown) => this.log.warn({ err: String(err) }, 'bgp: stop failed'));
    await this.o.datastore.stop().catch(() => undefined);
    await this.control?.close().catch(() => undefined);
    await this.healthServer?.close().catch(() => undefined);
    this.rtnl?.close();
    this.log.info({}, 'agent stopped (routes and rules left in place for the next start)');
  }

  /**
   * A datastore snapshot: handled at once during start(), else after DEFER_INPUTS_MS
   * (the newest of several wins). On a node receiving a new block, the datastore and
   * IPAM watchers fire right when its UPDATE arrives (the block record, the pod's
   * manifest); nothing they carry is as urgent as the route.
   */
  private snapshotIn(raw: Snapshot): void {
    if (!this.ipam || this.deferMs <= 0) {
      const t0 = performance.now();
      this.onSnapshot(raw);
      return this.trace.ran('snapshot', t0);
    }
    this.deferredSnapshot = raw;
    this.defer();
  }

  /**
   * Other nodes' IPAM records from the change feed: deferred like snapshots, except
   * with BGP off (they are then the routes' source) and before the first read.
   */
  private ipamWatched(c: IpamChange): void {
    if (this.bgpOff || this.deferMs <= 0 || !this.ipamView.read) {
      const t0 = performance.now();
      this.ipamRecords(c);
      return this.trace.ran('ipam watch', t0);
    }
    this.deferredIpam.set(c.kind, c); // each change is the kind's records whole: the newest wins
    this.defer();
  }

  private defer(): void {
    if (this.deferTimer || this.deferImmediate || this.stopped) return;
    this.deferTimer = setTimeout(() => {
      this.deferTimer = undefined;
      // timers run before the poll phase: hop to the check phase, after the socket reads
      this.deferImmediate = setImmediate(() => {
        this.deferImmediate = undefined;
        this.flushDeferred();
      });
    }, this.deferMs);
  }

  private flushDeferred(): void {
    if (this.stopped) return;
    const t0 = performance.now();
    const snap = this.deferredSnapshot;
    this.deferredSnapshot = undefined;
    const ipam = [...this.deferredIpam.values()];
    this.deferredIpam.clear();
    if (snap) this.onSnapshot(snap);
    if (ipam.length > 0) this.ipamRecords(...ipam);
    if (this.trace.on) this.trace.ran(`deferred${snap ? ' snapshot' : ''}${ipam.length > 0 ? ' ipam' : ''}`, t0);
  }

  private onSnapshot(raw: Snapshot): void {
    const s = withNodeAddress(raw, this.o.node, this.o.nodeAddress);
    this.snapshot = s;
    // a rejected object that is now in the snapshot has been fixed
    if (this.rejected.size > 0) {
      const present = new Set<string>();
      for (const [kind, objs] of s.objects) for (const o of objs.values()) present.add(describeObject(kind, o.metadata));
      for (const [k, r] of this.rejected) if (present.has(r.object)) this.rejected.delete(k);
      this.metrics.rejectedObjects(this.rejected.size);
    }
    if (!this.ipam) return; // the first snapshot arrives inside start()
    const nodeObj = s.objects.get('Node')?.get(this.o.node);
    this.ipam.setPools(ipamPoolsOf(s));
    this.ipam.setNodeLabels(nodeObj?.metadata.labels ?? {});
    this.inputsChanged();
    this.refreshIpamRoutes();
  }

  private inputsChanged(): void {
    this.kickPolicy();
    // routing reads nodes, pools and BGP settings only: a pod or policy change must not
    // compete with the policy pass for the CPU
    const snap = this.snapshot;
    const key = snap ? JSON.stringify(['Node', 'IPPool', 'BGPPeer', 'BGPConfiguration'].map((k) => [...(snap.objects.get(k as 'Node')?.values() ?? [])])) : '';
    if (key !== this.routingKey) {
      this.routingKey = key;
      this.kickRoutes();
      void this.updateBgp();
    }
  }

  private kickRoutes(): void {
    this.routeDirtySince ??= performance.now();
    void this.routesLoop?.kick();
  }

  private kickPolicy(): void {
    this.policyDirtySince ??= performance.now();
    void this.policyLoop?.kick();
  }

  /** Re-reads IPAM records (start, local CNI changes, stores without a change feed); true when anything changed. */
  private async refreshIpam(): Promise<boolean> {
    this.deferredIpam.clear(); // this re-list is newer than any change waiting
    try {
      const [blocks, handles] = await Promise.all([this.o.ipamStore.list('block'), this.o.ipamStore.list('handle')]);
      return this.ipamRecords({ kind: 'block', records: blocks }, { kind: 'handle', records: handles });
    } catch (err) {
      this.failed('ipam', err);
      return false;
    }
  }

  /** IPAM records in (a re-list or the change feed); true when anything changed. */
  private ipamRecords(...changes: IpamChange[]): boolean {
    const first = !this.ipamView.read;
    const { changed, handles, own } = this.ipamView.apply(changes);
    if (handles || first) this.kickPolicy(); // policy reads pods' addresses from handles, never blocks
    // own blocks (originated, blackholed) and VXLAN tunnel addresses feed the route pass
    if (own) {
      this.kickRoutes();
      void this.updateBgp();
    }
    this.metrics.observeBlocks(blockRows(this.ipamView.own()));
    this.refreshIpamRoutes();
    return changed;
  }

  /**
   * A block was just claimed for this node (inside a CNI ADD, before its pod is
   * wired): announce it at once — the UPDATE is written before this returns — then
   * its blackhole, one netlink message. Announcing first is safe: pods in the block
   * get their own /32 routes, the blackhole only drops traffic to its unused
   * addresses. The full pass follows, debounced.
   */
  private blockClaimed(b: Block): void {
    const at = performance.timeOrigin + performance.now();
    if (this.o.fastRoutes === false) return void this.log.info({ cidr: b.cidr, at: Math.round(at * 1000) / 1000 }, 'ipam: block claimed');
    this.trace.claim();
    this.deferredIpam.clear(); // a change feed's list from before the claim would drop the block; the claim's own write brings a new one
    if (this.bgpOff) {
      this.ipamView.claimed(b);
      // the external speaker exports the blackhole from the kernel: writing it is the announcement
      this.writeFast([b.cidr]);
      return void this.log.info({ cidr: b.cidr, at: Math.round(at * 1000) / 1000 }, 'ipam: block claimed, blackholed (BGP off)');
    }
    this.trace.originate();
    // the UPDATE first, the view's bookkeeping after; the plan depends on routing objects only, and every change of those re-plans (inputsChanged)
    const planned = this.planned?.plan;
    const own = this.ipamView.own();
    const announced = planned !== undefined && this.bgp.originate(originatedPrefixes(own.some((x) => x.cidr === b.cidr) ? own : [...own, b], planned.local?.serviceClusterIPs ?? []));
    this.ipamView.claimed(b);
    if (!announced) void this.updateBgp();
    this.writeFast([b.cidr]);
    this.log.info({ cidr: b.cidr, at: Math.round(at * 1000) / 1000 }, 'ipam: block claimed, announced');
  }

  /** Learned next hops changed (called inside the read of the UPDATE). */
  private learnedChanged(prefixes: readonly string[]): void {
    this.trace.agentEvent();
    if (this.o.fastRoutes === false) this.kickRoutes();
    else this.writeFast(prefixes);
  }

  /** The fast path for `prefixes`, then the full pass: debounced when the fast path wrote, at once when it stepped aside. */
  private writeFast(prefixes: readonly string[]): void {
    const t0 = performance.now();
    let r: ReturnType<FastRoutes['write']>;
    try {
      r = this.rtnl ? this.fast.write(this.rtnl, { own: this.ipamView.own(), learned: this.learned }, prefixes, this.trace.on ? () => this.trace.plannedFast() : undefined) : { done: false, why: 'no netlink socket' };
    } catch (err) {
      r = { done: false, why: err instanceof Error ? err.message : String(err) };
    }
    if (!r.done) {
      this.o.logs.dataplane.debug({ prefixes: prefixes.slice(0, 4), why: r.why }, 'dataplane: fast path stepped aside; full pass');
      this.kickRoutes();
      return;
    }
    if (r.written > 0) {
      this.trace.written('fast', prefixes);
      this.metrics.routeProgrammed((performance.now() - t0) / 1000);
    }
    this.safetyNet ??= setTimeout(() => {
      this.safetyNet = undefined;
      void this.routesLoop?.kick();
    }, SAFETY_NET_MS);
  }

  private updateBgp(): Promise<void> {
    if (this.bgpOff || !this.snapshot || !this.ipamView.read) return Promise.resolve();
    if (this.planned?.snapshot !== this.snapshot) this.planned = { snapshot: this.snapshot, plan: planNodeBgp(this.snapshot, this.o.node, this.o.bgpDefaults) };
    const plan = this.planned.plan;
    if (plan.local?.logLevel && this.o.logs.bgp.level !== plan.local.logLevel) {
      this.log.info({ level: plan.local.logLevel }, 'bgp: log level from BGPConfiguration.logSeverityScreen');
      this.o.logs.bgp.level = plan.local.logLevel;
    }
    const own = this.ipamView.own();
    return this.bgp.update(plan, originatedPrefixes(own, plan.local?.serviceClusterIPs ?? []), externalImportPrefixes(this.snapshot));
  }

  private async routesPass(): Promise<void> {
    const snap = this.snapshot;
    if (!snap || !this.rtnl || !this.ipamView.read) return;
    if (!this.gateOpen) {
      const s = this.bgp.synced();
      const waited = Date.now() - this.startedAt >= (this.o.syncBoundMs ?? 10_000);
      if (!this.bgpOff && !(this.bgp.running && s.synced) && !waited) return;
      this.gateOpen = true;
      if (this.bgpOff) this.log.info({ afterMs: Date.now() - this.startedAt }, 'bgp off (an external speaker carries the routes): programming routes');
      else this.log.info({ synced: s.synced, waiting: s.waiting, afterMs: Date.now() - this.startedAt }, s.synced ? 'bgp synced: programming routes' : 'bgp not synced within the bound: programming routes with what is known');
    }
    const t0 = this.routeDirtySince ?? performance.now();
    this.routeDirtySince = undefined;
    const nodes = readNodes(snap, this.o.bgpDefaults);
    let nl = memoRtnl(this.rtnl); // links dumped once per synchronous stretch of the pass
    const config = dataplaneConfigOf(this.o.node, this.o.uplink, nodes, nl); // UplinkError: the loop reports it (failed)
    const pools = dataplanePoolsOf(snap);
    if (wantsVxlan(pools)) {
      await this.ensureTunnelAddress();
      nl = memoRtnl(this.rtnl);
    }
    const { input, unmapped } = dataplaneInputOf({
      node: this.o.node, nodes, pools, own: this.ipamView.own(), learned: this.learned, config,
      tunnels: this.ipamView.tunnels(),
    });
    this.unmapped = unmapped.map((u) => `route ${u.prefix} via ${u.nextHops.join(', ')}: every next hop is this node itself, not programmed`);
    const tp = performance.now();
    this.pass ??= new DataplanePass(this.rtnl, execIn(), this.o.resyncMs ?? 30_000);
    const report = await this.pass.run(input, performance.now(), nl);
    this.trace.ran('routes pass (from its start)', tp);
    this.o.logs.dataplane.debug({ ms: Math.round((performance.now() - tp) * 10) / 10 }, 'dataplane: pass');
    this.lastReport = report;
    const ctx = { node: this.o.node, nodes, pools, config, tunnels: this.ipamView.tunnels(), ifindexByName: new Map(this.rtnl.links().map((l) => [l.name, l.index])) };
    this.fast.passed(ctx, report);
    this.warmer.passed(contextKey(ctx), performance.now(), () => this.stopped ? undefined : {
      ctx, own: this.ipamView.own(), learned: this.learned, ...(this.bgpOff ? {} : { decode: () => this.bgp.warm() }),
    });
    const ok = report.problems.length === 0;
    this.metrics.applied('dataplane', ok);
    this.metrics.routeProgrammed((performance.now() - t0) / 1000);
    const r = report.routes;
    if (this.trace.on && r.added + r.replaced + r.deleted > 0) this.trace.written('pass', report.plan.routes.map((x) => x.dst));
    if (r.added + r.replaced + r.deleted > 0 || !ok) {
      this.o.logs.dataplane.info({ added: r.added, replaced: r.replaced, deleted: r.deleted, unchanged: r.unchanged, problems: report.problems }, 'dataplane: routes converged');
    }
  }

  /**
   * IPAM garbage collection for this node's allocations (leaks.ts): a pod handle
   * whose host veth is gone (any datastore), or whose pod is in no snapshot
   * (kubernetes, where Pod objects are the whole truth), in two passes in a row, is
   * released — the runtime never called DEL.
   */
  private async collectLeaks(): Promise<void> {
    const { snapshot: snap, ipam, rtnl } = this;
    if (!snap || !ipam || !rtnl) return;
    try {
      this.leakGc ??= new LeakGc({
        node: this.o.node, store: this.o.ipamStore, release: (h) => ipam.release(h), links: () => rtnl.links().map((l) => l.name),
        ...(this.cni ? { exclusive: this.cni.exclusive.bind(this.cni) } : {}), keep: new Set([vxlanTunnelHandle(this.o.node)]),
        graceMs: Math.floor((this.o.ipamGcMs ?? 60_000) * 0.9), log: this.log,
      });
      const live = this.o.datastore.name === 'kubernetes'
        ? [...(snap.objects.get('Pod')?.values() ?? [])].map((p) => ({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name }))
        : undefined;
      if ((await this.leakGc.pass(live)).length > 0 && await this.refreshIpam()) this.kickPolicy();
    } catch (err) {
      this.failed('ipam', err);
    }
  }

  /** This node's VXLAN device address: an IPAM allocation under a well-known handle. */
  private async ensureTunnelAddress(): Promise<void> {
    if (!this.ipam || this.ipamView.tunnels().has(this.o.node)) return;
    const got = await this.ipam.assign({ handle: vxlanTunnelHandle(this.o.node), families: [4] });
    this.o.logs.dataplane.info({ address: got.map((a) => a.address) }, 'dataplane: VXLAN tunnel address allocated');
    await this.refreshIpam();
  }

  private async policyPass(): Promise<void> {
    const snap = this.snapshot;
    if (!snap || !this.ipamView.read) return;
    const t0 = this.policyDirtySince ?? performance.now();
    this.policyDirtySince = undefined;
    // an nftables commit in this namespace holds up a veth creation in the kernel:
    // let the CNI requests being answered finish first (bounded)
    await this.cni?.whenIdle(POLICY_WAITS_FOR_CNI_MS);
    const tc = performance.now();
    const input = policyInputOf(this.snapshot ?? snap, this.ipamView.handles, this.o.node, hostIfName);
    const compiled = compile(input.snapshot, input.policies, this.o.node);
    this.trace.ran('policy compile', tc);
    for (const r of compiled.rejected) this.o.logs.policy.warn({ policy: r.name, errors: r.errors }, 'policy: NetworkPolicy rejected and ignored');
    this.policyCounts = { policies: compiled.policies.length, rejected: compiled.rejected.length, localPods: input.localPods.length };
    const ta = performance.now();
    const result = this.policyFirst ? await this.applier.reconcile(compiled.rendered) : await this.applier.apply(compiled.rendered);
    this.trace.ran('policy apply (from its start)', ta);
    this.policyOk = result.ok;
    this.metrics.applied('policy', result.ok);
    if (result.ok) {
      this.policyFirst = false;
      this.policyRetryMs = 250;
      this.metrics.policySynced((performance.now() - t0) / 1000);
    } else {
      // fail closed: the previous rules stay; try again with the newest inputs, backing off to 10 s
      this.policyDirtySince ??= t0;
      this.policyRetryMs = Math.min(this.policyRetryMs * 2, 10_000);
      const t = setTimeout(() => void this.policyLoop?.kick(), this.policyRetryMs);
      t.unref();
    }
  }

  private failed(component: string, err: unknown): void {
    this.metrics.applied(component, false);
    this.log.error({ component, err: err instanceof Error ? err.stack ?? err.message : String(err) }, `${component}: pass failed; the next pass retries`);
  }

  private health() {
    return agentHealth({ mode: this.bgpOff ? 'off' : 'on', datastoreSynced: this.snapshot !== undefined, gateOpen: this.gateOpen, policySynced: this.policyOk });
  }

  status(): AgentStatus {
    const h = this.health();
    const id = this.bgp.identityInfo();
    const m = this.applier.metrics;
    return {
      node: this.o.node, ...(id ? { asn: id.asn, routerId: id.routerId } : {}),
      ready: h.reasons.length === 0, reasons: h.reasons, bgpSynced: this.bgp.synced().synced, ...(this.bgpOff ? { bgp: 'off' as const } : {}),
      peers: this.bgp.rows(), routes: routeRows(this.lastReport?.plan.routes ?? []), blocks: blockRows(this.ipamView.own()),
      policy: { ...this.policyCounts, applies: m.applies, failures: m.failures, lastError: m.lastError, synced: this.policyOk },
      problems: [...this.bgp.problems, ...this.unmapped, ...(this.lastReport?.problems ?? []), ...[...this.rejected.values()].map(rejectionSentence)],
    };
  }

}

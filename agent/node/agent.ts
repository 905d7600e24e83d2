/**
 * The node agent: connects the pure pieces to their shells. One value per input —
 * the datastore snapshot, IPAM records, the speaker's best routes, local pods from
 * the CNI server — and three writers, each a serialised reconcile loop that
 * computes desired state whole from those values and applies the difference:
 *
 *   snapshot ─┬─ node-config ──────────────▶ speaker peers / originated blocks (origination.ts, bgp.ts)
 *             ├─ IPPools ─▶ IPAM allocator ◀── CNI server (unix socket) ◀── margay-cni
 *             ├─ nodes + pools + own blocks + learned routes ─▶ routes pass (routes-pass.ts: routes, tunnels, NAT)
 *             └─ pods + namespaces + policies + IPAM handles ─▶ policy pass (policy-pass.ts: compile, apply)
 *
 * This class is the composition root of those pieces: it keeps the input values,
 * says which writer an input change concerns, and starts and stops everything.
 * Datastore snapshots and other nodes' IPAM records wait a few ms (deferred-inputs.ts)
 * so that a BGP UPDATE already queued is read first; a block claimed or released here
 * (block-events.ts) and a learned route take the fast path (origination.ts,
 * routes-pass.ts).
 *
 * Restart: nothing is flushed. The speaker starts with its own blocks already
 * originated (so its End-of-RIB follows a complete advertisement), sessions close
 * without NOTIFICATION on SIGTERM (peers keep our routes stale), and the routes
 * pass removes no route until BGP has synced or a bound has passed (routes-pass.ts,
 * the gate). Policy's first pass reconciles against the kernel with every local pod
 * known, so no pod loses its rules.
 *
 * Every failure is logged and retried by the next pass; none stops the agent.
 */
import type { Logger } from 'pino';
import type { Snapshot } from '../datastore/snapshot.js';
import { openRtnl, type Rtnl } from '../dataplane/kernel/rtnl.js';
import { NetlinkPodWiring } from '../dataplane/pod-wiring.js';
import { CniServer } from '../cni/server.js';
import type { PoolSpec } from '../dataplane/plan/types.js';
import { Ipam } from '../ipam/allocator.js';
import type { IpamChange } from '../ipam/store.js';
import { AgentMetrics, type ApplyComponent } from '../health/agent-metrics.js';
import { serveHealth, type HealthServer } from '../health/server.js';
import { readNodes } from '../node-config/node-config.js';
import { serveControl, type ControlServer } from '../../bgp/session/control.js';
import type { AgentStatus } from '../status/types.js';
import { keptRoutes, NodeBgp } from './bgp.js';
import { agentHealth } from './bgp-mode.js';
import { DEFER_INPUTS_MS, DeferredInputs } from './deferred-inputs.js';
import { allocateTunnels, dataplanePoolsOf, ipamPoolsOf, withNodeAddress } from './desired.js';
import { changedPrefixes, ipamEncapRoutes } from './ipam-routes.js';
import { IpamView } from './ipam-view.js';
import { LeakGc } from './leaks.js';
import type { AgentOptions } from './options.js';
import { Origination } from './origination.js';
import { podMtuProvider } from './pod-mtu.js';
import { PolicyPass } from './policy-pass.js';
import { Rejections } from './rejections.js';
import { RoutingInputs } from './routing-key.js';
import { observeOwnBlocks } from './block-events.js';
import { RouteTrace } from './route-trace.js';
import { RoutesPass } from './routes-pass.js';
import { blockRows, routeRows, tunnelRows } from './status-view.js';

export type { AgentOptions } from './options.js';

export class Agent {
  private snapshot: Snapshot | undefined;
  private rtnl: Rtnl | undefined;
  private ipam: Ipam | undefined;
  private cni: CniServer | undefined;
  private control: ControlServer | undefined;
  private healthServer: HealthServer | undefined;
  private readonly bgp: NodeBgp;
  readonly metrics = new AgentMetrics();
  private readonly routes: RoutesPass;
  private readonly policy: PolicyPass;
  private readonly origination: Origination;
  private readonly deferred: DeferredInputs;
  private readonly rejected = new Rejections();
  /** stranded IPAM blocks are kept while an IPPool object is rejected (logged once per hold) */
  private strandedHeld = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly routingInputs = new RoutingInputs();
  private leakGc: LeakGc | undefined;
  private readonly ipamView: IpamView;
  /** ends the IPAM change feed (ipam/store.ts: aborting closes it), also while its first list is still failing */
  private readonly ipamWatchStop = new AbortController();
  private stopped = false;
  private readonly trace: RouteTrace;
  /** `--bgp off`: an external speaker carries the routes; margay's speaker never starts */
  private readonly bgpOff: boolean;
  /** with BGP off: routes to other nodes' blocks that go through a tunnel, from IPAM alone (ipam-routes.ts) */
  private ipamRoutes = new Map<string, string[]>();

  constructor(private readonly o: AgentOptions) {
    this.bgpOff = o.bgp === 'off';
    this.trace = RouteTrace.fromEnv(o.logs.dataplane);
    this.deferred = new DeferredInputs(o.deferInputsMs ?? DEFER_INPUTS_MS, (snap, ipam) => this.flushDeferred(snap, ipam));
    this.ipamView = new IpamView(o.node);
    this.bgp = new NodeBgp({
      log: o.logs.bgp, restartTime: o.restartTime ?? 120, holdTime: o.holdTime ?? 90,
      ...(o.readSecret ? { readSecret: o.readSecret } : {}),
      onRoutesChanged: (prefixes) => this.learnedChanged(prefixes),
      trace: this.trace,
    });
    const common = { metrics: this.metrics, trace: this.trace, view: this.ipamView, snapshot: () => this.snapshot };
    this.routes = new RoutesPass({
      ...common, o, bgp: this.bgp, bgpOff: this.bgpOff, rtnl: () => this.rtnl,
      own: () => this.ipamView.own(), learned: () => this.learned,
      ensureTunnelAddresses: (pools) => this.ensureTunnelAddresses(pools), stopped: () => this.stopped,
    });
    this.policy = new PolicyPass({
      ...common, node: o.node, log: o.logs.policy, cni: () => this.cni,
      // this node's interfaces: a leaked handle's gone veth gives a pod neither its interface nor an address
      links: () => (this.rtnl ? new Set(this.rtnl.links().map((l) => l.name)) : undefined),
    });
    this.origination = new Origination({
      ...common, o, bgp: this.bgp, bgpOff: this.bgpOff, own: () => this.ipamView.own(),
      writeFast: (prefixes) => this.routes.writeFast(prefixes), dropDeferredIpam: () => this.deferred.dropIpam(),
    });
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
    const next = ipamEncapRoutes({
      node: this.o.node, blocks: this.ipamView.blocks, pools: dataplanePoolsOf(snap), nodes: readNodes(snap, this.o.bgpDefaults),
      // same subnet or not as the planner decides it: the node's address with the kernel's prefix
      ...(this.rtnl ? { kernel: this.rtnl } : {}), ...(this.o.uplink ? { uplink: this.o.uplink } : {}),
    });
    const changed = changedPrefixes(this.ipamRoutes, next);
    if (changed.length === 0) return;
    this.ipamRoutes = next;
    this.learnedChanged(changed);
  }

  /**
   * Starts everything; 'aborted' when stop() came first (a SIGTERM while the first
   * datastore list still retries): start then returns at its next step, having
   * opened nothing more — what it opened before, stop() closes; what was opening
   * while stop() ran, start closes itself.
   */
  async start(): Promise<'started' | 'aborted'> {
    const { node } = this.o;
    // health first: the first datastore list retries until the API server answers, and
    // a /healthz that refused connections meanwhile got the agent killed by its liveness
    // probe; until the snapshot is in, /readyz says "datastore: no snapshot yet"
    await this.startHealth();
    if (this.stopped) return this.aborted('health server');
    this.rtnl = openRtnl();
    // routes of a previous run kept in the kernel: a restart, the speaker starts as a restarting one (RFC 4724 §4.1)
    if (!this.bgpOff) this.bgp.restarting = keptRoutes(this.rtnl);
    await this.o.datastore.start({
      onSnapshot: (s) => this.snapshotIn(s),
      onRejected: (r) => {
        this.rejected.add(r);
        this.metrics.rejectedObjects(this.rejected.size);
        this.log.warn({ source: r.source, object: r.object, errors: r.errors }, r.kept ? 'datastore: object rejected; its last good version is kept' : 'datastore: object rejected and ignored');
      },
      onSourceRead: (source) => {
        this.rejected.clearSource(source);
        this.metrics.rejectedObjects(this.rejected.size);
      },
      onDeleted: (source, object) => {
        this.rejected.deleted(source, object);
        this.metrics.rejectedObjects(this.rejected.size);
      },
    });
    // stop() settles the datastore's start (the Kubernetes one without a snapshot)
    if (this.stopped) return this.aborted('first datastore list');
    if (!this.snapshot) throw new Error(`datastore ${this.o.datastore.name}: start ended without a snapshot`);
    const snap = this.snapshot;
    const nodeObj = snap.objects.get('Node')?.get(node);
    const store = observeOwnBlocks(this.o.ipamStore, node, {
      claimed: (b) => this.origination.claimed(b), // the view shows a block released here again once claimed (IpamView.claimed)
      released: (cidr) => {
        if (this.o.fastRoutes !== false) this.ipamView.released(cidr);
        this.origination.released(cidr);
      },
    });
    this.ipam = new Ipam({ store, node, pools: ipamPoolsOf(snap), nodeLabels: nodeObj?.metadata.labels ?? {}, holdStranded: this.holdStranded() });
    await this.refreshIpam();
    if (this.stopped) return this.aborted('first IPAM read');
    // other agents' IPAM writes (remote pods' addresses for policy peers, VXLAN tunnel
    // addresses) arrive through the store's change feed; a store without one is re-listed
    if (this.o.ipamStore.watch) {
      void this.o.ipamStore.watch((c) => this.ipamWatched(c), { signal: this.ipamWatchStop.signal }).catch((err: unknown) => this.failed('ipam', err));
    }
    if (this.o.cniSocket) {
      const cni = new CniServer({ socketPath: this.o.cniSocket, ipam: this.ipam, wiring: new NetlinkPodWiring(this.o.procSys !== undefined ? { procSys: this.o.procSys } : {}), log: this.o.logs.cni,
        defaultMtu: podMtuProvider(this.o, () => this.snapshot, () => this.rtnl, this.o.logs.cni) });
      cni.on('pod', (e) => {
        this.log.info({ type: e.type, pod: e.pod, hostIf: e.hostIf, addresses: e.addresses.map((a) => a.address) }, `pod ${e.type}`);
        // a store with a change feed delivers this write itself (ipamRecords kicks policy and routes);
        // re-listing here would read twice and could land an older list after a newer feed
        if (!this.o.ipamStore.watch) void this.refreshIpam().then(() => this.inputsChanged());
      });
      await cni.start();
      if (this.stopped) {
        await cni.stop().catch(() => undefined);
        return this.aborted('CNI server');
      }
      this.cni = cni;
    }
    this.routes.start((err) => this.failed('dataplane', err));
    this.policy.start(this.o.resyncMs ?? 30_000, (err) => this.failed('policy', err));
    await this.origination.update();
    if (this.stopped) {
      // a speaker the update started after stop() stopped the speaker: closed the same way
      await this.bgp.close(true).catch(() => undefined);
      return this.aborted('BGP speaker');
    }
    const control = await serveControl(this.o.statusSocket, (req) => {
      if (req.cmd === 'status') return this.status();
      return { error: `unknown command "${req.cmd}" (known: status)` };
    });
    if (this.stopped) {
      await control.close().catch(() => undefined);
      return this.aborted('status socket');
    }
    this.control = control;
    this.routes.watchGate();
    if (!this.o.ipamStore.watch) this.timers.push(setInterval(() => void this.refreshIpam(), this.o.ipamPollMs ?? 2000));
    this.timers.push(setInterval(() => { if (this.bgp.secretsMissing) void this.origination.update(); }, 3000));
    this.timers.push(setInterval(() => this.metrics.observePeers(this.bgp.rows().map((r) => ({ ...r, state: r.fsm }))), 1000));
    if ((this.o.ipamGcMs ?? 0) > 0) this.timers.push(setInterval(() => void this.collectLeaks(), this.o.ipamGcMs));
    for (const t of this.timers) t.unref();
    this.policy.kick();
    this.routes.kick();
    this.log.info({ node, bgp: this.bgpOff ? 'off' : 'on', datastore: this.o.datastore.name, cniSocket: this.o.cniSocket, statusSocket: this.o.statusSocket }, 'agent started');
    return 'started';
  }

  private aborted(step: string): 'aborted' {
    this.log.info({ step }, 'agent start aborted: stopped while starting');
    return 'aborted';
  }

  private async startHealth(): Promise<void> {
    if (!this.o.health) return;
    const server = await serveHealth({
      health: () => this.health(),
      metrics: () => {
        this.metrics.observePeers(this.bgp.rows().map((r) => ({ ...r, state: r.fsm }))); // fresh at every scrape
        return this.metrics.render();
      },
    }, this.o.health);
    if (this.stopped) {
      await server.close().catch(() => undefined);
      return;
    }
    this.healthServer = server;
    this.log.info({ port: server.port }, 'health and metrics listening');
  }

  /** Graceful stop (SIGTERM): keeps kernel routes and rules, closes BGP without NOTIFICATION. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ipamWatchStop.abort();
    this.deferred.stop();
    for (const t of this.timers) clearTimeout(t);
    this.routes.stop();
    this.policy.stop();
    await this.cni?.stop().catch(() => undefined);
    await this.bgp.close(true).catch((err: unknown) => this.log.warn({ err: String(err) }, 'bgp: stop failed'));
    await this.o.datastore.stop().catch(() => undefined);
    await this.control?.close().catch(() => undefined);
    await this.healthServer?.close().catch(() => undefined);
    this.rtnl?.close();
    this.log.info({}, 'agent stopped (routes and rules left in place for the next start)');
  }

  /** A datastore snapshot: handled at once during start(), else deferred (the newest of several wins). */
  private snapshotIn(raw: Snapshot): void {
    if (!this.ipam || this.deferred.ms <= 0) {
      const t0 = performance.now();
      this.onSnapshot(raw);
      return this.trace.ran('snapshot', t0);
    }
    this.deferred.deferSnapshot(raw);
  }

  /**
   * Other nodes' IPAM records from the change feed: deferred like snapshots, except
   * with BGP off (they are then the routes' source) and before the first read.
   */
  private ipamWatched(c: IpamChange): void {
    if (this.bgpOff || this.deferred.ms <= 0 || !this.ipamView.read) {
      const t0 = performance.now();
      this.ipamRecords(c);
      return this.trace.ran('ipam watch', t0);
    }
    this.deferred.deferIpam(c); // each change is the kind's records whole: the newest wins
  }

  private flushDeferred(snap: Snapshot | undefined, ipam: IpamChange[]): void {
    const t0 = performance.now();
    if (snap) this.onSnapshot(snap);
    if (ipam.length > 0) this.ipamRecords(...ipam);
    if (this.trace.on) this.trace.ran(`deferred${snap ? ' snapshot' : ''}${ipam.length > 0 ? ' ipam' : ''}`, t0);
  }

  private onSnapshot(raw: Snapshot): void {
    const s = withNodeAddress(raw, this.o.node, this.o.nodeAddress);
    this.snapshot = s;
    // a rejected object that is now in the snapshot has been fixed
    if (this.rejected.size > 0) {
      this.rejected.fixedIn(raw); // the datastore's objects (a kept version is the very object it holds), not the patched copy
      this.metrics.rejectedObjects(this.rejected.size);
    }
    if (!this.ipam) return; // the first snapshot arrives inside start()
    const nodeObj = s.objects.get('Node')?.get(this.o.node);
    this.ipam.setPools(ipamPoolsOf(s), { holdStranded: this.holdStranded() });
    this.ipam.setNodeLabels(nodeObj?.metadata.labels ?? {});
    // BGP off: the IPAM routes read nodes and pools (and blocks, which ipamRecords handles)
    if (this.inputsChanged()) this.refreshIpamRoutes();
  }

  /**
   * A rejected IPPool is absent from the snapshot (the kubernetes datastore keeps no last
   * good version across a restart): its empty blocks here are not stranded, keep them.
   */
  private holdStranded(): boolean {
    const hold = this.rejected.holdsKind('IPPool');
    if (hold && !this.strandedHeld) this.log.warn('ipam: an IPPool object is rejected: this node\'s empty blocks outside the pools are kept until it is fixed or deleted');
    this.strandedHeld = hold;
    return hold;
  }

  /** Kicks policy, and routing when what it reads changed (returned). */
  private inputsChanged(): boolean {
    this.policy.kick();
    // routing reads nodes, pools and BGP settings only: a pod or policy change (or a
    // kubelet heartbeat) must not compete with the policy pass for the CPU
    if (!this.snapshot || !this.routingInputs.changed(this.snapshot)) return false;
    this.routes.kick();
    void this.origination.update();
    return true;
  }

  /** Re-reads IPAM records (start, local CNI changes, stores without a change feed); true when anything changed. */
  private async refreshIpam(): Promise<boolean> {
    this.deferred.dropIpam(); // this re-list is newer than any change waiting
    try {
      const [blocks, handles] = await Promise.all([this.o.ipamStore.list('block'), this.o.ipamStore.list('handle')]);
      this.metrics.applied('ipam', true); // margay_applies_total counts every IPAM read, not only the failed ones
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
    if (handles || first) this.policy.kick(); // policy reads pods' addresses from handles, never blocks
    // own blocks (originated, blackholed) and VXLAN tunnel addresses feed the route pass
    if (own) {
      this.routes.kick();
      void this.origination.update();
    }
    this.metrics.observeBlocks(blockRows(this.ipamView.own()));
    this.refreshIpamRoutes();
    return changed;
  }

  /** Learned next hops changed (called inside the read of the UPDATE). */
  private learnedChanged(prefixes: readonly string[]): void {
    this.trace.agentEvent();
    if (this.o.fastRoutes === false) this.routes.kick();
    else this.routes.writeFast(prefixes);
  }

  /**
   * IPAM garbage collection for this node's allocations (leaks.ts): a pod handle
   * whose host veth is gone (any datastore), or whose pod is in no snapshot
   * (kubernetes, where Pod objects are the whole truth), in two passes in a row, is
   * released — the runtime never called DEL. And a deleted node's: every agent frees
   * the addresses and blocks of a node missing from the Node objects past a grace.
   */
  private async collectLeaks(): Promise<void> {
    const { snapshot: snap, ipam, rtnl } = this;
    if (!snap || !ipam || !rtnl) return;
    try {
      this.leakGc ??= new LeakGc({
        node: this.o.node, store: this.o.ipamStore, release: (h) => ipam.release(h), links: () => rtnl.links().map((l) => l.name),
        ...(this.cni ? { exclusive: this.cni.exclusive.bind(this.cni) } : {}),
        graceMs: Math.floor((this.o.ipamGcMs ?? 60_000) * 0.9), log: this.log, nodesOnlySeen: this.o.datastore.name === 'file',
      });
      const live = this.o.datastore.name === 'kubernetes'
        ? [...(snap.objects.get('Pod')?.values() ?? [])].map((p) => ({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name }))
        : undefined;
      // the cluster's nodes: a node missing from them past a grace has its addresses and blocks freed (leaks.ts);
      // none while a Node object is rejected (its node may be running), and in the file
      // datastore (Node objects optional) only a node listed before can be gone
      const nodes = this.rejected.holdsKind('Node') ? undefined : [...(snap.objects.get('Node')?.keys() ?? [])];
      if ((await this.leakGc.pass(live, nodes)).length > 0 && await this.refreshIpam()) this.policy.kick();
    } catch (err) {
      this.failed('ipam', err);
    }
  }

  /**
   * This node's tunnel device addresses (VXLAN, IPIP): IPAM allocations under
   * well-known handles (desired.ts `tunnelRequests`). No pool with that
   * encapsulation selecting this node: none, and the pass goes on without it.
   */
  private async ensureTunnelAddresses(pools: readonly PoolSpec[]): Promise<void> {
    const ipam = this.ipam;
    if (!ipam) return;
    // an address no enabled pool with its encapsulation covers any more (the pool switched off or deleted) is released and asked for again
    const outcomes = await allocateTunnels((req) => ipam.assign(req), pools, this.o.node, this.ipamView.tunnels().get(this.o.node), (h) => ipam.release(h));
    for (const o of outcomes) {
      if (o.released) this.o.logs.dataplane.info({ released: o.released }, `dataplane: ${o.kind.toUpperCase()} tunnel address released (no enabled ${o.kind.toUpperCase()} pool covers it)`);
      if ('addresses' in o) this.o.logs.dataplane.info({ address: o.addresses }, `dataplane: ${o.kind.toUpperCase()} tunnel address allocated`);
      else this.o.logs.dataplane.debug({ reason: o.skipped }, `dataplane: no ${o.kind.toUpperCase()} tunnel address`);
    }
    if (outcomes.some((o) => 'addresses' in o || o.released !== undefined)) await this.refreshIpam();
  }

  private failed(component: ApplyComponent, err: unknown): void {
    this.metrics.applied(component, false);
    this.log.error({ component, err: err instanceof Error ? err.stack ?? err.message : String(err) }, `${component}: pass failed; the next pass retries`);
  }

  private health() {
    const routesError = this.routes.failure;
    return agentHealth({
      mode: this.bgpOff ? 'off' : 'on', datastoreSynced: this.snapshot !== undefined, gateOpen: this.routes.gateOpen, policySynced: this.policy.synced,
      ...(routesError !== undefined ? { routesError } : {}),
    });
  }

  status(): AgentStatus {
    const h = this.health();
    const id = this.bgp.identityInfo();
    const report = this.routes.lastReport;
    const routesError = this.routes.failure;
    return {
      node: this.o.node, ...(id ? { asn: id.asn, routerId: id.routerId } : {}),
      // bgpSynced: readiness's notion (BGP off is synced; on: the gate has opened)
      ready: h.reasons.length === 0, reasons: h.reasons, bgpSynced: h.bgpSynced, ...(this.bgpOff ? { bgp: 'off' as const } : {}),
      peers: this.bgp.rows(), routes: routeRows(report?.plan.routes ?? []), blocks: blockRows(this.ipamView.own()),
      tunnels: tunnelRows(report?.plan, this.snapshot ? dataplanePoolsOf(this.snapshot) : []),
      policy: this.policy.status(),
      problems: [
        ...this.bgp.problems, ...this.routes.unmapped, ...(report?.problems ?? []), ...this.policy.problemList, ...this.rejected.sentences(),
        ...(routesError !== undefined ? [`routes pass failed: ${routesError}`] : []),
      ],
    };
  }
}

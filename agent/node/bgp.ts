/**
 * The agent's BGP side: node-config's plan in, a running speaker out. Keeps one
 * session runtime (listener + driver) around AgentSpeakerCore and reconciles it
 * with every new plan: peers are added, changed or removed without disturbing the
 * others; originated prefixes are replaced whole. A change of the node's own
 * identity (AS, router ID, cluster ID, listen port, listen address) restarts the
 * speaker. A node with an IPv6 address listens on "::" (both families).
 *
 * It keeps the Loc-RIB's best routes with their next hops (`learned`) for the
 * dataplane, and says when BGP has synced (every peer Established with its
 * End-of-RIB in) — or, bounded, that the agent has waited long enough.
 *
 * Passwords from Secrets: the plan holds only the secretKeyRef, and the agent may
 * only `get` Secrets (no watch), so the applied plan's Secrets are read again at
 * every apply and every `secretPollMs` (one read per Secret key and round). A changed
 * value goes to its peer alone — the speaker resets that session (Cease, a new TCP
 * connection with the new MD5 key); the others' configs are equal, so untouched. A
 * read that fails, or hangs past `secretReadTimeoutMs` (updates wait behind it), keeps
 * a configured peer's last password (reported, retried).
 */
import type { Logger } from 'pino';
import type { PeerConfig, RouteChange } from '../../bgp/speaker/index.js';
import { isLinkLocalText as isLinkLocal } from '../../bgp/wire/address.js';
import type { NeighborConfig, SpeakerConfig } from '../../bgp/session/config.js';
import type { DriverCodec } from '../../bgp/session/driver.js';
import type { Transport } from '../../bgp/session/transport.js';
import { SpeakerRuntime } from '../../bgp/session/runtime.js';
import { WarmPair } from '../../bgp/speaker/warm-pair.js';
import { wireCodec } from '../../bgp/session/wire-codec.js';
import type { NodeBgpPlan, PasswordSource, PlannedPeer } from '../node-config/types.js';
import { hostOf } from '../node-config/node-info.js';
import type { PeerRow } from '../status/types.js';
import { AgentSpeakerCore } from './bgp-core.js';
import type { RouteTrace } from './route-trace.js';
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import { MARGAY_ROUTE_PROTOCOL } from '../dataplane/plan/resolve.js';

export type SecretReader = (ref: { name: string; key: string }) => Promise<string>;

export interface NodeBgpOptions {
  log: Logger;
  /** reads a Secret's key (kubernetes datastore); absent: secretKeyRef passwords are refused */
  readSecret?: SecretReader;
  /** graceful-restart time announced to peers (seconds) */
  restartTime: number;
  holdTime: number;
  /** learned next hops changed for these prefixes (called inside the read of the UPDATE) */
  onRoutesChanged(prefixes: string[]): void;
  trace?: RouteTrace;
  /** the sessions' TCP transport (tests: a recording fake); default the kernel's */
  transport?: Transport;
  /** re-read the applied plan's Secrets this often (ms), to pick up a rotated password; default 30 s */
  secretPollMs?: number;
  /** a Secret read without an answer this long (ms) counts as failed (the updates wait behind it); default 10 s */
  secretReadTimeoutMs?: number;
}

const SECRET_POLL_MS = 30_000;
const SECRET_READ_TIMEOUT_MS = 10_000;

/** documentation prefixes (RFC 5737, RFC 3849), block-sized: the warm-up's synthetic routes */
const WARM_PREFIXES_V4 = ['192.0.2.64/26'];
const WARM_PREFIXES_DUAL = ['192.0.2.64/26', '2001:db8:0:1::/122'];

/**
 * The listener's address: "::" (one dual-stack socket, IPv4 peers seen as
 * ::ffff:a.b.c.d, which the runtime maps back, and which the listener's MD5 keys
 * use) when the node has an IPv6 address, so IPv6 peers active toward it can
 * connect; 0.0.0.0 on an IPv4-only node (IPv6 may be off in its kernel).
 */
const listenAddress = (p: NodeBgpPlan): string => (p.local?.address6 || !p.local?.address ? '::' : '0.0.0.0');

/**
 * A route's next hops as the dataplane takes them: a 32-byte IPv6 next hop (RFC 2545
 * §3) is the global and the link-local address of the SAME router, so when a global
 * address is there the link-local ones go (else each became a second "router" the
 * planner cannot reach). A next hop that is only link-local stays as it came: the
 * planner reports it (not on the node's subnet), it is not silently dropped.
 */
function learnedHops(hops: readonly string[]): string[] {
  const global = hops.filter((h) => !isLinkLocal(h));
  return global.length > 0 ? global : [...hops];
}

/** What restarts the speaker when it changes (the runtime takes a new listen address only at start). */
const identityOf = (p: NodeBgpPlan): string => JSON.stringify(p.local ? [p.local.asn, p.local.routerId, p.local.clusterId, p.local.listenPort, listenAddress(p)] : null);

/**
 * The kernel holds routes of margay's protocol (a previous run's, kept: nothing is
 * flushed on stop): this start is a restart, not a first boot. A family the kernel
 * cannot dump (IPv6 off) counts as holding none.
 */
export function keptRoutes(rtnl: Pick<Rtnl, 'routes'>): boolean {
  return ([4, 6] as const).some((f) => {
    try {
      return rtnl.routes(f).some((r) => r.protocol === MARGAY_ROUTE_PROTOCOL);
    } catch {
      return false;
    }
  });
}

export class NodeBgp {
  private runtime: SpeakerRuntime | undefined;
  private core: AgentSpeakerCore | undefined;
  private identity = 'null';
  private peers: PlannedPeer[] = [];
  /**
   * configured peers left out by the last peerConfigs (no password could be read): synced()
   * waits on them and peerNodes() names their nodes, so their routes are held like any peer's
   */
  private skipped: PlannedPeer[] = [];
  readonly learned = new Map<string, string[]>();
  readonly problems: string[] = [];
  /** a Secret could not be read: the agent retries (Secrets are not watched) */
  secretsMissing = false;
  /** the plan last applied whole (with appliedKey): the Secret poll re-reads its peers' Secrets */
  private plan: NodeBgpPlan | undefined;
  private secretPoll: NodeJS.Timeout | undefined;
  /** a Secret poll waits in or runs on `chain` */
  private polling = false;
  /** the password last read from a Secret, per configured peer: kept when a later read fails */
  private readonly secretPasswords = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  /** prefixes accepted from peers that are not cluster nodes (inside the IPPools) */
  private externalImport: string[] = [];
  /** the plan (and import list) last applied whole, and its runtime configuration: the fast path's test */
  private appliedKey = '';
  private config: SpeakerConfig | undefined;
  /** what the warm-up's speaker pair is shaped by (the config's AS and families), set with `config` (setConfig) */
  private warmShape: { asn: number; families: readonly NeighborConfig['families'][number][]; key: string } | undefined;
  /**
   * The agent restarted with its routes in the kernel (keptRoutes): the first speaker
   * is a restarting one (R bit, deferral). Consumed by that start; a speaker restarted
   * for an identity change closed its sessions with a NOTIFICATION and is not.
   */
  restarting = false;
  /** our forwarding state is kept (a restart, or routes programmed since): the F bit */
  private forwarding = false;
  /** updates waiting in or running on `chain` */
  private queued = 0;
  /** close() ran (the agent is stopping): no update starts a speaker again */
  private closed = false;
  /** the last UPDATE frame received that carried prefixes, and its codec options: the fast-path warmer decodes it (warm) */
  private sample: { frame: Buffer; opts: Parameters<DriverCodec['decode']>[1] } | undefined;
  /** the warm-up's speaker pair (warm()), remade when the AS or the families change */
  private warmPair: { key: string; pair?: WarmPair } | undefined;

  constructor(private readonly o: NodeBgpOptions) {}

  /**
   * Reconciles the speaker with a plan (calls run one at a time). When only the
   * originated prefixes changed (same plan as the last applied one, nothing queued)
   * the UPDATEs are written before this returns: a new IPAM block must not wait
   * behind other work of the agent's event-loop turn (the policy pass, promise hops).
   */
  update(plan: NodeBgpPlan, originated: readonly string[], externalImport: readonly string[] = []): Promise<void> {
    if (this.closed) return Promise.resolve();
    const key = JSON.stringify([plan, externalImport]);
    if (this.queued === 0 && key === this.appliedKey && !this.secretsMissing && this.runtime && this.core && this.config) {
      try {
        this.core.setOriginated(originated);
        // the runtime logs why and keeps what runs when it refuses
        if (!this.runtime.reload(this.config)) this.o.log.error('bgp: the speaker refused the originated prefixes; keeping what runs');
      } catch (err) {
        this.o.log.error({ err: (err as Error).stack ?? String(err) }, 'bgp: applying the originated prefixes failed; keeping what runs');
      }
      return Promise.resolve();
    }
    this.externalImport = [...externalImport];
    this.queued++;
    const run = this.chain.then(() => this.apply(plan, originated, key)).catch((err: unknown) => {
      this.o.log.error({ err: (err as Error).stack ?? String(err) }, 'bgp: applying the configuration failed; keeping what runs');
    }).finally(() => { this.queued--; });
    this.chain = run;
    return run;
  }

  /**
   * Only the originated prefixes changed (a block just claimed): handed to the
   * running speaker and written to its peers before this returns, without planning
   * peers again. False when no speaker runs or an update is queued (use update()).
   */
  originate(originated: readonly string[]): boolean {
    if (this.queued !== 0 || this.appliedKey === '' || !this.runtime || !this.core) return false;
    try {
      this.runtime.driver.perform(this.core.originateNow(originated, Date.now()));
    } catch (err) {
      this.o.log.error({ err: (err as Error).stack ?? String(err) }, 'bgp: originating failed; the next update retries');
      return false;
    }
    return true;
  }

  private async apply(plan: NodeBgpPlan, originated: readonly string[], key: string): Promise<void> {
    if (this.closed) return;
    this.appliedKey = '';
    const id = identityOf(plan);
    if (id !== this.identity) {
      if (this.runtime) {
        this.o.log.warn({ from: this.identity, to: id }, 'bgp: node identity changed (AS, router ID, cluster ID, port or listen address): restarting the speaker');
        await this.stop(false);
      }
      this.identity = id;
      if (!plan.local?.routerId) {
        // said in margay status too: an IPv6-only node without the annotation otherwise just has no peers
        const why = 'bgp: the node has no IPv4 router ID (annotation margay.io/router-id or an IPv4 address): BGP stays off';
        this.problems.splice(0, this.problems.length, ...plan.problems, ...(plan.local ? [why] : []));
        if (plan.local) this.o.log.error({ node: plan.local.name }, why);
        return;
      }
      const local = plan.local;
      const core = new AgentSpeakerCore({
        asn: local.asn, routerId: local.routerId as string, restartTime: this.o.restartTime,
        restarting: this.restarting, forwardingPreserved: this.forwarding || this.restarting,
        ...(local.clusterId ? { clusterId: local.clusterId } : {}),
        onRoutes: (changes) => this.onRoutes(changes),
      });
      const peers = await this.peerConfigs(plan);
      if (this.closed) return; // closed while the Secrets were read
      core.setPeers(peers, this.caps(), this.skipped.map((p) => p.address));
      core.setOriginated(originated);
      const config = this.runtimeConfig(plan, peers);
      this.core = core;
      this.runtime = new SpeakerRuntime({ config, core, codec: this.sampling(this.o.trace?.codec(wireCodec) ?? wireCodec), log: this.o.log, ...(this.o.transport ? { transport: this.o.transport } : {}) });
      if (this.restarting) this.o.log.info('bgp: routes of a previous run are in the kernel: starting as a restarting speaker (R and F bits, advertising deferred until the peers\' End-of-RIB)');
      this.restarting = false;
      await this.runtime.start();
      this.setConfig(config);
      this.appliedKey = key;
      this.plan = plan;
      this.startSecretPoll();
      this.o.log.info({ asn: local.asn, routerId: local.routerId, clusterId: local.clusterId, port: local.listenPort, peers: peers.length, originated }, 'bgp: speaker started');
      return;
    }
    if (!this.runtime || !this.core) return;
    const peers = await this.peerConfigs(plan);
    this.core.setPeers(peers, this.caps(), this.skipped.map((p) => p.address));
    this.core.setOriginated(originated);
    const config = this.runtimeConfig(plan, peers);
    // refused (logged by the runtime): not applied, so the next update tries again
    if (!this.runtime.reload(config)) throw new Error('the speaker refused the new configuration; keeping what runs');
    this.setConfig(config);
    this.appliedKey = key;
    this.plan = plan;
  }

  private startSecretPoll(): void {
    if (!this.o.readSecret || this.secretPoll) return;
    this.secretPoll = setInterval(() => this.pollSecrets(), this.o.secretPollMs ?? SECRET_POLL_MS);
    this.secretPoll.unref();
  }

  /**
   * Re-reads the Secrets of the applied plan's peers (on `chain`, skipped while an
   * update waits: it reads them itself). Only a changed peer config is handed to the
   * speaker: a new password resets that one session; nothing else is touched.
   */
  private pollSecrets(): void {
    const plan = this.plan;
    if (this.polling || this.queued !== 0 || !plan || !plan.peers.some((p) => p.password && 'secretKeyRef' in p.password)) return;
    this.polling = true;
    this.chain = this.chain.then(async () => {
      if (this.queued !== 0 || this.plan !== plan || this.appliedKey === '' || !this.runtime || !this.core) return;
      const peers = await this.peerConfigs(plan);
      // stopped, restarted or an update queued while reading: that apply reads the Secrets itself
      if (this.queued !== 0 || this.plan !== plan || this.appliedKey === '' || !this.runtime || !this.core) return;
      const config = this.runtimeConfig(plan, peers);
      this.core.setPeers(peers, this.caps(), this.skipped.map((p) => p.address));
      if (JSON.stringify(config) === JSON.stringify(this.config)) return;
      if (!this.runtime.reload(config)) {
        this.appliedKey = ''; // the next update applies whole
        throw new Error('the speaker refused the new passwords; keeping what runs');
      }
      this.setConfig(config);
    }).catch((err: unknown) => {
      this.o.log.error({ err: (err as Error).stack ?? String(err) }, 'bgp: re-reading the peers\' Secrets failed; keeping what runs');
    }).finally(() => { this.polling = false; });
  }

  /** The codec, keeping a copy of an UPDATE that carried prefixes now and then (for warm). */
  private sampling(inner: DriverCodec): DriverCodec {
    let seen = 0;
    return {
      initial: inner.initial,
      split: (buf) => inner.split(buf),
      encode: (m, opts) => inner.encode(m, opts),
      decode: (frame, opts) => {
        const r = inner.decode(frame, opts);
        // cheap: one test per message; a copy for the first UPDATEs and then one in 64
        if ('message' in r && r.message?.type === 'UPDATE' && (this.sample === undefined || (++seen & 63) === 0) && (r.message.nlri.length > 0 || r.message.attributes.mpReach !== undefined)) {
          this.sample = { frame: Buffer.from(frame), opts };
        }
        return r;
      },
    };
  }

  /**
   * Runs the route path once on synthetic input (fast-warm.ts): decodes the sampled
   * UPDATE (its result is dropped), and a round of an in-memory speaker pair shaped
   * like this node's sessions (same AS, families, graceful restart): originate →
   * encode → decode → RIB → withdraw, the code a claimed block's UPDATE runs on both
   * ends. Nothing reaches a peer or the RIB.
   */
  warm(): void {
    const s = this.sample;
    if (s) wireCodec.decode(s.frame, s.opts);
    const shape = this.warmShape;
    if (!shape) return;
    const { asn, families, key } = shape;
    try {
      if (this.warmPair?.key !== key) {
        this.warmPair = { key }; // without a pair until it has established: a shape that failed is not tried again
        const pair = new WarmPair({ asn, families });
        if (!pair.established) throw new Error('the in-memory speaker pair did not establish');
        this.warmPair.pair = pair;
      }
      this.warmPair.pair?.round(families.includes('ipv6') ? WARM_PREFIXES_DUAL : WARM_PREFIXES_V4);
    } catch (err) {
      // only the warm-up is lost: the real sessions are untouched
      this.warmPair = { key };
      this.o.log.warn({ err: (err as Error).message }, 'bgp: warm-up of the route path turned off (a bug)');
    }
  }

  /** The runtime configuration applied, and the warm-up's shape from it (computed here, not at every warm round). */
  private setConfig(c: SpeakerConfig | undefined): void {
    this.config = c;
    if (!c || c.neighbors.length === 0) return void (this.warmShape = undefined);
    const families = [...new Set(c.neighbors.flatMap((n) => n.families))].sort();
    this.warmShape = { asn: c.asn, families, key: `${c.asn} ${families.join()}` };
  }

  /** `found`: this plan's problems and whether a Secret could not be read, published whole when the plan is done */
  private async password(p: PlannedPeer, src: PasswordSource, reads: Map<string, Promise<string>>, found: { problems: string[]; missing: boolean }): Promise<string | undefined> {
    if ('value' in src) return src.value;
    if (!this.o.readSecret) {
      found.problems.push(`peer ${p.address} (${p.source}): password.secretKeyRef needs the kubernetes datastore; use password.value in file mode`);
      return undefined;
    }
    const { name, key } = src.secretKeyRef;
    try {
      // one read per Secret key and round (a mesh shares one key: not one GET per peer)
      const ref = JSON.stringify([name, key]);
      let pending = reads.get(ref);
      if (!pending) reads.set(ref, (pending = this.boundedRead(this.o.readSecret, src.secretKeyRef)));
      const read = await pending;
      const prev = this.secretPasswords.get(p.address);
      if (prev !== undefined && prev !== read && this.peers.some((x) => x.address === p.address)) {
        this.o.log.info({ peer: p.address, secret: name, key }, 'bgp: the peer\'s password changed in its Secret: restarting its session with the new TCP MD5 key');
      }
      this.secretPasswords.set(p.address, read);
      return read;
    } catch (err) {
      found.missing = true;
      const why = `peer ${p.address} (${p.source}): cannot read Secret ${name} key ${key}: ${(err as Error).message}`;
      // a peer already running keeps the key it has: a Secret read failing (API server away) on an unrelated re-plan must not tear it down
      const kept = this.peers.some((x) => x.address === p.address) ? this.secretPasswords.get(p.address) : undefined;
      if (kept === undefined) {
        found.problems.push(why);
        return undefined;
      }
      this.o.log.warn({ peer: p.address, secret: name, key, err: (err as Error).message }, 'bgp: cannot read the peer\'s Secret: keeping the last password read (retried)');
      found.problems.push(`${why}; keeping the last password read`);
      return kept;
    }
  }

  /** The read, or a failure when it has not answered in time (the read itself is left to settle). */
  private boundedRead(read: SecretReader, ref: { name: string; key: string }): Promise<string> {
    const ms = this.o.secretReadTimeoutMs ?? SECRET_READ_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
      timer.unref();
    });
    return Promise.race([read(ref), late]).finally(() => clearTimeout(timer));
  }

  private async peerConfigs(plan: NodeBgpPlan): Promise<PeerConfig[]> {
    // problems, missing Secrets and skipped peers change at once when the plan is done: a
    // Secret read in flight must not blank `margay status` problems or the waited-on peers
    const found = { problems: [...plan.problems], missing: false };
    const skipped: PlannedPeer[] = [];
    const local = plan.local;
    const out: PeerConfig[] = [];
    const kept: PlannedPeer[] = [];
    const reads = new Map<string, Promise<string>>();
    for (const p of plan.peers) {
      let password: string | undefined;
      if (p.password) {
        password = await this.password(p, p.password, reads, found);
        if (password === undefined) { // never open a session without the key it was asked to have
          skipped.push(p);
          continue;
        }
      }
      const v6 = p.address.includes(':');
      const localAddress = v6 ? local?.address6 : local?.address;
      const c: PeerConfig = {
        address: p.address, asn: p.asn, passive: p.passive, routeReflectorClient: p.routeReflectorClient,
        // as Calico: a BGPPeer that is no cluster node (a router) gets `next hop self` unless
        // keepOriginalNextHop — a route learned from router A goes to router B via this node;
        // node peers (mesh, selector, a peerIP that is a node) keep the original next hop
        holdTime: this.o.holdTime, families: [...p.families], gracefulRestart: true, nextHopSelf: p.node ? false : !p.keepOriginalNextHop,
        keepOriginalNextHop: p.keepOriginalNextHop, port: p.port, connectRetryTime: 2, idleHoldTime: 1,
        ...(password !== undefined ? { password } : {}),
        // the address the node speaks BGP from, for every peer of its family (Calico's `source address`)
        ...(localAddress ? { localAddress: hostOf(localAddress) } : {}),
        ...(local?.address ? { nextHop4: hostOf(local.address) } : {}),
        ...(local?.address6 ? { nextHop6: hostOf(local.address6) } : {}),
        ...(p.node ? {} : { importPrefixes: [...this.externalImport] }),
      };
      out.push(c);
      kept.push(p);
    }
    this.peers = kept;
    this.skipped = skipped;
    this.problems.splice(0, this.problems.length, ...found.problems);
    this.secretsMissing = found.missing;
    for (const addr of [...this.secretPasswords.keys()]) if (!kept.some((p) => p.address === addr)) this.secretPasswords.delete(addr);
    return out;
  }

  private caps(): Map<string, number> {
    return new Map(this.peers.filter((p) => p.maxRestartTime !== undefined).map((p) => [p.address, p.maxRestartTime as number]));
  }

  private runtimeConfig(plan: NodeBgpPlan, peers: PeerConfig[]): SpeakerConfig {
    const local = plan.local;
    const neighbors: NeighborConfig[] = peers.map((c) => ({
      address: c.address, asn: c.asn, passive: !!c.passive, routeReflectorClient: !!c.routeReflectorClient, holdTime: c.holdTime ?? 90,
      families: [...(c.families ?? ['ipv4'])], nextHopSelf: false, gracefulRestart: true, port: c.port ?? 179,
      ...(c.password !== undefined ? { password: c.password } : {}), ...(c.localAddress ? { localAddress: c.localAddress } : {}),
    }));
    return {
      asn: local?.asn ?? 0, routerId: local?.routerId ?? '0.0.0.0', restartTime: this.o.restartTime, originate: [], neighbors,
      listen: { address: listenAddress(plan), port: local?.listenPort ?? 179 },
      ...(local?.clusterId ? { clusterId: local.clusterId } : {}),
    };
  }

  /**
   * Only a change of `learned` wakes the dataplane: our own originated blocks (no next
   * hop) and new best paths with the same next hops would cost a whole routes pass
   * right when the peers need the CPU to program the UPDATE we just sent. Next hops go
   * through `learnedHops` (a link-local half of an IPv6 next hop is dropped).
   */
  private onRoutes(changes: RouteChange[]): void {
    this.o.trace?.ribChanged();
    const changed: string[] = [];
    for (const c of changes) {
      if (c.kind === 'remove' || c.nextHops.length === 0) {
        if (this.learned.delete(c.prefix)) changed.push(c.prefix);
        continue;
      }
      const hops = learnedHops(c.nextHops);
      const old = this.learned.get(c.prefix);
      if (old && old.length === hops.length && old.every((h, i) => h === hops[i])) continue;
      this.learned.set(c.prefix, hops);
      changed.push(c.prefix);
    }
    if (changed.length > 0) this.o.onRoutesChanged(changed);
  }

  /**
   * The configured node peers' nodes, by peer address: peers skipped for an unreadable
   * Secret too (synced() waits on them; after a restart their blocks stay routed via them)
   */
  peerNodes(): Map<string, string> {
    return new Map([...this.peers, ...this.skipped].flatMap((p) => (p.node ? [[p.address, p.node] as const] : [])));
  }

  /** The dataplane programs routes now (the gate opened): later OPENs say forwarding state is kept (F bit). */
  keptForwarding(): void {
    if (this.forwarding) return;
    this.forwarding = true;
    this.core?.preserveForwarding();
  }

  synced(): { synced: boolean; waiting: string[] } {
    return this.core?.synced() ?? { synced: false, waiting: [] };
  }

  get running(): boolean {
    return this.runtime !== undefined;
  }

  identityInfo(): { asn: number; routerId: string } | undefined {
    const st = this.runtime?.status();
    return st ? { asn: st.asn, routerId: st.routerId } : undefined;
  }

  rows(): PeerRow[] {
    const st = this.runtime?.status();
    if (!st) return [];
    return this.peers.map((p) => {
      const s = st.peers.find((x) => x.address === p.address);
      const fsm = s?.state ?? 'Idle';
      const info = fsm === 'Established' ? 'Established' : `${fsm}${s?.lastError ? ` (last: ${s.lastError})` : s?.reason ? ` (${s.reason})` : ''}`;
      return {
        address: p.address, type: p.type, state: fsm === 'Established' ? 'up' : 'start', fsm, since: s?.since ?? '', info, asn: p.asn,
        ...(p.node ? { node: p.node } : {}), passive: p.passive, received: s?.received ?? 0, advertised: s?.advertised ?? 0, stale: s?.stale ?? 0,
      };
    });
  }

  /**
   * The agent stops: the speaker stops (as stop()) and stays stopped — an update queued
   * or reading Secrets meanwhile starts nothing, later updates are ignored.
   */
  async close(graceful: boolean): Promise<void> {
    this.closed = true;
    await this.chain.catch(() => undefined);
    await this.stop(graceful);
  }

  /** Graceful (restart): close the sessions without NOTIFICATION so peers keep our routes. */
  async stop(graceful: boolean): Promise<void> {
    const rt = this.runtime;
    this.runtime = undefined;
    if (this.core) this.core.graceful = graceful;
    this.core = undefined;
    this.setConfig(undefined);
    this.appliedKey = '';
    this.plan = undefined;
    clearInterval(this.secretPoll);
    this.secretPoll = undefined;
    this.identity = 'null';
    if (rt) await rt.stop();
    if (!graceful) this.learned.clear();
  }
}

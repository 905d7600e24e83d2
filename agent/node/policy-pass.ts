/**
 * The agent's policy writer: a serialised reconcile loop (dataplane/loop.ts) whose
 * pass compiles pods + namespaces + NetworkPolicies + IPAM handles (pods' addresses)
 * into iptables chains and ipsets and hands them to the PolicyApplier. The first pass
 * reconciles against the kernel with every local pod known, so no pod loses its
 * rules across a restart; passes kicked by input changes are incremental (diffed
 * against what was applied); the periodic resync pass reconciles again — reads
 * iptables-save / ipset save — so drift (a firewalld or ufw reload, `iptables -F
 * FORWARD`, a deleted hook, a hook pushed down) is repaired.
 *
 * Fail closed: a failed apply leaves the previous rules in place and is retried with
 * the newest inputs, backing off from 250 ms to 10 s. A pass waits (bounded) for the
 * CNI requests being answered: an nftables commit in this namespace holds up a veth
 * creation in the kernel.
 *
 * A kicked pass whose inputs are those of the last successful pass does nothing (every
 * snapshot change kicks it — a kubelet heartbeat, a route change): the snapshot's Pod,
 * Namespace and NetworkPolicy maps are the same objects (a snapshot copies only the
 * kinds that changed), the IPAM handles are the same (by identity, else by value) and
 * so are this node's interface names. The first pass, a resync tick and the pass after
 * a failed one always run. Pods, namespaces and policies are parsed and validated
 * through per-object caches: a changed pod costs its own parse, not the cluster's.
 *
 * State: the loop, the counts and outcome of the last pass (for status), whether the
 * first reconcile is done, whether a resync tick asked for a reconcile, the retry
 * back-off, since when inputs are dirty (the policy-sync latency metric), and the
 * inputs of the last successful pass.
 */
import type { Logger } from 'pino';
import type { Snapshot } from '../datastore/snapshot.js';
import { REAL_TIMERS, startDataplaneLoop, type DataplaneLoop, type LoopTimers } from '../dataplane/loop.js';
import type { CniServer } from '../cni/server.js';
import { hostIfName } from '../cni/names.js';
import type { AgentMetrics } from '../health/agent-metrics.js';
import type { PolicyCounts } from '../status/types.js';
import { compile } from '../../policy/compile.js';
import { validatePolicyCached } from '../../policy/model/validate.js';
import { PolicyApplier } from '../../policy/apply/applier.js';
import { hostExec, type Exec } from '../../policy/apply/exec.js';
import { policyInputOf } from './desired.js';
import type { IpamView } from './ipam-view.js';
import type { Handle } from '../ipam/types.js';
import type { Resource, ResourceKind } from '../datastore/resources.js';
import type { RouteTrace } from './route-trace.js';

/** longest a policy pass waits for CNI requests being answered */
const POLICY_WAITS_FOR_CNI_MS = 25;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;

export interface PolicyPassDeps {
  node: string;
  log: Logger;
  metrics: AgentMetrics;
  trace: RouteTrace;
  /** the newest snapshot (read again after waiting for the CNI server) */
  snapshot: () => Snapshot | undefined;
  view: IpamView;
  cni: () => CniServer | undefined;
  /** the names of this node's interfaces (undefined: unknown; every local handle of a pod then counts) */
  links?: () => ReadonlySet<string> | undefined;
  /** tests: the kernel tools (default hostExec()) and the resync timer */
  exec?: Exec;
  timers?: LoopTimers;
}

/** What a pass reads: the kinds' maps of the snapshot (by identity), the IPAM handles and this node's interface names. */
interface PassInputs {
  kinds: (ReadonlyMap<string, Resource> | undefined)[];
  handles: readonly Handle[];
  links: ReadonlySet<string> | undefined;
}

const POLICY_KINDS: readonly ResourceKind[] = ['Pod', 'Namespace', 'NetworkPolicy'];

function inputsOf(snap: Snapshot, handles: readonly Handle[], links: ReadonlySet<string> | undefined): PassInputs {
  return { kinds: POLICY_KINDS.map((k) => snap.objects.get(k)), handles, links };
}

/** JSON values equal (IPAM records: plain data) */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function sameInputs(a: PassInputs, b: PassInputs): boolean {
  if (a.kinds.length !== b.kinds.length || a.kinds.some((m, i) => m !== b.kinds[i])) return false;
  if (a.handles !== b.handles && (a.handles.length !== b.handles.length || a.handles.some((h, i) => !sameValue(h, b.handles[i])))) return false;
  if (a.links === b.links) return true;
  if (a.links === undefined || b.links === undefined || a.links.size !== b.links.size) return false;
  for (const l of a.links) if (!b.links.has(l)) return false;
  return true;
}

export class PolicyPass {
  private loop: DataplaneLoop | undefined;
  private readonly applier: PolicyApplier;
  private counts = { policies: 0, rejected: 0, localPods: 0 };
  private ok = false;
  private first = true;
  /** the compiler's problems last logged (logged again only when they change) */
  private problems = '';
  private applyProblems: string[] = [];
  /** a resync tick fired: the next pass reads the kernel again */
  private resyncDue = false;
  private retryMs = FIRST_RETRY_MS;
  private dirtySince: number | undefined;
  /** the inputs of the last successful pass (undefined: none yet, or the last pass failed) */
  private applied: PassInputs | undefined;
  /** passes skipped since start: their inputs were those of the last successful pass */
  private skips = 0;

  constructor(private readonly d: PolicyPassDeps) {
    this.applier = new PolicyApplier(d.exec ?? hostExec(), d.log);
  }

  start(resyncMs: number, onError: (err: unknown) => void): void {
    const t: LoopTimers = this.d.timers ?? REAL_TIMERS;
    // the loop's periodic pass is the resync: mark it so that it reconciles
    const timers: LoopTimers = {
      setInterval: (fn, ms) => t.setInterval(() => { this.resyncDue = true; fn(); }, ms),
      clearInterval: (h) => t.clearInterval(h),
    };
    this.loop = startDataplaneLoop(() => this.run(), { resyncMs, onError, timers });
  }

  /** Inputs changed: a pass soon (none before start()). */
  kick(): void {
    this.dirtySince ??= performance.now();
    void this.loop?.kick();
  }

  stop(): void {
    this.loop?.stop();
  }

  /** the last apply succeeded */
  get synced(): boolean {
    return this.ok;
  }

  /** the last apply's problems that did not fail it (an IP family the kernel lacks, a stale set still in use), and the compiler's */
  get problemList(): string[] {
    return [...this.applyProblems, ...(this.problems === '' ? [] : this.problems.split('\n'))];
  }

  /** passes skipped since start (nothing they read had changed) */
  get skipped(): number {
    return this.skips;
  }

  status(): PolicyCounts {
    const m = this.applier.metrics;
    return { ...this.counts, applies: m.applies, failures: m.failures, lastError: m.lastError, synced: this.ok };
  }

  private async run(): Promise<void> {
    const snap = this.d.snapshot();
    if (!snap || !this.d.view.read) return;
    // the latency metric means "input change → converged": a resync tick no kick asked for is not observed
    const t0 = this.dirtySince;
    this.dirtySince = undefined;
    // an nftables commit in this namespace holds up a veth creation in the kernel:
    // let the CNI requests being answered finish first (bounded)
    await this.d.cni()?.whenIdle(POLICY_WAITS_FOR_CNI_MS);
    const now = this.d.snapshot() ?? snap;
    const links = this.d.links?.();
    const inputs = inputsOf(now, this.d.view.handles, links);
    // nothing policy reads changed since the last successful pass: nothing to do (a
    // resync tick, the first pass and a retry after a failure always run)
    if (!this.first && !this.resyncDue && this.applied !== undefined && sameInputs(inputs, this.applied)) {
      this.skips++;
      this.applied = inputs; // equal by value: the next comparison is by identity
      return;
    }
    this.applied = undefined;
    const tc = performance.now();
    const input = policyInputOf(now, inputs.handles, this.d.node, hostIfName, links);
    const compiled = compile(input.snapshot, input.policies, this.d.node, validatePolicyCached);
    this.d.trace.ran('policy compile', tc);
    for (const r of compiled.rejected) this.d.log.warn({ policy: r.name, errors: r.errors }, 'policy: NetworkPolicy rejected and ignored');
    const problems = [
      ...input.snapshot.pods.filter((p) => p.node === this.d.node && p.ignoredInterface !== undefined)
        .map((p) => `${p.namespace}/${p.name}: margay.io/interface ${JSON.stringify(p.ignoredInterface)} is no workload interface name (mgw + 1-12 hex digits), ignored`),
      ...compiled.ir.problems ?? [],
    ];
    const said = problems.join('\n');
    if (said !== this.problems) for (const p of problems) this.d.log.warn({ problem: p }, 'policy: local pod problem');
    this.problems = said;
    this.counts = { policies: compiled.policies.length, rejected: compiled.rejected.length, localPods: input.localPods.length };
    const ta = performance.now();
    // first pass and resync ticks: read the kernel (drift repair); else incremental
    const full = this.first || this.resyncDue;
    this.resyncDue = false;
    const result = full ? await this.applier.reconcile(compiled.rendered) : await this.applier.apply(compiled.rendered);
    this.d.trace.ran('policy apply (from its start)', ta);
    this.ok = result.ok;
    this.applyProblems = result.problems.map((p) => `policy: ${p}`);
    this.d.metrics.applied('policy', result.ok);
    if (result.ok) {
      this.applied = inputs;
      this.first = false;
      this.retryMs = FIRST_RETRY_MS;
      if (t0 !== undefined) this.d.metrics.policySynced((performance.now() - t0) / 1000);
    } else {
      // fail closed: the previous rules stay; try again with the newest inputs, backing off to 10 s
      this.dirtySince ??= t0;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      const t = setTimeout(() => void this.loop?.kick(), this.retryMs);
      t.unref();
    }
  }
}

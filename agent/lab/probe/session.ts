/**
 * A probe lab: the conformance model (model.ts) built with the lab harness, pods
 * serving on 80/81, and NetworkPolicy enforced in one of two modes:
 * - `agents`: the real `margay agent` in every node, pods created through
 *   margay-cni, policies written into the agents' file datastore (agents-mode.ts);
 * - `direct` (default here; the e2e suite uses it for speed): the policy apply
 *   layer run per node by this module, pods wired by the lab harness.
 * Reused across many policy sets:
 * `apply(objects)` replaces the policies (and model relabelling) on every node,
 * `probe()` tries every (from, to, port, protocol) with real connections.
 *
 * Direct mode — host veths: the harness names them `p-<pod>`; the probe renames each to the
 * pod's `mgw…` workload name (down, rename, up, routes and proxy NDP re-added) so the policy
 * dispatch sees real workload interfaces. Cross-node pod routes are static routes
 * between node namespaces (10.244.<k>.0/24 and fd44:0:<k>::/64 via node k).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab, type LabPod } from '../lab.js';
import { POD_GATEWAY_V6 } from '../plan.js';
import { startInNetns, stopRecorded, type TrackedProcess } from '../processes.js';
import { compile } from '../../../policy/compile.js';
import { PolicyApplier } from '../../../policy/apply/applier.js';
import { hostExec } from '../../../policy/apply/exec.js';
import type { RejectedPolicy } from '../../../policy/ir/types.js';
import type { Rendered } from '../../../policy/render/model.js';
import { enforceWithAgents, startAgentsModel, type AgentsModel } from './agents-mode.js';
import { validatePolicies } from '../../../policy/compile.js';
import { buildModel, modelSnapshot, podId, MODEL_PORTS, type Model, type ModelPod } from './model.js';

export type ProbeProtocol = 'TCP' | 'UDP' | 'SCTP';
export const SCTP_SKIP_REASON = 'SCTP probing skipped: this kernel has no SCTP sockets (SCTP conntrack and the iptables sctp match exist, so policies mentioning SCTP are compiled and enforced)';

export interface ProbeResult {
  /** IP family of the addresses probed. */
  family: 4 | 6;
  from: string;
  to: string;
  port: number;
  protocol: ProbeProtocol;
  allowed: boolean | null;
  skipped?: string;
}

type Obj = Record<string, unknown>;

/** The compiled helper scripts (dist/…/server.js and client.js) whether we run from dist or from sources. */
function scriptPath(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, `${name}.js`);
  if (existsSync(beside)) return beside;
  const repo = resolvePath(here, '..', '..', '..');
  const built = join(repo, 'dist', 'agent', 'lab', 'probe', `${name}.js`);
  if (!existsSync(built)) throw new Error(`probe: ${built} not found; run npm run build`);
  return built;
}

async function waitForLog(file: string, text: string, timeoutMs: number): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const content = await readFile(file, 'utf8').catch(() => '');
    if (content.includes(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`probe: ${file} did not say "${text}" within ${timeoutMs} ms`);
}

export interface ProbeLabOptions {
  nodes: number;
  /** 'direct' (default): the apply layer per node; 'agents': real agents and margay-cni */
  mode?: 'agents' | 'direct';
  timeoutMs?: number;
  onProgress?: (line: string) => void;
}

export class ProbeLab {
  model: Model;
  readonly appliers = new Map<string, PolicyApplier>();
  /** podId → the pod's network namespace */
  private readonly podNetns = new Map<string, string>();
  private agents?: AgentsModel;
  private readonly servers: TrackedProcess[] = [];
  private lastRendered = new Map<string, Rendered>();

  private constructor(readonly lab: Lab, readonly opts: ProbeLabOptions) {
    this.model = buildModel(opts.nodes);
  }

  static async create(opts: ProbeLabOptions): Promise<ProbeLab> {
    const lab = await createLab({ nodes: opts.nodes, fabric: 'l2', ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    const p = new ProbeLab(lab, opts);
    try {
      await p.build();
    } catch (err) {
      await p.close().catch(() => undefined);
      throw err;
    }
    return p;
  }

  private async build(): Promise<void> {
    if (this.opts.mode === 'agents') return this.buildWithAgents();
    const { lab, model } = this;
    for (const n of lab.nodes) {
      for (const m of lab.nodes) {
        if (m.name === n.name) continue;
        await lab.exec(n.ns, ['ip', 'route', 'add', `10.244.${m.index}.0/24`, 'via', m.address]);
        await lab.exec(n.ns, ['ip', '-6', 'route', 'add', `fd44:0:${m.index.toString(16)}::/64`, 'via', m.address6]);
      }
      this.appliers.set(n.name, new PolicyApplier(hostExec({ netns: n.ns })));
    }
    // Rules first (every model pod known, no policy): a pod interface is dropped
    // until it is programmed, then open — as the agent will do it.
    await this.apply([]);
    for (const mp of model.pods) {
      const pod = await lab.addPod(mp.node, `${mp.namespace}-${mp.name}`, mp.ips);
      await this.renameHostVeth(mp, pod);
      this.podNetns.set(podId(mp), pod.ns);
      await this.startServer(mp, pod.ns);
    }
    await this.warmUp(3, 0);
  }

  private async buildWithAgents(): Promise<void> {
    const say = this.opts.onProgress ?? (() => undefined);
    this.agents = await startAgentsModel(this.lab, this.model, say);
    this.withAgentIps();
    for (const mp of this.model.pods) {
      this.podNetns.set(podId(mp), this.agents.netns.get(podId(mp)) as string);
      await this.startServer(mp, this.agents.netns.get(podId(mp)) as string);
    }
    await this.apply([]);
    // Routes to the other nodes' blocks arrive over BGP: allow some time.
    await this.warmUp(15, 1000);
  }

  /** The model's addresses replaced by the ones the agents assigned. */
  private withAgentIps(): void {
    for (const p of this.model.pods) {
      const ips = this.agents?.ips.get(podId(p));
      if (ips) p.ips = { ...ips };
    }
  }

  /**
   * The pod's server. Pods the agents' CNI created are not the lab's namespaces,
   * so the lab does not track these servers: this object does, and stops them in close().
   */
  private async startServer(mp: ModelPod, ns: string): Promise<void> {
    const name = `${mp.namespace}-${mp.name}-server`;
    const argv = [process.execPath, scriptPath('server'), ...MODEL_PORTS.map(String)];
    const proc = this.agents
      ? await startInNetns(ns, name, argv, join(this.agents.cluster.dir, '.run', `${name}.log`))
      : await this.lab.startProcess(ns, argv, { name });
    if (this.agents) this.servers.push(proc);
    await waitForLog(proc.logFile, 'ready', 10_000);
  }

  /**
   * With no policy everything must connect, over IPv4 and IPv6 (this also fills
   * the ARP and neighbour caches); at most `attempts` probes, `pauseMs` apart.
   */
  private async warmUp(attempts: number, pauseMs: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const bad = (await this.probe(['TCP', 'UDP'], { families: [4, 6] })).filter((r) => !r.allowed);
      if (bad.length === 0) return;
      if (attempt >= attempts) throw new Error(`probe: lab not fully connected without policy: ${bad.slice(0, 5).map((r) => `${r.from}→${r.to} ${r.protocol}/${r.port}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  private async renameHostVeth(mp: ModelPod, pod: LabPod): Promise<void> {
    const ns = this.lab.node(mp.node).ns;
    const x = (...args: string[]) => this.lab.exec(ns, ['ip', ...args]);
    await x('link', 'set', pod.hostVeth, 'down');
    await x('link', 'set', pod.hostVeth, 'name', mp.iface);
    await x('link', 'set', mp.iface, 'up');
    await x('route', 'replace', `${mp.ips.ipv4}/32`, 'dev', mp.iface, 'scope', 'link');
    await x('-6', 'route', 'replace', `${mp.ips.ipv6}/128`, 'dev', mp.iface);
    // Link down dropped the proxy NDP entry that answers for the pod's v6 gateway.
    await x('-6', 'neigh', 'replace', 'proxy', POD_GATEWAY_V6, 'dev', mp.iface);
    // Proxy NDP answers after a random delay of up to proxy_delay (0.8 s): none.
    await this.lab.exec(ns, ['sysctl', '-q', '-w', `net.ipv6.neigh.${mp.iface}.proxy_delay=0`]);
  }

  /**
   * Enforces these objects (NetworkPolicies; Namespace and Pod stubs relabel the
   * model) on every node. `kernelWrites`: restore runs (direct) or agent applies (agents).
   */
  async apply(objects: Obj[]): Promise<{ rejected: RejectedPolicy[]; kernelWrites: number }> {
    this.model = buildModel(this.opts.nodes, objects.filter((o) => o.kind === 'Namespace' || o.kind === 'Pod'));
    const policies = objects.filter((o) => o.kind === undefined || o.kind === 'NetworkPolicy');
    if (this.agents) {
      this.withAgentIps();
      const { policies: valid, rejected } = validatePolicies(policies);
      const applies = await enforceWithAgents(this.agents, this.model, policies, valid.length);
      await this.flushConntrack();
      return { rejected, kernelWrites: applies };
    }
    const snap = modelSnapshot(this.model);
    let rejected: RejectedPolicy[] = [];
    let kernelWrites = 0;
    for (const [node, applier] of this.appliers) {
      const c = compile(snap, policies, node);
      rejected = c.rejected;
      const r = await applier.apply(c.rendered);
      if (!r.ok) throw new Error(`probe: applying policies on ${node} failed: ${r.error}`);
      kernelWrites += r.kernelWrites;
      this.lastRendered.set(node, c.rendered);
    }
    await this.flushConntrack();
    return { rejected, kernelWrites };
  }

  /**
   * Connections tracked under the previous policies would still pass (replies of
   * allowed connections do, by design); each matrix must show the new policies
   * alone, so the probe forgets them. Enforcement itself never flushes.
   */
  private async flushConntrack(): Promise<void> {
    for (const n of this.lab.nodes) await this.lab.exec(n.ns, ['conntrack', '-F']).catch((err: Error) => {
      if (!/0 flow entries/.test(err.message)) throw new Error(`probe: conntrack -F in ${n.ns} failed (is the conntrack tool installed?): ${err.message}`);
    });
  }

  /**
   * Real connections from every pod to every pod, port and protocol (and family:
   * IPv4 by default), concurrently: one client process per source pod.
   */
  async probe(protocols: ProbeProtocol[] = ['TCP', 'UDP'], opts: { families?: (4 | 6)[] } = {}): Promise<ProbeResult[]> {
    const client = scriptPath('client');
    const pods = this.model.pods;
    const families = opts.families ?? [4];
    const live = protocols.filter((p): p is 'TCP' | 'UDP' => p !== 'SCTP');
    const targets = families.flatMap((family) => pods.flatMap((to) => MODEL_PORTS.flatMap((port) => live.map((protocol) => ({ family, to, port, protocol })))));
    const timeoutMs = this.opts.timeoutMs ?? 1000;
    const perSource = await Promise.all(pods.map(async (from) => {
      const ns = this.podNetns.get(podId(from));
      if (!ns) throw new Error(`probe: pod ${podId(from)} is not wired`);
      if (targets.length === 0) return [];
      const req = { timeoutMs, targets: targets.map((t) => ({ ip: t.family === 6 ? t.to.ips.ipv6 : t.to.ips.ipv4, port: t.port, protocol: t.protocol })) };
      const { stdout } = await this.lab.exec(ns, [process.execPath, client, JSON.stringify(req)], { timeoutMs: timeoutMs + 20_000 });
      const ok = JSON.parse(stdout) as boolean[];
      return targets.map((t, i): ProbeResult => ({ family: t.family, from: podId(from), to: podId(t.to), port: t.port, protocol: t.protocol, allowed: ok[i] === true }));
    }));
    const results = perSource.flat();
    if (protocols.includes('SCTP')) {
      for (const family of families) for (const from of pods) for (const to of pods) for (const port of MODEL_PORTS) {
        results.push({ family, from: podId(from), to: podId(to), port, protocol: 'SCTP', allowed: null, skipped: SCTP_SKIP_REASON });
      }
    }
    return results;
  }

  /** The last rules applied on a node (for diagnostics). */
  rendered(node: string): Rendered | undefined {
    return this.lastRendered.get(node);
  }

  async close(): Promise<void> {
    for (const s of this.servers.splice(0)) await stopRecorded(s, 2000).catch(() => undefined);
    await this.agents?.cluster.destroy().catch(() => undefined);
    await this.lab.destroy();
  }
}

import { copyFile } from 'node:fs/promises';
import type { LabInterrupt } from './interrupt.js';
import { join } from 'node:path';
import { createAgentCluster, REPO_ROOT, type AgentCluster, type CniPod } from './agents.js';
import { createLab, type Lab } from './lab.js';
import { labStateRoot, readLabState, writeLabState } from './state.js';
import { renderLabSummary } from './summary.js';
import { renderTable } from '../status/render.js';
import type { AgentStatus } from '../status/types.js';

/**
 * `margay lab demo`: a clean sequence of steps, each with a title and a verdict,
 * on a lab built for the purpose and torn down at the end (unless `keep`).
 * The cluster is real: one `margay agent` per node namespace on a shared file
 * datastore, a BGP full mesh, pods created through margay-cni, and the example
 * NetworkPolicies (examples/policies 01 + 02) applied by dropping them into the
 * datastore directory. Each step gets the lab and the agents and returns checks.
 */
export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

export interface DemoContext {
  cluster: AgentCluster;
  pods: CniPod[];
  /** tables and other output for the person watching */
  show(text: string): void;
}

export interface DemoStep {
  title: string;
  run(lab: Lab, ctx: DemoContext): Promise<Check[]>;
}

export interface DemoOptions {
  prefix: string;
  keep: boolean;
  /** Results, for the person watching (stdout). */
  out: (line: string) => void;
  /** Progress while building and tearing down (stderr). */
  progress: (line: string) => void;
  /** The CLI's signal handler: once it fired, the demo starts nothing more. */
  interrupt?: LabInterrupt;
}

export const DEMO_NODES = 3;

/** Demo pods: the policy examples' model (namespaces x, y; label pod=NAME), spread over the nodes. */
const DEMO_PODS = [
  { node: 'n1', namespace: 'x', name: 'a' },
  { node: 'n2', namespace: 'x', name: 'b' },
  { node: 'n3', namespace: 'y', name: 'b' },
  { node: 'n1', namespace: 'y', name: 'c' },
];
const POLICY_FILES = ['01-default-deny-x.yaml', '02-allow-from-y-b.yaml'];
/** What 01 + 02 allow (ICMP, every port): into x/a only from y/b; into x/b nothing; into y everything. */
const allowedAfter = (from: CniPod, to: CniPod): boolean => to.namespace !== 'x' || (to.name === 'a' && from.namespace === 'y' && from.name === 'b');

const podId = (p: CniPod): string => `${p.namespace}/${p.name}`;

async function waitUntil<T>(f: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function pingCheck(lab: Lab, ns: string, what: string, address: string): Promise<Check> {
  const r = await lab.ping(ns, address, { count: 1, timeoutS: 2 });
  return { what: `${what} ${address}`, ok: r.ok, detail: r.ok ? `${r.rttMs ?? '?'} ms` : 'no reply' };
}

/** Every pod pings every other pod at once; one line per source. */
async function matrix(lab: Lab, pods: CniPod[], expected: (a: CniPod, b: CniPod) => boolean): Promise<{ table: string; checks: Check[] }> {
  const pairs = pods.flatMap((a) => pods.filter((b) => b !== a).map((b) => [a, b] as const));
  const results = await Promise.all(pairs.map(async ([a, b]) => ({ a, b, ok: (await lab.ping(a.netns, b.ipv4, { count: 1, timeoutS: 1 })).ok })));
  const rows = pods.map((a) => [`${podId(a)} (${a.node})`, ...pods.map((b) => {
    if (a === b) return '·';
    const r = results.find((x) => x.a === a && x.b === b);
    return r?.ok ? 'ok' : '--';
  })]);
  const checks = results.filter((r) => r.ok !== expected(r.a, r.b))
    .map((r) => ({ what: `${podId(r.a)} → ${podId(r.b)}`, ok: false, detail: `${r.ok ? 'reached' : 'blocked'}, expected ${r.ok ? 'blocked' : 'reached'}` }));
  const allowed = results.filter((r) => r.ok).length;
  checks.push({ what: 'connectivity matches the policy model', ok: checks.length === 0, detail: `${allowed} of ${results.length} pairs reach each other` });
  return { table: renderTable(['FROM \\ TO', ...pods.map(podId)], rows), checks };
}

const peersTable = (s: AgentStatus): string => renderTable(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'], s.peers.map((p) => [p.address, p.type, p.state, p.since.slice(11, 19), p.info]));

export const DEMO_STEPS: DemoStep[] = [
  {
    title: 'every node pings every other node across the fabric (IPv4 and IPv6)',
    async run(lab) {
      const checks: Check[] = [];
      for (const a of lab.nodes) {
        for (const b of lab.nodes) {
          if (a === b) continue;
          for (const addr of [b.address, b.address6]) checks.push(await pingCheck(lab, a.ns, `${a.name} → ${b.name}`, addr));
        }
      }
      return checks;
    },
  },
  {
    title: 'start a margay agent in every node (file datastore); BGP full mesh, one session per pair',
    async run(lab, ctx) {
      const checks: Check[] = [];
      for (const n of lab.nodes) await ctx.cluster.startAgent(n.name);
      for (const n of lab.nodes) {
        const s = await waitUntil(async () => {
          const st = await ctx.cluster.status(n.name);
          return st.peers.length === lab.nodes.length - 1 && st.peers.every((p) => p.fsm === 'Established') ? st : undefined;
        }, 30_000);
        checks.push({ what: `${n.name} BGP`, ok: s !== undefined, detail: s ? `${s.peers.length} peers Established (AS ${s.asn})` : 'peers not Established within 30 s' });
        if (s && n.name === 'n1') ctx.show(`margay status on n1:\n${peersTable(s)}`);
      }
      return checks;
    },
  },
  {
    title: 'create pods through the real CNI plugin (margay-cni → the agent: IPAM, veth, routes)',
    async run(_lab, ctx) {
      const checks: Check[] = [];
      for (const p of DEMO_PODS) {
        try {
          const pod = await ctx.cluster.addPod(p.node, p.name, { namespace: p.namespace, labels: { pod: p.name } });
          ctx.pods.push(pod);
          checks.push({ what: `pod ${p.namespace}/${p.name} on ${p.node}`, ok: true, detail: `${pod.ipv4} (netns ${pod.netns})` });
        } catch (err) {
          checks.push({ what: `pod ${p.namespace}/${p.name} on ${p.node}`, ok: false, detail: (err as Error).message });
        }
      }
      await ctx.cluster.writeManifest('namespaces.yaml', ['x', 'y'].map((ns) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } })));
      return checks;
    },
  },
  {
    title: 'each node learns the other nodes\' IPAM blocks over BGP and routes them',
    async run(lab, ctx) {
      const checks: Check[] = [];
      for (const n of lab.nodes) {
        const want = new Set(ctx.pods.filter((p) => p.node !== n.name).map((p) => p.node));
        const s = await waitUntil(async () => {
          const st = await ctx.cluster.status(n.name);
          const via = new Set(st.routes.filter((r) => r.reason.startsWith('direct to ')).map((r) => r.reason.slice('direct to '.length)));
          return [...want].every((w) => via.has(w)) ? st : undefined;
        }, 15_000);
        checks.push({ what: `${n.name} routes`, ok: s !== undefined, detail: s ? s.routes.map((r) => `${r.prefix} ${r.via === 'blackhole' ? '(own)' : `→ ${r.reason.slice('direct to '.length)}`}`).join(', ') : 'remote blocks missing' });
        if (s && n.name === 'n1') ctx.show(`routes on n1:\n${renderTable(['PREFIX', 'VIA', 'WHY'], s.routes.map((r) => [r.prefix, r.via, r.reason]))}`);
      }
      return checks;
    },
  },
  {
    title: 'connectivity matrix without policy: every pod reaches every other pod, across nodes',
    async run(lab, ctx) {
      const m = await matrix(lab, ctx.pods, () => true);
      ctx.show(m.table);
      return m.checks;
    },
  },
  {
    title: `apply examples/policies ${POLICY_FILES.join(' + ')}: x denies ingress, x/a admits only y/b`,
    async run(lab, ctx) {
      for (const f of POLICY_FILES) await copyFile(join(REPO_ROOT, 'examples', 'policies', f), join(ctx.cluster.dir, f));
      const synced = await waitUntil(async () => {
        const all = await Promise.all(lab.nodes.map((n) => ctx.cluster.status(n.name)));
        return all.every((s) => s.policy.policies === POLICY_FILES.length && s.policy.synced) ? all : undefined;
      }, 10_000);
      const checks: Check[] = [{ what: 'every agent enforces both policies', ok: synced !== undefined, detail: synced ? synced.map((s) => `${s.node}: ${s.policy.localPods} local pod${s.policy.localPods === 1 ? '' : 's'}`).join(', ') : 'not in sync within 10 s' }];
      const m = await matrix(lab, ctx.pods, allowedAfter);
      ctx.show(m.table);
      return [...checks, ...m.checks];
    },
  },
];

/** Runs the demo; resolves the exit code (0 when every check passed). */
export async function runDemo(opts: DemoOptions, steps: DemoStep[] = DEMO_STEPS): Promise<number> {
  const total = steps.length + 1;
  opts.out(`step 1/${total}: build ${DEMO_NODES} nodes on an L2 fabric, each a network namespace`);
  const lab = await createLab({ nodes: DEMO_NODES, fabric: 'l2', prefix: opts.prefix, origin: 'cli', onProgress: opts.progress, ...(opts.interrupt ? { interrupt: opts.interrupt } : {}) });
  let cluster: AgentCluster | undefined;
  let failed = 0;
  try {
    cluster = await createAgentCluster(lab, { detached: opts.keep });
    const ctx: DemoContext = { cluster, pods: [], show: (t) => opts.out(t.split('\n').map((l) => `    ${l}`).join('\n')) };
    for (const [i, step] of steps.entries()) {
      opts.out(`step ${i + 2}/${total}: ${step.title}`);
      for (const c of await step.run(lab, ctx)) {
        if (!c.ok) failed++;
        opts.out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.detail}`);
      }
    }
    opts.out('');
    opts.out(renderLabSummary({ ...lab, pods: ctx.pods.map((p) => ({ name: `${p.namespace}/${p.name}`, node: p.node, ns: p.netns, ipv4: p.ipv4 })) }, { hints: opts.keep }).trimEnd());
    opts.out('');
    opts.out(failed === 0 ? 'demo: every check passed' : `demo: ${failed} check(s) FAILED`);
  } finally {
    if (!opts.keep) {
      await cluster?.destroy();
      await lab.destroy();
      opts.out('demo: lab torn down (nothing left behind; --keep leaves it up)');
    } else {
      // the pods' namespaces join the lab's record so that `margay lab down` removes them too
      const root = labStateRoot();
      const state = await readLabState(root, lab.prefix);
      if (state && cluster) {
        state.namespaces.push(...cluster.podNamespaces.filter((ns) => !state.namespaces.includes(ns)));
        await writeLabState(root, state);
      }
      if (cluster) {
        opts.out(`demo: agents keep running; the datastore is ${cluster.dir} (edit its YAML to change the cluster)`);
        opts.out(`      margay status --socket ${cluster.statusSocket('n1')}`);
      }
      opts.out(`demo: lab left up (--keep); margay lab down --prefix ${lab.prefix.slice(0, -1)} removes it`);
    }
  }
  return failed === 0 ? 0 : 1;
}

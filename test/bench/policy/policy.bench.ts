/**
 * NetworkPolicy at scale: 200 namespaces, 5,000 pods, 2,000 policies, seen from one
 * node with 100 local pods (synthetic.ts). Emits, as JSON lines:
 * - policy/compile: full compile (validate + resolve + render) time, rule and set
 *   member counts, and the naive renderer's rule count for comparison;
 * - policy/apply-full: full apply into an empty kernel (a namespace), and a
 *   no-change reconcile;
 * - policy/incremental: a new pod matching 50 policies — time until enforced
 *   (compile + plan + ipset write), kernel writes and rules written, p50/p99;
 * - policy/connect: TCP connect latency to a local pod with all policies vs none
 *   (margay's rules without any NetworkPolicy), and vs no rules at all.
 */
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Emit } from '../run.js';
import { NodeCompiler } from '../../../policy/incremental.js';
import { PolicyApplier } from '../../../policy/apply/applier.js';
import { hostExec } from '../../../policy/apply/exec.js';
import { evaluate } from '../../../policy/evaluate/evaluate.js';
import { validatePolicies } from '../../../policy/compile.js';
import type { Rendered } from '../../../policy/render/model.js';
import { addNetns, deleteNetns, isRoot, newRunPrefix } from '../../../agent/lab/netns.js';
import { createLab } from '../../../agent/lab/lab.js';
import { POD_GATEWAY_V6 } from '../../../agent/lab/plan.js';
import { workloadInterfaceName } from '../../../policy/resolve/interface-name.js';
import { naiveRuleCount } from './naive.js';
import { NODE, syntheticPod, syntheticPolicies, syntheticSnapshot } from './synthetic.js';

const here = dirname(fileURLToPath(import.meta.url));
const ms = (t0: number): number => Math.round((performance.now() - t0) * 100) / 100;
const quantile = (xs: number[], f: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))] as number;

function counts(r: Rendered) {
  const rules = (f: Rendered['v4']) => f.chains.reduce((n, c) => n + c.rules.length, 0);
  const members = (f: Rendered['v4']) => f.sets.reduce((n, s) => n + s.members.length, 0);
  return { rulesV4: rules(r.v4), rulesV6: rules(r.v6), chainsV4: r.v4.chains.length, setsV4: r.v4.sets.length, setsV6: r.v6.sets.length, setMembersV4: members(r.v4), setMembersV6: members(r.v6) };
}

export async function run(emit: Emit): Promise<void> {
  const snapshot = syntheticSnapshot();
  const policies = syntheticPolicies();
  const compileTimes: number[] = [];
  let nc: NodeCompiler | undefined;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    nc = new NodeCompiler(NODE, snapshot, policies);
    compileTimes.push(ms(t0));
  }
  const compiler = nc as NodeCompiler;
  const c = counts(compiler.rendered);
  const naive = naiveRuleCount(compiler.ir);
  emit({
    bench: 'policy/compile', namespaces: 200, pods: snapshot.pods.length, policies: policies.length,
    localPods: compiler.ir.workloads.length, policyDirectionsOnNode: compiler.ir.policies.length, rejected: compiler.rejected.length,
    compileMsMedian: quantile(compileTimes, 0.5), ...c, naiveRulesV4: naive, naiveToMargayRuleRatio: Math.round((naive / c.rulesV4) * 10) / 10,
  });

  if (!isRoot()) {
    process.stderr.write('bench policy: apply, incremental and connect figures need root (namespaces, iptables); skipped\n');
    return;
  }
  const ns = `${newRunPrefix()}pb`;
  await addNetns(ns);
  try {
    const applier = new PolicyApplier(hostExec({ netns: ns }));
    let t0 = performance.now();
    const full = await applier.apply(compiler.rendered);
    const fullMs = ms(t0);
    if (!full.ok) throw new Error(`full apply failed: ${full.error}`);
    t0 = performance.now();
    const again = await new PolicyApplier(hostExec({ netns: ns })).reconcile(compiler.rendered);
    emit({ bench: 'policy/apply-full', applyMs: fullMs, kernelWrites: full.kernelWrites, rulesWritten: full.plan.stats.rulesWritten, membersAdded: full.plan.stats.membersAdded, reconcileNoChangeMs: ms(t0), reconcileWrites: again.kernelWrites, fullSyncMs: Math.round((quantile(compileTimes, 0.5) + fullMs) * 100) / 100 });

    // A new remote pod, labelled track=canary in a prod namespace: it matches the
    // peers of the 50 canary policies (50 distinct sets) — enforced by set writes only.
    const times: number[] = [];
    const writes: number[] = [];
    const rulesWritten: number[] = [];
    let matched = 0;
    for (let i = 0; i < 100; i++) {
      const pod = syntheticPod(6000 + i, { track: 'canary' }, 'ns-003');
      pod.node = 'node-7';
      t0 = performance.now();
      const r = await applier.apply(compiler.upsertPod(pod));
      times.push(ms(t0));
      if (!r.ok) throw new Error(`incremental apply failed: ${r.error}`);
      writes.push(r.kernelWrites);
      rulesWritten.push(r.plan.stats.rulesWritten);
      matched = r.plan.stats.membersAdded;
    }
    const newIp = syntheticPod(6099).ips[0] as string;
    const policiesMatched = new Set(compiler.ir.policies.filter((p) => p.rules.some((r) => r.peers !== 'all' && r.peers.some((x) => x.kind === 'pods' && x.ips.includes(newIp)))).map((p) => p.policy)).size;
    emit({ bench: 'policy/incremental-new-pod', samples: times.length, policiesMatched, setMembersAddedPerPod: matched, p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99), maxMs: Math.max(...times), kernelWritesPerPod: Math.max(...writes), rulesWrittenPerPod: Math.max(...rulesWritten) });
  } finally {
    await deleteNetns(ns);
  }
  await connectLatency(emit, compiler);
}

/** TCP connect latency from one local pod to another that its policies allow. */
async function connectLatency(emit: Emit, compiler: NodeCompiler): Promise<void> {
  const snap = { pods: compiler.ir.workloads.length > 0 ? syntheticSnapshot().pods : [], namespaces: syntheticSnapshot().namespaces };
  const { policies } = validatePolicies(syntheticPolicies());
  const local = snap.pods.filter((p) => p.node === NODE);
  let pair: [typeof local[number], typeof local[number]] | undefined;
  for (const server of local) {
    for (const client of local) {
      if (client === server) continue;
      const v = evaluate(snap, policies, { from: { pod: `${client.namespace}/${client.name}`, ip: client.ips[0] as string }, to: { pod: `${server.namespace}/${server.name}`, ip: server.ips[0] as string }, port: 8080, protocol: 'TCP' });
      if (v.allowed && v.ingress.isolated && v.ingress.policies.length >= 2) {
        pair = [client, server];
        break;
      }
    }
    if (pair) break;
  }
  if (!pair) throw new Error('no allowed local pair found');
  const [client, server] = pair;
  const lab = await createLab({ nodes: 1 });
  try {
    const node = lab.node('n1');
    const wire = async (p: typeof client, name: string) => {
      const pod = await lab.addPod('n1', name, { ipv4: p.ips[0] as string });
      const iface = workloadInterfaceName(p.namespace, p.name);
      for (const args of [['link', 'set', pod.hostVeth, 'down'], ['link', 'set', pod.hostVeth, 'name', iface], ['link', 'set', iface, 'up'], ['route', 'replace', `${p.ips[0]}/32`, 'dev', iface, 'scope', 'link']]) await lab.exec(node.ns, ['ip', ...args]);
      await lab.exec(node.ns, ['ip', '-6', 'neigh', 'replace', 'proxy', POD_GATEWAY_V6, 'dev', iface]).catch(() => undefined);
      return pod;
    };
    const cpod = await wire(client, 'client');
    const spod = await wire(server, 'server');
    await lab.startProcess(spod.ns, [process.execPath, join(here, '..', '..', '..', 'agent', 'lab', 'probe', 'server.js'), '8080']);
    await new Promise((r) => setTimeout(r, 500));
    const measure = async (): Promise<number> => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { stdout } = await lab.exec(cpod.ns, [process.execPath, join(here, 'connect-client.js'), server.ips[0] as string, '8080', '1000'], { timeoutMs: 120_000 });
        out.push((JSON.parse(stdout) as { medianUs: number }).medianUs);
      }
      return quantile(out, 0.5);
    };
    await measure(); // warm-up
    // 1. no rules at all (not even conntrack); 2. margay with no NetworkPolicy (its
    // dispatch, workload chains and conntrack); 3. all 2,000 policies.
    const bare = await measure();
    const applier = new PolicyApplier(hostExec({ netns: node.ns }));
    const empty = new NodeCompiler(NODE, syntheticSnapshot(), []);
    if (!(await applier.apply(empty.rendered)).ok) throw new Error('apply (no policies) failed');
    const noPolicies = await measure();
    const r = await applier.apply(compiler.rendered);
    if (!r.ok) throw new Error(`apply failed: ${r.error}`);
    const all = await measure();
    await applier.apply(empty.rendered);
    const noPolicies2 = await measure();
    const baseline = (noPolicies + noPolicies2) / 2;
    emit({
      bench: 'policy/connect', client: `${client.namespace}/${client.name}`, server: `${server.namespace}/${server.name}`, connectsPerSample: 1000,
      medianUsNoRules: bare, medianUsNoPolicies: [noPolicies, noPolicies2], medianUsAllPolicies: all,
      ratio: Math.round((all / baseline) * 100) / 100, ratioVsNoRules: Math.round((all / bare) * 100) / 100,
    });
  } finally {
    await lab.destroy();
  }
}

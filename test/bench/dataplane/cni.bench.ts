/**
 * CNI ADD latency: wall time of the margay-cni process (including its start) for
 * 200 pods (BENCH_QUICK=1: 50) against a CNI server in a node namespace, p50/p99,
 * and the agent's share (as the server measured it) separately; DEL likewise.
 * Needs root (namespaces). margay-cni itself only talks to a unix socket, so it is
 * spawned directly; the server does all kernel work inside the lab namespaces.
 * The plugin is the Go binary when built, else the Node one;
 * MARGAY_BENCH_CNI_PLUGINS=go,node runs each in turn (each line names its plugin).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cniPlugin, type CniPlugin, type CniPluginKind } from '../../../agent/cni/plugin-path.js';
import { isRoot } from '../../../agent/lab/netns.js';
import { addPodNs, createCniNode, destroyCniNode, type CniNode, type WiringKind } from '../../integration/cni/harness.js';
import type { Emit } from '../run.js';

const QUICK = process.env.BENCH_QUICK === '1';
const PODS = Number(process.env.MARGAY_BENCH_PODS ?? (QUICK ? 50 : 200));
/** ADDs launched together with a DEL of another pod. */
const CHURN = Number(process.env.MARGAY_BENCH_CNI_CHURN ?? (QUICK ? 20 : 50));
const PLUGINS = (process.env.MARGAY_BENCH_CNI_PLUGINS ?? cniPlugin().kind).split(',').filter((p): p is CniPluginKind => p === 'go' || p === 'node');
const WIRINGS = (process.env.MARGAY_BENCH_CNI_WIRINGS ?? 'netlink,ip').split(',').filter((w): w is WiringKind => w === 'netlink' || w === 'ip');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return +(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN).toFixed(2);
}

/**
 * One plugin run. The plugin (MARGAY_CNI_TIMING=1) reports the agent's share and,
 * in ms since its own process start, when its modules were loaded (`loaded`), when
 * it had connected, had its answer and was done (wall − done is exec + exit), and
 * its CPU time (user + system), the figure least disturbed by a busy machine.
 */
interface Call { wallMs: number; agentMs: number; loadedMs: number; connectMs: number; roundTripMs: number; exitMs: number; cpuMs: number; code: number | null; stderr: string; agentStages?: Record<string, number> }

interface Timing { agentMs?: number; loaded?: number; connected?: number; answered?: number; done?: number; cpu?: number; agentStages?: Record<string, number> }

function timing(stderr: string): Timing {
  try {
    return JSON.parse(stderr.trim().split('\n').pop() ?? '') as Timing;
  } catch {
    return {};
  }
}

function plugin(node: CniNode, command: string, id: string, netns: string, p: CniPlugin): Promise<Call> {
  const env = { PATH: process.env.PATH ?? '', CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: node.cniPath, CNI_ARGS: `K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${id}`, MARGAY_CNI_TIMING: '1' };
  const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'margay-cni', socket: node.socket });
  const t0 = performance.now();
  const c = spawn(p.argv[0]!, p.argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  c.stdout.resume();
  c.stdin.end(conf);
  return new Promise((resolve) => c.on('exit', (code) => {
    const wallMs = performance.now() - t0;
    const t = timing(err);
    resolve({ wallMs, agentMs: Number(t.agentMs), loadedMs: Number(t.loaded), connectMs: Number(t.connected) - Number(t.loaded), roundTripMs: Number(t.answered) - Number(t.connected), exitMs: wallMs - Number(t.done), cpuMs: Number(t.cpu), code, stderr: err, ...(t.agentStages ? { agentStages: t.agentStages } : {}) });
  }));
}

/** A bare start of the same kind of process: `node -e ''`, or the Go binary answering VERSION (no socket). */
function bareStartMs(p: CniPlugin): Promise<number> {
  const t0 = performance.now();
  const c = p.kind === 'node'
    ? spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    : spawn(p.path, [], { stdio: ['pipe', 'ignore', 'ignore'], env: { CNI_COMMAND: 'VERSION' } });
  c.stdin?.end('{}');
  return new Promise((resolve) => c.on('exit', () => resolve(performance.now() - t0)));
}

function stagePcts(xs: Call[]): Record<string, [number, number]> {
  const keys = [...new Set(xs.flatMap((x) => Object.keys(x.agentStages ?? {})))];
  return Object.fromEntries(keys.map((k) => {
    const v = xs.map((x) => x.agentStages?.[k] ?? 0);
    return [k, [pct(v, 50), pct(v, 99)]];
  }));
}

/** The slowest calls by the agent's share, with their stages (stderr, when the agent reports stages). */
function tail(what: string, xs: Call[]): void {
  if (!xs.some((x) => x.agentStages)) return;
  for (const x of [...xs].sort((a, b) => b.agentMs - a.agentMs).slice(0, 4)) {
    process.stderr.write(`bench cni ${what} slow: agent ${x.agentMs.toFixed(2)} ms wall ${x.wallMs.toFixed(2)} ms ${JSON.stringify(x.agentStages)}\n`);
  }
}

export async function run(emit: Emit): Promise<void> {
  if (!isRoot()) {
    process.stderr.write('bench dataplane/cni: skipped, needs root (network namespaces)\n');
    return;
  }
  for (const kind of PLUGINS) {
    const p = cniPlugin(kind);
    if (!p.built) throw new Error(`${p.path} missing: npm run build first`);
    for (const wiring of WIRINGS) await runWith(emit, wiring, p);
  }
}

async function runWith(emit: Emit, wiring: WiringKind, p: CniPlugin): Promise<void> {
  let node: CniNode | undefined;
  // The IPAM file store on tmpfs, where a node keeps /run/margay (file creation
  // costs ~1 ms on this machine's disk, ~15 µs on tmpfs).
  const tmpfs = existsSync('/dev/shm');
  const storeDir = mkdtempSync(join(tmpfs ? '/dev/shm' : tmpdir(), 'margay-cni-bench-ipam-'));
  try {
    node = await createCniNode([{ name: 'v4', spec: { cidr: '10.200.0.0/16' } }, { name: 'v6', spec: { cidr: 'fd20::/112' } }], { wiring, storeDir, plugin: p.kind });
    const ns: string[] = [];
    for (let i = 0; i < PODS; i++) ns.push(await addPodNs(node, `b${i}`));
    // A bare start of the same kind before each ADD (`node -e ''`, or the Go binary
    // answering VERSION): the floor under the same load as the ADDs (the machine is
    // shared; its p99 says how much of the plugin's is noise).
    const starts: number[] = [];
    const add = [];
    for (let i = 0; i < PODS; i++) {
      starts.push(await bareStartMs(p));
      add.push(await plugin(node, 'ADD', `bench${i}`, `/var/run/netns/${ns[i]}`, p));
    }
    const del = [];
    for (let i = 0; i < PODS; i++) del.push(await plugin(node, 'DEL', `bench${i}`, `/var/run/netns/${ns[i]}`, p));
    // Churn, as a node sees it: each ADD launched together with the DEL of another
    // pod (the kernel takes tens of ms to delete a veth; the ADD must not queue behind it).
    const churn = Math.min(CHURN, Math.floor(PODS / 2));
    const churnAdd = [];
    const churnDel = [];
    for (let i = 0; i < churn; i++) churnDel.push(await plugin(node, 'ADD', `old${i}`, `/var/run/netns/${ns[i]}`, p));
    for (let i = 0; i < churn; i++) {
      const [d, a] = await Promise.all([
        plugin(node, 'DEL', `old${i}`, `/var/run/netns/${ns[i]}`, p),
        plugin(node, 'ADD', `new${i}`, `/var/run/netns/${ns[churn + i]}`, p),
      ]);
      churnDel.push(d);
      churnAdd.push(a);
    }
    for (let i = 0; i < churn; i++) churnDel.push(await plugin(node, 'DEL', `new${i}`, `/var/run/netns/${ns[churn + i]}`, p));
    const failed = [...add, ...del, ...churnAdd, ...churnDel].filter((r) => r.code !== 0);
    if (failed.length > 0) throw new Error(`${failed.length} CNI calls failed, first: ${failed[0]?.stderr.slice(0, 800)}`);
    const fig = (xs: Call[]) => ({
      wallP50Ms: pct(xs.map((x) => x.wallMs), 50), wallP99Ms: pct(xs.map((x) => x.wallMs), 99),
      agentP50Ms: pct(xs.map((x) => x.agentMs), 50), agentP99Ms: pct(xs.map((x) => x.agentMs), 99),
      // the plugin's own start (process start → its modules loaded) and the socket round trip
      loadedP50Ms: pct(xs.map((x) => x.loadedMs), 50), loadedP99Ms: pct(xs.map((x) => x.loadedMs), 99),
      roundTripP50Ms: pct(xs.map((x) => x.roundTripMs), 50), roundTripP99Ms: pct(xs.map((x) => x.roundTripMs), 99),
      // loaded → connected (config, env, connect) and done → exit seen by the parent
      connectP50Ms: pct(xs.map((x) => x.connectMs), 50), exitP50Ms: pct(xs.map((x) => x.exitMs), 50),
      cpuP50Ms: pct(xs.map((x) => x.cpuMs), 50),
      // MARGAY_CNI_AGENT_STAGES=1 (the server's env): where the agent's share went, [p50, p99] per stage
      ...(xs.some((x) => x.agentStages) ? { agentStages: stagePcts(xs) } : {}),
    });
    const plug = { plugin: p.kind };
    tail(`ADD ${wiring}`, add);
    emit({ bench: `dataplane/cni-add-latency-${wiring}`, pods: PODS, dualStack: true, wiring, ...plug, ipamStore: tmpfs ? 'file on tmpfs' : 'file on disk', ...fig(add), bareStartP50Ms: pct(starts, 50), bareStartP99Ms: pct(starts, 99), loadAvg1m: +loadavg()[0]!.toFixed(2), targetP99Ms: 100, targetAgentP99Ms: 10 });
    emit({ bench: `dataplane/cni-del-latency-${wiring}`, pods: PODS, wiring, ...plug, ...fig(del) });
    // roundTrip includes any wait for the agent's event loop; agent does not
    emit({ bench: `dataplane/cni-add-latency-with-concurrent-del-${wiring}`, pods: churn, wiring, ...plug, ...fig(churnAdd) });
  } finally {
    await destroyCniNode(node);
    rmSync(storeDir, { recursive: true, force: true });
  }
}

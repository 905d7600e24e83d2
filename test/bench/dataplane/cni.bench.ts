/**
 * CNI ADD latency: wall time of the margay-cni process (including Node start) for
 * 200 pods against a CNI server in a node namespace, p50/p99, and the agent's share
 * (as the server measured it) separately; DEL likewise. Needs root (namespaces).
 * margay-cni itself only talks to a unix socket, so it is spawned directly; the
 * server does all kernel work inside the lab namespaces.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRoot } from '../../../agent/lab/netns.js';
import { addPodNs, createCniNode, destroyCniNode, type CniNode, type WiringKind } from '../../integration/cni/harness.js';
import type { Emit } from '../run.js';

const here = dirname(fileURLToPath(import.meta.url));
const CNI_JS = join(here, '..', '..', '..', 'agent', 'cni', 'margay-cni.js');
const PODS = Number(process.env.MARGAY_BENCH_PODS ?? 200);
/** ADDs launched together with a DEL of another pod. */
const CHURN = Number(process.env.MARGAY_BENCH_CNI_CHURN ?? 50);
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
interface Call { wallMs: number; agentMs: number; loadedMs: number; connectMs: number; roundTripMs: number; exitMs: number; cpuMs: number; code: number | null; stderr: string }

interface Timing { agentMs?: number; loaded?: number; connected?: number; answered?: number; done?: number; cpu?: number }

function timing(stderr: string): Timing {
  try {
    return JSON.parse(stderr.trim().split('\n').pop() ?? '') as Timing;
  } catch {
    return {};
  }
}

function plugin(node: CniNode, command: string, id: string, netns: string): Promise<Call> {
  const env = { PATH: process.env.PATH ?? '', CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: node.cniPath, CNI_ARGS: `K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${id}`, MARGAY_CNI_TIMING: '1' };
  const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'margay-cni', socket: node.socket });
  const t0 = performance.now();
  const c = spawn(process.execPath, [CNI_JS], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  c.stdout.resume();
  c.stdin.end(conf);
  return new Promise((resolve) => c.on('exit', (code) => {
    const wallMs = performance.now() - t0;
    const t = timing(err);
    resolve({ wallMs, agentMs: Number(t.agentMs), loadedMs: Number(t.loaded), connectMs: Number(t.connected) - Number(t.loaded), roundTripMs: Number(t.answered) - Number(t.connected), exitMs: wallMs - Number(t.done), cpuMs: Number(t.cpu), code, stderr: err });
  }));
}

function nodeStartMs(): Promise<number> {
  const t0 = performance.now();
  const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  return new Promise((resolve) => c.on('exit', () => resolve(performance.now() - t0)));
}

export async function run(emit: Emit): Promise<void> {
  if (!isRoot()) {
    process.stderr.write('bench dataplane/cni: skipped, needs root (network namespaces)\n');
    return;
  }
  if (!existsSync(CNI_JS)) throw new Error(`${CNI_JS} missing: build first`);
  for (const wiring of WIRINGS) await runWith(emit, wiring);
}

async function runWith(emit: Emit, wiring: WiringKind): Promise<void> {
  let node: CniNode | undefined;
  // The IPAM file store on tmpfs, where a node keeps /run/margay (file creation
  // costs ~1 ms on this machine's disk, ~15 µs on tmpfs).
  const tmpfs = existsSync('/dev/shm');
  const storeDir = mkdtempSync(join(tmpfs ? '/dev/shm' : tmpdir(), 'margay-cni-bench-ipam-'));
  try {
    node = await createCniNode([{ name: 'v4', spec: { cidr: '10.200.0.0/16' } }, { name: 'v6', spec: { cidr: 'fd20::/112' } }], { wiring, storeDir });
    const ns: string[] = [];
    for (let i = 0; i < PODS; i++) ns.push(await addPodNs(node, `b${i}`));
    // A bare `node -e ''` before each ADD: the floor under the same load as the ADDs
    // (the machine is shared; its p99 says how much of the plugin's is noise).
    const starts: number[] = [];
    const add = [];
    for (let i = 0; i < PODS; i++) {
      starts.push(await nodeStartMs());
      add.push(await plugin(node, 'ADD', `bench${i}`, `/var/run/netns/${ns[i]}`));
    }
    const del = [];
    for (let i = 0; i < PODS; i++) del.push(await plugin(node, 'DEL', `bench${i}`, `/var/run/netns/${ns[i]}`));
    // Churn, as a node sees it: each ADD launched together with the DEL of another
    // pod (the kernel takes tens of ms to delete a veth; the ADD must not queue behind it).
    const churn = Math.min(CHURN, Math.floor(PODS / 2));
    const churnAdd = [];
    const churnDel = [];
    for (let i = 0; i < churn; i++) churnDel.push(await plugin(node, 'ADD', `old${i}`, `/var/run/netns/${ns[i]}`));
    for (let i = 0; i < churn; i++) {
      const [d, a] = await Promise.all([
        plugin(node, 'DEL', `old${i}`, `/var/run/netns/${ns[i]}`),
        plugin(node, 'ADD', `new${i}`, `/var/run/netns/${ns[churn + i]}`),
      ]);
      churnDel.push(d);
      churnAdd.push(a);
    }
    for (let i = 0; i < churn; i++) churnDel.push(await plugin(node, 'DEL', `new${i}`, `/var/run/netns/${ns[churn + i]}`));
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
    });
    emit({ bench: `dataplane/cni-add-latency-${wiring}`, pods: PODS, dualStack: true, wiring, ipamStore: tmpfs ? 'file on tmpfs' : 'file on disk', ...fig(add), nodeStartP50Ms: pct(starts, 50), nodeStartP99Ms: pct(starts, 99), targetP99Ms: 100, targetAgentP99Ms: 10 });
    emit({ bench: `dataplane/cni-del-latency-${wiring}`, pods: PODS, wiring, ...fig(del) });
    // roundTrip includes any wait for the agent's event loop; agent does not
    emit({ bench: `dataplane/cni-add-latency-with-concurrent-del-${wiring}`, pods: churn, wiring, ...fig(churnAdd) });
  } finally {
    await destroyCniNode(node);
    rmSync(storeDir, { recursive: true, force: true });
  }
}

/**
 * Convergence (issue 6): a pod created on n1 → reachable from a pod on n3, p50/p99
 * over 50 pods (BENCH_QUICK=1: 24, with /30 blocks so that 5 of them open a block;
 * else /29 blocks, every 8th pod) on a 3-node lab of real agents — IPAM, the real
 * margay-cni, blackholes, pod routes, policy — where a new block must travel over
 * BGP before n3 can reach its pods. The same lab runs twice in one run, the same pod
 * sequence each time, and only the speaker differs:
 * - system "margay": the agents' own BGP (full mesh);
 * - system "bird-speaker" (the reference the issue asks for, Calico's architecture):
 *   the agents run with `--bgp off`, a BIRD per node (iBGP full mesh) exports the
 *   agent's block blackholes from the kernel (`krt_source = 80`) and the remote BIRD
 *   installs the learned route (proto bird).
 * Figures per lab:
 * - podReachableMs: CNI ADD started → first ping reply from the n3 pod;
 * - reachableAfterAddMs: CNI ADD returned → first reply (includes starting ping in
 *   the n3 pod: probeOverheadMs is that cost toward a pod already reachable);
 * - newBlock (pods that opened a block): remoteKernelFromAddMs: CNI ADD started →
 *   the block's route in n3's kernel (this process's clock: the ADD's start, and
 *   `ip monitor route` in n3); remoteFromClaimMs: n1's IPAM claim (the wall-clock stamp
 *   n1's agent logs when the store's create returns: `ipam: block claimed`, the same
 *   code point in both labs) → n3's kernel (`ip -ts monitor route`);
 *   localKernelFromClaimMs: claim → n1's blackhole; remoteFromLocalKernelMs: n1's
 *   blackhole → n3's kernel (margay announces at the claim, before its blackhole, so
 *   this can be near zero or negative; BIRD learns the block from that blackhole);
 *   n2FromClaimMs and bothRemotesFromClaimMs: the claim → n2's kernel, and → the later
 *   of n2's and n3's (a sender writes to its peers in some order, so n3 alone could
 *   favour whichever speaker happens to serve it first; n3BeforeN2 counts the blocks
 *   n3 had first); firstRemoteFromClaimMs: → the earlier of the two (the receiver
 *   that did not wait for the other: on 2 shared cores the second one may wait for a
 *   CPU while the first, and n1's CNI ADD, hold both).
 * The ratio line names what it compares: the figure is claim → n3's kernel,
 * margay over the BIRD-speaker lab (target: ≤ 1, `targetMet_…`); the same from CNI
 * ADD start; and, as an extra line, a bare BIRD mesh (system "bird-bare-mesh": the same
 * BIRDs, no agents, no pods, a blackhole added by `ip -batch` in n1 → n3's kernel),
 * BIRD's kernel → kernel floor on a quiet lab — not the reference, shown beside it;
 * and system "node-floor": a Node process that only reads a TCP byte and writes one
 * route (floor-peer.ts), the least any Node receiver spends on a new block, with one
 * netlink route write timed woken from sleep (cold) and back to back (hot).
 * Order: bare mesh, BIRD-speaker lab, margay lab (BENCH_CONVERGENCE_MARGAY_FIRST=1:
 * margay first). BENCH_CONVERGENCE_BLOCK_SIZE=30 makes more pods open a block (more
 * new-block samples per run). Needs root.
 *
 * Fairness: both kernel stamps come from `ip -ts monitor route` (the kernel's events,
 * stamped by ip itself with µs resolution when they arrive — not when this process
 * reads the pipe: a spawn here, the ping probe, blocks this event loop for ms). The
 * claim stamp is the agent's own wall clock, in both labs at the same point (the
 * store wrapper's callback, agent/node/block-events.ts). With MARGAY_TRACE_ROUTES=1 the margay line
 * carries `trace`: per-stage medians from the agents' own stamps (n1: claim →
 * UPDATE encoded; n3: bytes read → decoded → RIB → netlink write; across processes by
 * wall clock: n1's encode → n3's read, n3's write → its `ip -ts monitor` stamp), which
 * separates margay's own CPU from waiting for a CPU. MARGAY_FAST_ROUTES=0 runs every
 * agent (both labs) without the route fast path. MARGAY_BENCH_KEEP_LOGS=DIR keeps the
 * agents' logs as DIR/<margay|bird>-agent-<node>.log. BENCH_CONVERGENCE_CAPTURE=1 adds,
 * for both labs alike, tcpdump in n3 (segments from n1 with more than a KEEPALIVE):
 * claim → the UPDATE at n3's interface, and that → the route in n3's kernel — the
 * sender's and the receiver's share, whichever speaker (tcpdump costs some CPU).
 * BENCH_CONVERGENCE_AB="VAR=value ..." runs the margay lab once more, first, with
 * those variables in its agents' environment (system "margay", variant "ab": e.g.
 * `MARGAY_FAST_WARM=0 MARGAY_DEFER_INPUTS_MS=0` for the receiving side as it was),
 * and adds its figures to the ratio line: before/after side by side in one run.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, MARGAY_JS, type AgentCluster } from '../../../agent/lab/agents.js';
import { isRoot } from '../../../agent/lab/netns.js';
import { startNodeBirds, type LabBird } from '../../../agent/lab/topology/bird.js';
import type { Emit } from '../run.js';
import { firstReply, QUICK, round, routeMonitor, summary, wireArrivals, type RouteMonitor, type WireArrivals } from './support.js';

const PODS = QUICK ? 24 : 50;
/** QUICK: /30 blocks, so that 24 pods still open 5 new blocks; BENCH_CONVERGENCE_BLOCK_SIZE overrides (/30 with 50 pods: 12 new blocks per lab) */
const BLOCK_SIZE = Number(process.env.BENCH_CONVERGENCE_BLOCK_SIZE ?? (QUICK ? 30 : 29));
const BIRD_BLOCKS = QUICK ? 8 : 30;
const BENCH = 'agent/convergence';
const CAPTURE = process.env.BENCH_CONVERGENCE_CAPTURE === '1';

/** BENCH_CONVERGENCE_AB: the extra margay lab's agent environment */
const AB_ENV: Record<string, string> | undefined = process.env.BENCH_CONVERGENCE_AB
  ? Object.fromEntries(process.env.BENCH_CONVERGENCE_AB.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  : undefined;

const stampMonitor = (ns: string): Promise<RouteMonitor> => routeMonitor(ns, { stamped: true });

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** cidr → wall-clock ms of n1's claim, from its agent's log (`ipam: block claimed`, field `at`). */
async function claimStamps(logFile: string | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!logFile) return out;
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    if (!line.includes('ipam: block claimed')) continue;
    try {
      const o = JSON.parse(line) as { cidr?: string; at?: number };
      if (o.cidr && typeof o.at === 'number') out.set(o.cidr, o.at);
    } catch {
      // a torn last line
    }
  }
  return out;
}

/**
 * MARGAY_TRACE_ROUTES=1 (agent/node/route-trace.ts): per-stage medians (ms) of the
 * trace lines the agents logged — n3 writing the new blocks' routes, n1 sending them.
 */
async function traceStages(n1Log: string | undefined, n3Log: string | undefined, stamps: readonly { cidr: string; sRemote: number }[], arrivals: readonly number[] = []): Promise<Record<string, unknown>> {
  const blocks = new Set(stamps.map((x) => x.cidr));
  const lines = async (f: string | undefined, msg: string): Promise<Record<string, unknown>[]> => (f ? (await readFile(f, 'utf8')).split('\n') : [])
    .filter((l) => l.includes(msg)).flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; } });
  const med = (rows: Record<string, unknown>[], k: string): number | undefined => {
    const xs = rows.map((r) => r[k]).filter((v): v is number => typeof v === 'number');
    return xs.length > 0 ? summary(xs).p50 : undefined;
  };
  const recv = (await lines(n3Log, 'trace: learned route written')).filter((r) => (r.prefixes as string[] | undefined)?.some((p) => blocks.has(p)));
  const sent = await lines(n1Log, 'trace: UPDATE for a claimed block encoded');
  const stages = (rows: Record<string, unknown>[], keys: string[]) => Object.fromEntries([['n', rows.length], ...keys.map((k) => [k, med(rows, k)])]);
  // across processes (wall clock, µs): n1's UPDATE encoded → n3 reading it (TCP + n3's event loop), and
  // n3's netlink write returned → n3's `ip -ts monitor` stamp (the monitor's own wake-up, in every figure above)
  const sentAt = sent.map((r) => r.at).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  const wire: number[] = [];
  const monitor: number[] = [];
  const arrivalToRead: number[] = [];
  for (const r of recv) {
    const readAt = r.readAt as number;
    const arrived = arrivals.filter((t) => t <= readAt).at(-1);
    if (arrived !== undefined && readAt - arrived < 1000) arrivalToRead.push(readAt - arrived);
    const before = sentAt.filter((t) => t <= readAt).at(-1);
    if (before !== undefined) wire.push(readAt - before);
    // a full pass's line names only its first prefixes, and a later pass logs again: fast writes only
    const st = r.kind === 'fast' ? stamps.find((x) => (r.prefixes as string[]).includes(x.cidr)) : undefined;
    if (st && typeof r.at === 'number') monitor.push(st.sRemote - r.at);
  }
  return {
    n1EncodedToN3ReadMs: wire.length > 0 ? summary(wire) : undefined,
    n3WrittenToMonitorStampMs: monitor.length > 0 ? summary(monitor) : undefined,
    // with BENCH_CONVERGENCE_CAPTURE=1: the UPDATE's segment at n3's interface → n3's agent reading it (waiting for its event loop / a CPU)
    ...(arrivalToRead.length > 0 ? { n3WireToReadMs: summary(arrivalToRead) } : {}),
    n3Receive: stages(recv, ['readToDecoded', 'decodedToRib', 'ribToAgent', 'agentToWritten', 'total']),
    n3ReceiveKinds: [...new Set(recv.map((r) => r.kind))],
    n1Send: stages(sent, ['claimToOriginate', 'originateToEncoded', 'total']),
  };
}

type Speaker = 'margay' | 'bird' | 'margay-ab';
interface LabFigures {
  fromAdd: number; fromClaim: number; fromLocalKernel: number; localFromClaim: number;
  /** claim → n2's kernel, and → the later of n2's and n3's (both remote nodes have it) */
  n2FromClaim: number; bothFromClaim: number;
  /** claim → the earlier of n2's and n3's kernels */
  firstFromClaim: number;
}

/**
 * The lab of real agents (IPAM, CNI, blackholes, pod routes, policy), pods created
 * through margay-cni on n1 one after another. `speaker`: margay's own BGP (full
 * mesh), or `bird` — the agents run with `--bgp off` and a BIRD per node exports
 * their blackholes from the kernel (`krt_source = 80`) and installs what it learns.
 */
async function agentLab(emit: Emit, lab3: Speaker): Promise<LabFigures> {
  const speaker = lab3 === 'bird' ? 'bird' : 'margay';
  const ab = lab3 === 'margay-ab' ? AB_ENV : undefined;
  const lab = await createLab({ nodes: 3, fabric: 'l2' });
  let cluster: AgentCluster | undefined;
  let birds: LabBird[] = [];
  const monitors: { stop(): void }[] = [];
  try {
    cluster = await createAgentCluster(lab, { pool: { blockSize: BLOCK_SIZE }, ...(ab ? { env: ab } : {}) });
    const c = cluster;
    for (const n of lab.nodes) await c.startAgent(n.name, speaker === 'bird' ? ['--bgp', 'off'] : []);
    if (speaker === 'bird') {
      for (const n of lab.nodes) await until(`${n.name} ready`, async () => ((await c.status(n.name, 2000)).ready ? true : undefined), 30_000);
      birds = await startNodeBirds(lab, { kernelProtocol: 80 });
    } else {
      for (const n of lab.nodes) {
        await until(`${n.name} mesh`, async () => { const s = await c.status(n.name, 2000); return s.peers.length === 2 && s.peers.every((p) => p.fsm === 'Established') ? s : undefined; }, 30_000);
      }
    }
    const probe = await c.addPod('n3', 'probe');
    const first = await c.addPod('n1', 'warm');
    await firstReply(probe.netns, first.ipv4, 10);
    const overhead: number[] = [];
    for (let i = 0; i < 5; i++) { const t = performance.now(); overhead.push((await firstReply(probe.netns, first.ipv4, 5)) - t); }
    const monN3 = await routeMonitor(lab.node('n3').ns);
    const stampN1 = await stampMonitor(lab.node('n1').ns);
    const stampN3 = await stampMonitor(lab.node('n3').ns);
    const stampN2 = await stampMonitor(lab.node('n2').ns);
    monitors.push(monN3, stampN1, stampN3, stampN2);
    let wire: WireArrivals | undefined;
    if (CAPTURE) monitors.push(wire = await wireArrivals(lab.node('n3').ns, 'eth0', lab.node('n1').address));
    const known = new Set((await c.status('n1')).blocks.map((b) => b.cidr));
    const total: number[] = [];
    const afterAdd: number[] = [];
    const add: number[] = [];
    const newBlockTotal: number[] = [];
    const blockFromAdd: number[] = [];
    const blockFromLocal: number[] = [];
    const stamps: { cidr: string; sLocal: number; sRemote: number; sN2: number }[] = [];
    for (let i = 0; i < PODS; i++) {
      const t0 = performance.now();
      const pod = await c.addPod('n1', `c${i}`);
      const tAdd = performance.now();
      const tReply = await firstReply(probe.netns, pod.ipv4, 10);
      total.push(tReply - t0);
      afterAdd.push(tReply - tAdd);
      add.push(tAdd - t0);
      const blocks = (await c.status('n1')).blocks.map((b) => b.cidr).filter((b) => !known.has(b));
      for (const b of blocks) {
        known.add(b);
        const [tRemote, sLocal, sRemote, sN2] = await Promise.all([monN3.next(b, 5000), stampN1.next(b, 5000), stampN3.next(b, 5000), stampN2.next(b, 5000)]);
        blockFromAdd.push(tRemote - t0);
        blockFromLocal.push(sRemote - sLocal);
        stamps.push({ cidr: b, sLocal, sRemote, sN2 });
        newBlockTotal.push(tReply - t0);
      }
    }
    const stats = await Promise.all(lab.nodes.map((n) => c.status(n.name)));
    const claims = await claimStamps(c.agentProcess('n1')?.logFile);
    const trace = speaker === 'margay' && ['1', '2'].includes(process.env.MARGAY_TRACE_ROUTES ?? '') ? await traceStages(c.agentProcess('n1')?.logFile, c.agentProcess('n3')?.logFile, stamps, wire?.times) : undefined;
    // ms from each block's claim to a stamp of it (blocks whose claim was not logged are left out)
    const sinceClaim = (at: (x: (typeof stamps)[number]) => number): number[] =>
      stamps.flatMap((x) => { const claim = claims.get(x.cidr); return claim === undefined ? [] : [at(x) - claim]; });
    const fromClaim = sinceClaim((x) => x.sRemote);
    const localFromClaim = sinceClaim((x) => x.sLocal);
    // n2 too: a sender serves its peers in some order, so n3 alone could favour whichever speaker serves it first
    const n2FromClaim = sinceClaim((x) => x.sN2);
    const bothFromClaim = sinceClaim((x) => Math.max(x.sN2, x.sRemote));
    const firstFromClaim = sinceClaim((x) => Math.min(x.sN2, x.sRemote));
    const n3First = stamps.filter((x) => x.sRemote < x.sN2).length;
    // BENCH_CONVERGENCE_CAPTURE=1: the first UPDATE-sized segment from n1 at n3 after each claim
    const claimToWire: number[] = [];
    const wireToKernel: number[] = [];
    for (const x of wire ? stamps : []) {
      const claim = claims.get(x.cidr);
      const arrival = claim === undefined ? undefined : wire?.times.find((t) => t >= claim);
      if (claim === undefined || arrival === undefined || arrival > x.sRemote) continue;
      claimToWire.push(arrival - claim);
      wireToKernel.push(x.sRemote - arrival);
    }
    emit({
      bench: BENCH, system: speaker === 'margay' ? 'margay' : 'bird-speaker', ...(ab ? { variant: 'ab', env: ab } : {}),
      speaker: speaker === 'margay' ? 'margay agents, their own BGP (full mesh)' : 'margay agents with --bgp off + BIRD per node (iBGP mesh, blackholes exported from the kernel)',
      nodes: 3, pods: PODS, blockSize: BLOCK_SIZE, fastRoutes: process.env.MARGAY_FAST_ROUTES !== '0',
      podReachableMs: summary(total), reachableAfterAddMs: summary(afterAdd), cniAddMs: summary(add),
      probeOverheadMs: summary(overhead),
      newBlock: {
        pods: blockFromAdd.length, podReachableMs: summary(newBlockTotal), remoteKernelFromAddMs: summary(blockFromAdd),
        remoteFromClaimMs: summary(fromClaim), remoteFromLocalKernelMs: summary(blockFromLocal), localKernelFromClaimMs: summary(localFromClaim),
        n2FromClaimMs: summary(n2FromClaim), firstRemoteFromClaimMs: summary(firstFromClaim), bothRemotesFromClaimMs: summary(bothFromClaim), n3BeforeN2: `${n3First} of ${stamps.length}`,
        ...(wire ? { claimToUpdateAtN3WireMs: summary(claimToWire), updateAtN3WireToN3KernelMs: summary(wireToKernel) } : {}),
      },
      blocksOnN1: stats[0]?.blocks.length, ...(trace ? { trace } : {}),
    });
    return {
      fromAdd: summary(blockFromAdd).p50, fromClaim: summary(fromClaim).p50, fromLocalKernel: summary(blockFromLocal).p50, localFromClaim: summary(localFromClaim).p50,
      n2FromClaim: summary(n2FromClaim).p50, bothFromClaim: summary(bothFromClaim).p50, firstFromClaim: summary(firstFromClaim).p50,
    };
  } finally {
    for (const m of monitors) m.stop();
    // MARGAY_BENCH_KEEP_LOGS=DIR: the agents' logs (with MARGAY_TRACE_ROUTES=1, the traces) outlive the lab
    const keep = process.env.MARGAY_BENCH_KEEP_LOGS;
    if (keep) for (const n of lab.nodes) { const f = cluster?.agentProcess(n.name)?.logFile; if (f) await copyFile(f, join(keep, `${lab3}-agent-${n.name}.log`)).catch(() => undefined); }
    for (const b of birds) await b.stop().catch(() => undefined);
    await cluster?.destroy().catch(() => undefined);
    await lab.destroy();
  }
}

/**
 * Extra line, not the reference: a bare BIRD mesh — the same 3 BIRDs, no agents, no
 * pods — where this process adds a blackhole for a new /26 in n1's kernel (one
 * long-lived `ip -batch -`) and n3's kernel gets the route: BIRD's kernel → kernel
 * floor on an otherwise quiet lab.
 */
async function bareBirdMesh(emit: Emit): Promise<{ fromWrite: number; fromLocalKernel: number }> {
  const lab: Lab = await createLab({ nodes: 3, fabric: 'l2' });
  const monitors: { stop(): void }[] = [];
  let batch: ReturnType<typeof spawn> | undefined;
  let birds: LabBird[] = [];
  try {
    birds = await startNodeBirds(lab);
    const monN3 = await routeMonitor(lab.node('n3').ns);
    const stampN1 = await stampMonitor(lab.node('n1').ns);
    const stampN3 = await stampMonitor(lab.node('n3').ns);
    monitors.push(monN3, stampN1, stampN3);
    batch = spawn('ip', ['-n', lab.node('n1').ns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const times: number[] = [];
    const fromLocal: number[] = [];
    for (let i = 0; i < BIRD_BLOCKS; i++) {
      const prefix = `10.244.${100 + i}.0/26`;
      const t0 = performance.now();
      batch.stdin?.write(`route add blackhole ${prefix}\n`);
      const [tRemote, sLocal, sRemote] = await Promise.all([monN3.next(prefix, 10_000), stampN1.next(prefix, 10_000), stampN3.next(prefix, 10_000)]);
      times.push(tRemote - t0);
      fromLocal.push(sRemote - sLocal);
    }
    emit({
      bench: BENCH, system: 'bird-bare-mesh', what: 'no agents, no pods: a blackhole added by ip -batch in n1\'s kernel -> n3\'s kernel (BIRD\'s kernel-to-kernel floor; not the reference)',
      nodes: 3, blocks: BIRD_BLOCKS, remoteKernelFromIpWriteMs: summary(times), remoteFromLocalKernelMs: summary(fromLocal),
    });
    return { fromWrite: summary(times).p50, fromLocalKernel: summary(fromLocal).p50 };
  } finally {
    batch?.stdin?.end();
    batch?.kill('SIGTERM');
    for (const m of monitors) m.stop();
    for (const b of birds) await b.stop().catch(() => undefined);
    await lab.destroy();
  }
}

const FLOOR_JS = join(import.meta.dirname, 'floor-peer.js');
const FLOOR_EVENTS = QUICK ? 20 : 60;

/**
 * Extra line, not the reference (system "node-floor"): a Node process that does
 * nothing but wake on a TCP read and write one route (floor-peer.ts), n1 → n2 over
 * the lab's fabric: send → n2's kernel (`ip -ts monitor`), the least any receiver in
 * Node spends on a new block, beside BIRD's whole kernel → kernel path through two
 * speakers (the bare mesh). Also one netlink route write timed inside that receiver,
 * woken from sleep (cold) and back to back (hot).
 */
async function nodeFloor(emit: Emit): Promise<{ sendToKernel: number }> {
  const lab: Lab = await createLab({ nodes: 2, fabric: 'l2' });
  let stamp: RouteMonitor | undefined;
  try {
    const [n1, n2] = [lab.node('n1'), lab.node('n2')];
    const dir = await mkdtemp(join(tmpdir(), 'margay-floor-'));
    lab.recordPath(dir).catch(() => undefined);
    stamp = await stampMonitor(n2.ns);
    const monitor = stamp;
    const recvOut = join(dir, 'receiver.json');
    const sendOut = join(dir, 'sender.json');
    await lab.startProcess(n2.ns, [process.execPath, FLOOR_JS, 'receive', n2.address, '17900', recvOut], { name: 'floor-receiver' });
    await lab.exec(n1.ns, [process.execPath, FLOOR_JS, 'send', n2.address, '17900', String(FLOOR_EVENTS), sendOut], { timeoutMs: 30_000 });
    const sent = JSON.parse(await readFile(sendOut, 'utf8')) as number[];
    const kernel = await Promise.all(sent.map((_, k) => monitor.next(`10.250.${k}.0/24`, 10_000)));
    const recv = JSON.parse(await until('the floor receiver\'s figures', () => readFile(recvOut, 'utf8'), 10_000)) as { coldWriteUs: number; hotWriteUs: number };
    const fig = summary(kernel.map((t, k) => t - (sent[k] as number)));
    emit({
      bench: BENCH, system: 'node-floor', what: 'a Node process that only reads a TCP byte and writes one route (no BGP): n1 send -> n2 kernel (the least a Node receiver spends; not the reference)',
      events: sent.length, sendToKernelMs: fig, netlinkWriteColdUs: round(recv.coldWriteUs), netlinkWriteHotUs: round(recv.hotWriteUs),
    });
    await rm(dir, { recursive: true, force: true });
    return { sendToKernel: fig.p50 };
  } finally {
    stamp?.stop();
    await lab.destroy();
  }
}

export async function run(emit: Emit): Promise<void> {
  if (!isRoot()) {
    process.stderr.write(`${BENCH}: skipped, needs root (network namespaces)\n`);
    return;
  }
  const bare = await bareBirdMesh(emit);
  if (!existsSync(MARGAY_JS)) {
    process.stderr.write(`${BENCH}: agent labs skipped, ${MARGAY_JS} missing (build first)\n`);
    return;
  }
  // the reference first, then margay (BENCH_CONVERGENCE_MARGAY_FIRST=1 swaps them, to see order effects)
  const order: Speaker[] = process.env.BENCH_CONVERGENCE_MARGAY_FIRST === '1' ? ['margay', 'bird'] : ['bird', 'margay'];
  if (AB_ENV) order.splice(order.indexOf('margay'), 0, 'margay-ab');
  const floor = await nodeFloor(emit);
  const figures = new Map<Speaker, LabFigures>();
  for (const sp of order) figures.set(sp, await agentLab(emit, sp));
  const ours = figures.get('margay') as LabFigures;
  const bird = figures.get('bird') as LabFigures;
  const ab = figures.get('margay-ab');
  // the issue's comparison: the same lab, the same pods; a new block from n1's IPAM claim (the same
  // log stamp in both agents) → its route in n3's kernel (ip -ts monitor); target: margay <= BIRD
  emit({
    bench: `${BENCH}/ratio`,
    margayClaimToN3KernelP50: ours.fromClaim, birdSpeakerClaimToN3KernelP50: bird.fromClaim,
    ratioClaimToN3Kernel_margayOverBirdSpeaker: round(ours.fromClaim / bird.fromClaim),
    targetMet_claimToN3Kernel_margayNoSlowerThanBirdSpeaker: ours.fromClaim <= bird.fromClaim,
    margayCniAddToN3KernelP50: ours.fromAdd, birdSpeakerCniAddToN3KernelP50: bird.fromAdd,
    ratioCniAddToN3Kernel_margayOverBirdSpeaker: round(ours.fromAdd / bird.fromAdd),
    margayClaimToN1KernelP50: ours.localFromClaim, birdSpeakerClaimToN1KernelP50: bird.localFromClaim,
    margayN1KernelToN3KernelP50: ours.fromLocalKernel, birdSpeakerN1KernelToN3KernelP50: bird.fromLocalKernel,
    // the same from the claim to n2's kernel, and to the later of the two remote kernels (order-independent)
    margayClaimToN2KernelP50: ours.n2FromClaim, birdSpeakerClaimToN2KernelP50: bird.n2FromClaim,
    ratioClaimToN2Kernel_margayOverBirdSpeaker: round(ours.n2FromClaim / bird.n2FromClaim),
    margayClaimToFirstRemoteKernelP50: ours.firstFromClaim, birdSpeakerClaimToFirstRemoteKernelP50: bird.firstFromClaim,
    ratioClaimToFirstRemoteKernel_margayOverBirdSpeaker: round(ours.firstFromClaim / bird.firstFromClaim),
    margayClaimToBothRemoteKernelsP50: ours.bothFromClaim, birdSpeakerClaimToBothRemoteKernelsP50: bird.bothFromClaim,
    ratioClaimToBothRemoteKernels_margayOverBirdSpeaker: round(ours.bothFromClaim / bird.bothFromClaim),
    bareBirdMeshN1KernelToN3KernelP50: bare.fromLocalKernel,
    ratioClaimToN3Kernel_margayOverBareBirdN1KernelToN3Kernel: round(ours.fromClaim / bare.fromLocalKernel),
    // a Node process doing nothing but read a byte and write a route, over BIRD's whole kernel → BGP → kernel path
    nodeFloorSendToKernelP50: floor.sendToKernel, ratioNodeFloor_overBareBirdN1KernelToN3Kernel: round(floor.sendToKernel / bare.fromLocalKernel),
    ...(ab ? { ab: AB_ENV, abClaimToN3KernelP50: ab.fromClaim, abCniAddToN3KernelP50: ab.fromAdd, ratioClaimToN3Kernel_abOverBirdSpeaker: round(ab.fromClaim / bird.fromClaim) } : {}),
  });
}

/**
 * Ingest: GoBGP (the feeder, loaded from MRT) announces N IPv4 prefixes over one
 * eBGP session to margay, to BIRD and to a second GoBGP, in the same run and topology
 * (a star: feeder in the centre, one leaf namespace per receiver), one receiver at a
 * time (even reps margay, BIRD, GoBGP; odd reps the reverse). For each: seconds from
 * Established to all N in the RIB, and RSS bytes per route (RSS after minus RSS
 * before the session, over N). Ratios margay / BIRD (the target) and margay / GoBGP.
 * N = 100k (and 1M with BENCH_FULL=1; BENCH_BGP_PREFIXES
 * overrides). Medians of BENCH_REPS runs (default 9 up to 100k prefixes, 1 above: the
 * feeder's preparation varies by ±0.05 s between runs, a tenth of the figure),
 * each a fresh receiver process against the same loaded feeder.
 *
 * For margay and BIRD both ends of the time are the receiver's own stamps, alike:
 * start = its "Established since" (ms), end = when it took in its last route —
 * BIRD: the newest route's import time (`show route`, ms), margay: the status'
 * `lastUpdate` (when it last handled an UPDATE). Polls (every POLL_MS) only detect
 * completion; the poll-based figures are reported beside (`*_poll_s`). GoBGP stamps
 * whole seconds only, so its time is observed (gobgp-receiver.ts): Established from a
 * `gobgp monitor neighbor` stream, the end at the first `global rib summary` poll
 * that saw all N; `ratio_margay_vs_gobgp` is therefore margay's poll figure over it.
 *
 * Also reported: CPU seconds each receiver used over its ingest, and the feeder's
 * CPU. Each receiver starts once the feeder is idle (bounded wait).
 * BENCH_BGP_SPEAKER_FLAGS: margay variants measured side by side, separated by '|':
 * `speaker` (the standalone speaker's own V8 flags), or node flags given explicitly
 * with the speaker's defaults off (empty = Node defaults).
 * BENCH_BGP_CAPTURE=1: first an untimed pass per receiver under tcpdump, summarising
 * what the feeder sent each (capabilities, UPDATEs, octets, prefixes per UPDATE).
 */
import { readFile } from 'node:fs/promises';
import type { Emit } from '../run.js';
import { netStar, type Leaf } from '../../support/daemons/netstar.js';
import { gobgp, gobgpConfig } from '../../support/daemons/gobgp.js';
import { bird } from '../../support/daemons/bird.js';
import { margaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';
import { startCapture, type Capture } from './capture.js';
import { receiverConfig, ribProgress, startReceiver, watchEstablished } from './gobgp-receiver.js';
import { birdRouteTimes, birdProtocolRoutes, birdSince, cpuSeconds, loadGoBgp, workerPid, POLL_MS, prefixCounts, round, rssBytes, skipReason, wakeups, whenCount } from './feeder.js';

/** Node options of a running process: the `--` arguments before its script. */
async function nodeFlags(pid: number): Promise<string[]> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').slice(1);
  const flags: string[] = [];
  for (const a of argv) {
    if (!a.startsWith('--')) break;
    flags.push(a);
  }
  return flags;
}

/** Waits (at most `boundMs`) until the process used under `maxCpuS` of CPU over `windowMs`. */
async function cpuIdle(pid: number, windowMs: number, maxCpuS: number, boundMs: number): Promise<void> {
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    const c0 = await cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, windowMs));
    if (await cpuSeconds(pid) - c0 < maxCpuS) return;
  }
}

/**
 * The feeder is idle: right after the MRT load, or after sending a full table,
 * GoBGP still collects garbage for a while, and whichever receiver came first
 * would pay for it.
 */
const feederQuiet = (pid: number): Promise<void> => cpuIdle(pid, 500, 0.03, 30_000);

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

interface Sample {
  /** the receiver's stamps, ms since epoch */
  sinceMs: number;
  lastMs: number;
  s: number;
  /** Established → the first route in (the feeder's preparation, as this receiver saw it) */
  firstS: number;
  pollS: number;
  cpu: number;
  /** the receiver's main-thread wake-ups over its ingest (margay, BIRD: single-threaded readers) */
  wakes?: number;
  feederCpu: number;
  perRoute: number;
  rss: number;
  flags?: string;
}

interface Ctx {
  leaf: Leaf;
  gPid: number;
  total: number;
  timeout: number;
  stops: (() => Promise<void>)[];
}

/** A margay variant: 'speaker' = its own V8 flags; otherwise these node flags with the speaker's off. */
function variantOpts(v: string): { nodeArgs: string[]; env?: Record<string, string> } {
  if (v === 'speaker') return { nodeArgs: [] };
  return { nodeArgs: v.split(' ').filter((a) => a !== ''), env: { MARGAY_SPEAKER_V8_FLAGS: '0' } };
}

/** A freshly started receiver has settled (module loading, start-up garbage): under 10 ms of CPU in 300 ms. */
const settled = (pid: number): Promise<void> => cpuIdle(pid, 300, 0.01, 10_000);

/** Receivers start idle, then the session is enabled (BENCH_BGP_COLD_START=1: the session starts with the process). */
const IDLE_FIRST = process.env.BENCH_BGP_COLD_START !== '1';

async function ingestMargay(c: Ctx, variant: string): Promise<Sample> {
  await feederQuiet(c.gPid);
  const config = { asn: 65001, routerId: c.leaf.v4, listen: false, neighbors: [{ address: c.leaf.centreV4, asn: 65100 }] };
  const m = await margaySpeaker(c.leaf.ns, IDLE_FIRST ? { ...config, neighbors: [] } : config, { logLevel: 'warn', ...variantOpts(variant) });
  c.stops.push(() => m.stop());
  try {
    const pid = await workerPid(m.pid);
    const flags = (await nodeFlags(pid)).join(' ');
    if (IDLE_FIRST) await settled(pid);
    const rss0 = await rssBytes(pid);
    const cpu0 = await cpuSeconds(pid);
    const w0 = await wakeups(pid);
    const g0 = await cpuSeconds(c.gPid);
    if (IDLE_FIRST) await m.reload(config);
    const done = await whenCount('margay ingest', async () => (await m.status()).peers[0]?.received ?? 0, c.total, c.timeout);
    const st = await m.status();
    const since = Date.parse(st.peers[0]?.since ?? '');
    const last = Date.parse(st.peers[0]?.lastUpdate ?? '');
    const first = Date.parse(st.peers[0]?.firstUpdate ?? '');
    const rss = await rssBytes(pid);
    return {
      sinceMs: since, lastMs: last, s: (last - since) / 1000, firstS: (first - since) / 1000, pollS: (done - since) / 1000, cpu: await cpuSeconds(pid) - cpu0, wakes: await wakeups(pid) - w0,
      feederCpu: await cpuSeconds(c.gPid) - g0, perRoute: (rss - rss0) / c.total, rss, flags,
    };
  } finally {
    await m.stop();
    c.stops.pop();
  }
}

/**
 * A second gobgpd as receiver (AS 65003): started with the feeder administratively
 * down, enabled once settled (`gobgp neighbor ADDR enable`; GoBGP then connects after
 * its own 5–10 s start delay, which is before Established and so not timed). Its
 * stamps have whole seconds only, so both ends are observed: Established from a
 * `monitor neighbor` stream, the end (and the first route) from RIB summary polls.
 */
async function ingestGoBgp(c: Ctx): Promise<Sample> {
  await feederQuiet(c.gPid);
  const r = await startReceiver(c.leaf.ns, receiverConfig(65003, c.leaf.v4, c.leaf.centreV4, 65100, IDLE_FIRST));
  c.stops.push(() => r.stop());
  const watch = watchEstablished(c.leaf.ns, c.leaf.centreV4, 45_000);
  c.stops.push(() => watch.stop());
  try {
    const pid = await workerPid(r.pid);
    if (IDLE_FIRST) await settled(pid);
    const rss0 = await rssBytes(pid);
    const cpu0 = await cpuSeconds(pid);
    const g0 = await cpuSeconds(c.gPid);
    if (IDLE_FIRST) await r.cli(['neighbor', c.leaf.centreV4, 'enable']);
    const since = await watch.when;
    const { firstMs, doneMs } = await ribProgress(r, c.total, c.timeout);
    const rss = await rssBytes(pid);
    const cpu = await cpuSeconds(pid) - cpu0;
    const feederCpu = await cpuSeconds(c.gPid) - g0;
    const s = (doneMs - since) / 1000;
    return { sinceMs: since, lastMs: doneMs, s, firstS: (firstMs - since) / 1000, pollS: s, cpu, feederCpu, perRoute: (rss - rss0) / c.total, rss };
  } finally {
    await watch.stop();
    await r.stop();
    c.stops.splice(-2, 2);
  }
}

async function ingestBird(c: Ctx): Promise<Sample> {
  await feederQuiet(c.gPid);
  const b = await bird(c.leaf.ns, `router id ${c.leaf.v4};
timeformat protocol iso short ms;
timeformat route iso short ms;
protocol device {}
protocol bgp feed { ${IDLE_FIRST ? 'disabled; ' : ''}local ${c.leaf.v4} as 65002; neighbor ${c.leaf.centreV4} as 65100; ipv4 { import all; export none; }; }
`);
  c.stops.push(() => b.stop());
  try {
    if (IDLE_FIRST) await settled(b.pid);
    const rss0 = await rssBytes(b.pid);
    const cpu0 = await cpuSeconds(b.pid);
    const w0 = await wakeups(b.pid);
    const g0 = await cpuSeconds(c.gPid);
    if (IDLE_FIRST) await b.birdc('enable feed');
    const done = await whenCount('BIRD ingest', () => birdProtocolRoutes(b, 'feed'), c.total, c.timeout);
    const rss = await rssBytes(b.pid);
    const cpu = await cpuSeconds(b.pid) - cpu0;
    const wakes = await wakeups(b.pid) - w0;
    const feederCpu = await cpuSeconds(c.gPid) - g0;
    const since = await waitFor('BIRD since', () => birdSince(b, 'feed'), 5000);
    const { first, last } = await birdRouteTimes(b, 'feed', since);
    return { sinceMs: since, lastMs: last, s: (last - since) / 1000, firstS: (first - since) / 1000, pollS: (done - since) / 1000, cpu, wakes, feederCpu, perRoute: (rss - rss0) / c.total, rss };
  } finally {
    await b.stop();
    c.stops.pop();
  }
}

export async function run(emit: Emit): Promise<void> {
  const why = skipReason();
  if (why) {
    process.stderr.write(`bench bgp/ingest skipped: ${why}\n`);
    return;
  }
  for (const n of prefixCounts()) await once(emit, n);
}

async function captured(c: Ctx, what: () => Promise<Sample>): Promise<Record<string, unknown>> {
  let cap: Capture | undefined = await startCapture(c.leaf.ns);
  try {
    const s = await what();
    const w = await cap.stop();
    cap = undefined;
    const { firstDataMs, lastDataMs, ...rest } = w;
    return {
      ...rest, ingest_s_under_capture: round(s.s),
      // Established → the feeder's last data segment, and from there → the receiver's last route
      feeder_span_s: round((lastDataMs - s.sinceMs) / 1000), receiver_lag_ms: Math.round(s.lastMs - lastDataMs),
      first_data_after_established_ms: Math.round(firstDataMs - s.sinceMs),
    };
  } finally {
    await cap?.stop().catch(() => undefined);
  }
}

async function once(emit: Emit, n: number): Promise<void> {
  const star = await netStar([81, 82, 83]);
  const [lm, lb, lg] = star.leaves as [Leaf, Leaf, Leaf];
  const stops: (() => Promise<void>)[] = [];
  try {
    const g = await gobgp(star.centre, gobgpConfig(65100, lm.centreV4, [
      { address: lm.v4, asn: 65001, passive: true }, { address: lb.v4, asn: 65002, passive: true },
      { address: lg.v4, asn: 65003, passive: true },
    ]));
    stops.push(() => g.stop());
    const total = await loadGoBgp(g, n, '0.0.0.0', 65100); // 0.0.0.0: GoBGP puts its own session address
    const gPid = await workerPid(g.pid);
    const timeout = 60_000 + n * 0.2;
    const cm: Ctx = { leaf: lm, gPid, total, timeout, stops };
    const cb: Ctx = { leaf: lb, gPid, total, timeout, stops };
    const cg: Ctx = { leaf: lg, gPid, total, timeout, stops };
    const variants = (process.env.BENCH_BGP_SPEAKER_FLAGS ?? 'speaker').split('|').map((v) => v.trim());

    if (process.env.BENCH_BGP_CAPTURE === '1') {
      emit({ bench: 'bgp/ingest-wire', prefixes: total, receiver: 'margay', ...await captured(cm, () => ingestMargay(cm, variants[0] as string)) });
      emit({ bench: 'bgp/ingest-wire', prefixes: total, receiver: 'bird', ...await captured(cb, () => ingestBird(cb)) });
      emit({ bench: 'bgp/ingest-wire', prefixes: total, receiver: 'gobgp', ...await captured(cg, () => ingestGoBgp(cg)) });
    }

    const reps = Number(process.env.BENCH_REPS ?? (n <= 100_000 ? 9 : 1));
    const ms: Sample[][] = variants.map(() => []);
    const bs: Sample[] = [];
    const gs: Sample[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // even reps: margay, BIRD, GoBGP; odd reps: the reverse
      if (rep % 2 === 1) gs.push(await ingestGoBgp(cg));
      if (rep % 2 === 1) bs.push(await ingestBird(cb));
      for (const [i, v] of variants.entries()) ms[i]?.push(await ingestMargay(cm, v));
      if (rep % 2 === 0) bs.push(await ingestBird(cb));
      if (rep % 2 === 0) gs.push(await ingestGoBgp(cg));
    }

    const b = { s: median(bs.map((x) => x.s)), poll: median(bs.map((x) => x.pollS)), per: median(bs.map((x) => x.perRoute)) };
    const gb = { s: median(gs.map((x) => x.s)), per: median(gs.map((x) => x.perRoute)) };
    for (const [i, v] of variants.entries()) {
      const xs = ms[i] ?? [];
      const m = { s: median(xs.map((x) => x.s)), poll: median(xs.map((x) => x.pollS)), per: median(xs.map((x) => x.perRoute)) };
      emit({
        bench: 'bgp/ingest', prefixes: total, feeder: 'gobgp', runs: reps, receiver_start: IDLE_FIRST ? 'idle' : 'with-session', margay_variant: v, margay_node_flags: xs[0]?.flags ?? '',
        margay_s: round(m.s), bird_s: round(b.s), ratio_margay_vs_bird: round(m.s / b.s, 2),
        margay_runs_s: xs.map((x) => round(x.s)), bird_runs_s: bs.map((x) => round(x.s)),
        // Established → first route in, per run: the feeder's preparation before it sends anything
        margay_first_route_s: xs.map((x) => round(x.firstS)), bird_first_route_s: bs.map((x) => round(x.firstS)),
        // first route → last route (medians): the part the receiver controls, once the feeder sends
        margay_tail_s: round(median(xs.map((x) => x.s - x.firstS))), bird_tail_s: round(median(bs.map((x) => x.s - x.firstS))),
        // the same, with the end taken at the first poll (every POLL_MS) that saw all N
        poll_ms: POLL_MS, margay_poll_s: round(m.poll), bird_poll_s: round(b.poll),
        // CPU used by each receiver over its ingest (includes answering the progress polls)
        margay_cpu_s: round(median(xs.map((x) => x.cpu)), 2), bird_cpu_s: round(median(bs.map((x) => x.cpu)), 2),
        // main-thread wake-ups (voluntary context switches) over the ingest, polls included
        margay_wakeups: median(xs.map((x) => x.wakes ?? NaN)), bird_wakeups: median(bs.map((x) => x.wakes ?? NaN)),
        // the feeder's CPU while it sent to each
        feeder_cpu_margay_s: round(median(xs.map((x) => x.feederCpu)), 2), feeder_cpu_bird_s: round(median(bs.map((x) => x.feederCpu)), 2),
        // GoBGP as a third receiver: its stamps have whole seconds only, so gobgp_s runs from the
        // Established event (monitor stream) to the first RIB summary poll that saw all N; the
        // ratio is therefore taken against margay's poll figure (both ends alike)
        gobgp_s: round(gb.s), ratio_margay_vs_gobgp: round(m.poll / gb.s, 2), gobgp_runs_s: gs.map((x) => round(x.s)),
        gobgp_first_route_s: gs.map((x) => round(x.firstS)), gobgp_tail_s: round(median(gs.map((x) => x.s - x.firstS))),
        gobgp_cpu_s: round(median(gs.map((x) => x.cpu)), 2), feeder_cpu_gobgp_s: round(median(gs.map((x) => x.feederCpu)), 2),
      });
      emit({
        bench: 'bgp/memory', prefixes: total, margay_variant: v,
        margay_rss_bytes_per_route: Math.round(m.per), bird_rss_bytes_per_route: Math.round(b.per),
        ratio_margay_vs_bird: round(m.per / b.per, 2), margay_rss_mb: round((xs.at(-1)?.rss ?? 0) / 2 ** 20, 1), bird_rss_mb: round((bs.at(-1)?.rss ?? 0) / 2 ** 20, 1),
        margay_node_flags: xs[0]?.flags ?? '', // the V8/Node flags the measured speaker process really ran with
        gobgp_rss_bytes_per_route: Math.round(gb.per), ratio_margay_vs_gobgp: round(m.per / gb.per, 2), gobgp_rss_mb: round((gs.at(-1)?.rss ?? 0) / 2 ** 20, 1),
      });
    }
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await star.destroy();
  }
}

/**
 * Ingest: GoBGP (the feeder, loaded from MRT) announces N IPv4 prefixes over one
 * eBGP session, first to margay, then to BIRD, in the same run and topology. For
 * each: seconds from Established to all N in the RIB, and RSS bytes per route
 * (RSS after minus RSS before the session, over N). Ratios margay / BIRD.
 * N = 100k (and 1M with BENCH_FULL=1; BENCH_BGP_PREFIXES overrides). Times and RSS
 * are medians of BENCH_REPS runs (default 3 up to 100k prefixes, 1 above), each a
 * fresh receiver process against the same loaded feeder. CPU seconds each receiver
 * used from its start to the full RIB are reported too (a receiver that waits on
 * the feeder shows CPU well below its wall time), and the feeder's own CPU over each
 * ingest. Each receiver starts only once the feeder is idle (bounded wait), so the
 * first one does not inherit the feeder's post-load work. The memory line names the
 * Node flags the measured speaker process ran with.
 */
import { readFile } from 'node:fs/promises';
import type { Emit } from '../run.js';
import { netStar } from '../../support/daemons/netstar.js';
import { gobgp, gobgpConfig } from '../../support/daemons/gobgp.js';
import { bird } from '../../support/daemons/bird.js';
import { margaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';
import { birdProtocolRoutes, birdSince, cpuSeconds, loadGoBgp, workerPid, POLL_MS, prefixCounts, round, rssBytes, skipReason, whenCount } from './feeder.js';

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

/**
 * Waits (bounded) until the feeder is idle: right after the MRT load, or after
 * sending a full table, GoBGP still collects garbage for a while, and whichever
 * receiver came first would pay for it.
 */
async function feederQuiet(pid: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const c0 = await cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 500));
    if (await cpuSeconds(pid) - c0 < 0.03) return;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

export async function run(emit: Emit): Promise<void> {
  const why = skipReason();
  if (why) {
    process.stderr.write(`bench bgp/ingest skipped: ${why}\n`);
    return;
  }
  for (const n of prefixCounts()) await once(emit, n);
}

async function once(emit: Emit, n: number): Promise<void> {
  const star = await netStar([81, 82]);
  const [lm, lb] = star.leaves as [typeof star.leaves[0], typeof star.leaves[0]];
  const stops: (() => Promise<void>)[] = [];
  try {
    const g = await gobgp(star.centre, gobgpConfig(65100, lm.centreV4, [
      { address: lm.v4, asn: 65001, passive: true }, { address: lb.v4, asn: 65002, passive: true },
    ]));
    stops.push(() => g.stop());
    const total = await loadGoBgp(g, n, '0.0.0.0', 65100); // 0.0.0.0: GoBGP puts its own session address
    const timeout = 60_000 + n * 0.2;
    const gPid = await workerPid(g.pid);
    const gCpus: number[][] = [[], []]; // feeder CPU over margay's, BIRD's ingest

    const reps = Number(process.env.BENCH_REPS ?? (n <= 100_000 ? 3 : 1));
    const mTimes: number[] = [];
    const mPers: number[] = [];
    const bTimes: number[] = [];
    const bPers: number[] = [];
    const mCpus: number[] = [];
    const bCpus: number[] = [];
    let mRss1 = 0;
    let bRss1 = 0;
    let mLoc = 0;
    let mFlags: string[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // margay
      await feederQuiet(gPid);
      let g0 = await cpuSeconds(gPid);
      const m = await margaySpeaker(lm.ns, {
        asn: 65001, routerId: lm.v4, listen: false, neighbors: [{ address: lm.centreV4, asn: 65100 }],
      }, { logLevel: 'warn' });
      stops.push(() => m.stop());
      const mPid = await workerPid(m.pid);
      mFlags = await nodeFlags(mPid);
      const mRss0 = await rssBytes(mPid);
      const mCpu0 = await cpuSeconds(mPid);
      const mDone = await whenCount('margay ingest', async () => (await m.status()).peers[0]?.received ?? 0, total, timeout);
      const st = await m.status();
      mTimes.push((mDone - Date.parse(st.peers[0]?.since ?? '')) / 1000);
      mRss1 = await rssBytes(mPid);
      mCpus.push(await cpuSeconds(mPid) - mCpu0);
      gCpus[0]?.push(await cpuSeconds(gPid) - g0);
      mPers.push((mRss1 - mRss0) / total);
      mLoc = st.locRib.total;
      await m.stop();
      stops.pop();

      // BIRD
      await feederQuiet(gPid);
      g0 = await cpuSeconds(gPid);
      const b = await bird(lb.ns, `router id ${lb.v4};
protocol device {}
protocol bgp feed { local ${lb.v4} as 65002; neighbor ${lb.centreV4} as 65100; ipv4 { import all; export none; }; }
`);
      stops.push(() => b.stop());
      const bRss0 = await rssBytes(b.pid);
      const bCpu0 = await cpuSeconds(b.pid);
      const bDone = await whenCount('BIRD ingest', () => birdProtocolRoutes(b, 'feed'), total, timeout);
      bTimes.push((bDone - await waitFor('BIRD since', () => birdSince(b, 'feed'), 5000)) / 1000);
      bRss1 = await rssBytes(b.pid);
      bCpus.push(await cpuSeconds(b.pid) - bCpu0);
      gCpus[1]?.push(await cpuSeconds(gPid) - g0);
      bPers.push((bRss1 - bRss0) / total);
      await b.stop();
      stops.pop();
    }

    const margayS = median(mTimes);
    const birdS = median(bTimes);
    const mPer = median(mPers);
    const bPer = median(bPers);
    emit({
      bench: 'bgp/ingest', prefixes: total, feeder: 'gobgp', poll_ms: POLL_MS, runs: reps,
      margay_s: round(margayS), bird_s: round(birdS), ratio_margay_vs_bird: round(margayS / birdS, 2),
      margay_runs_s: mTimes.map((x) => round(x)), bird_runs_s: bTimes.map((x) => round(x)), margay_locrib: mLoc,
      // CPU used by each receiver over its ingest (includes answering the progress polls)
      margay_cpu_s: round(median(mCpus), 2), bird_cpu_s: round(median(bCpus), 2),
      // the feeder's CPU while it sent to each (both idle receivers → the feeder bounds the time)
      feeder_cpu_margay_s: round(median(gCpus[0] ?? []), 2), feeder_cpu_bird_s: round(median(gCpus[1] ?? []), 2),
    });
    emit({
      bench: 'bgp/memory', prefixes: total,
      margay_rss_bytes_per_route: Math.round(mPer), bird_rss_bytes_per_route: Math.round(bPer),
      ratio_margay_vs_bird: round(mPer / bPer, 2), margay_rss_mb: round(mRss1 / 2 ** 20, 1), bird_rss_mb: round(bRss1 / 2 ** 20, 1),
      margay_node_flags: mFlags.join(' '), // the V8/Node flags the measured speaker process really ran with
    });
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await star.destroy();
  }
}

/**
 * Shared pieces of the BGP benchmarks: skip checks, a GoBGP feeder loaded from an
 * MRT file, BIRD and margay progress probes and stamps, RSS and CPU readings.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRoot } from '../../../agent/lab/netns.js';
import { haveBird, type Bird } from '../../support/daemons/bird.js';
import { haveGoBgp, type GoBgp } from '../../support/daemons/gobgp.js';
import { sleep } from '../../support/daemons/common.js';
import { writeMrt } from '../../support/daemons/mrt.js';
import { cpuSecondsOf, onlyChild, rssBytesOf } from '../proc.js';

export const POLL_MS = 100;

/** The reason the BGP benches cannot run here, or undefined. */
export function skipReason(): string | undefined {
  if (!isRoot()) return 'needs root (network namespaces)';
  if (!haveBird()) return 'needs bird2';
  if (!haveGoBgp()) return 'needs gobgpd';
  return undefined;
}

export function prefixCounts(): number[] {
  if (process.env.BENCH_BGP_PREFIXES) return [Number(process.env.BENCH_BGP_PREFIXES)];
  return process.env.BENCH_FULL === '1' ? [100_000, 1_000_000] : [100_000];
}

export async function gobgpRibCount(g: GoBgp): Promise<number> {
  const out = await g.cli(['global', 'rib', 'summary', '-a', 'ipv4']);
  const m = /Destination:\s*(\d+)/.exec(out);
  return m ? Number(m[1]) : 0;
}

/**
 * Loads `count` prefixes into GoBGP's global RIB through `gobgp mrt inject`. The
 * 3.10 CLI may drop the tail of a streamed feed, so the feed is padded and the
 * RIB is trimmed to exactly `count` by waiting, then deleting any extra.
 */
export async function loadGoBgp(g: GoBgp, count: number, nextHop: string, peerAs: number): Promise<number> {
  const file = join(g.dir, 'feed.mrt');
  const pad = Math.min(2000, Math.ceil(count * 0.02) + 500);
  await writeMrt(file, { count: count + pad, nextHop, peerAs });
  await g.cli(['mrt', 'inject', 'global', file], { timeoutMs: 600_000 });
  let last = -1;
  for (let i = 0; i < 600; i++) {
    const n = await gobgpRibCount(g);
    if (n >= count && n === last) return n;
    last = n;
    await sleep(500);
  }
  throw new Error(`GoBGP holds ${last} prefixes, wanted at least ${count}`);
}

/**
 * The process that does the work: `pid` itself, or its only descendant when it is
 * a wrapper (the CLI re-runs itself under the project's Node when started by an
 * older one, so the harness's PID is then the wrapper, not the speaker).
 */
export async function workerPid(pid: number): Promise<number> {
  for (let depth = 0; depth < 3; depth++) {
    const child = onlyChild(pid);
    if (child === undefined) return pid;
    pid = child;
  }
  return pid;
}

export async function rssBytes(pid: number): Promise<number> {
  return rssBytesOf(pid);
}

/** CPU seconds (user + system) the process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  return cpuSecondsOf(pid);
}

/** Times the process's main thread went to sleep (voluntary context switches): its wake-ups so far. */
export async function wakeups(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /voluntary_ctxt_switches:\s*(\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** BIRD prints local time of day (hh:mm:ss.mmm): as ms since epoch, the nearest such time to `near`. */
function birdClock(m: RegExpExecArray, near: number): number {
  const d = new Date(near);
  d.setHours(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
  const t = d.getTime();
  const day = 86_400_000;
  return t - near > day / 2 ? t - day : near - t > day / 2 ? t + day : t;
}

/** BIRD's "since" of a protocol as ms since epoch (BIRD prints local time of day). */
export async function birdSince(b: Bird, proto: string): Promise<number | undefined> {
  const out = await b.birdc(`show protocols ${proto}`);
  const line = out.split('\n').find((l) => l.startsWith(`${proto} `));
  if (!line || !line.includes('Established')) return undefined;
  const m = /(\d\d):(\d\d):(\d\d)\.(\d\d\d)/.exec(line);
  return m ? birdClock(m, Date.now()) : undefined;
}

/**
 * When BIRD imported the oldest and the newest route of a protocol (ms since epoch):
 * the route times in `show route protocol P` (the config must set `timeformat route
 * iso short ms`). Read once the ingest is over, so the dump costs the measurement nothing.
 */
export async function birdRouteTimes(b: Bird, proto: string, near: number): Promise<{ first: number; last: number }> {
  const out = await b.birdc(`show route protocol ${proto}`);
  const re = new RegExp(`\\[${proto} (\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d\\d\\d)`, 'g');
  let first = Infinity;
  let last = 0;
  for (let m = re.exec(out); m; m = re.exec(out)) {
    const t = birdClock(m, near);
    if (t < first) first = t;
    if (t > last) last = t;
  }
  if (last === 0) throw new Error(`no route times in BIRD's show route protocol ${proto}: ${out.slice(0, 300)}`);
  return { first, last };
}

export async function birdProtocolRoutes(b: Bird, proto: string): Promise<number> {
  const out = await b.birdc(`show route protocol ${proto} count`);
  const m = /(\d+) of \d+ routes/.exec(out) ?? /(\d+) routes/.exec(out);
  return m ? Number(m[1]) : 0;
}

/** Polls until `probe` ≥ want; returns the time it was first seen (ms epoch). */
export async function whenCount(what: string, probe: () => Promise<number>, want: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = 0;
  while (Date.now() < deadline) {
    n = await probe().catch(() => 0);
    if (n >= want) return Date.now();
    await sleep(POLL_MS);
  }
  throw new Error(`${what}: ${n} of ${want} after ${timeoutMs} ms`);
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

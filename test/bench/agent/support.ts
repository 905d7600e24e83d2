/**
 * Shared pieces of the agent benchmarks: a route monitor in a namespace (`ip monitor
 * route`, one long-lived process, so waiting costs no process start), a ping that
 * resolves at the first reply, percentiles, and per-process CPU/RSS from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpuSecondsOf, reexecChild, rssBytesOf } from '../proc.js';

export const QUICK = process.env.BENCH_QUICK === '1';

export function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return +(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number).toFixed(2);
}

export const round = (x: number, d = 2): number => +x.toFixed(d);

export interface RouteMonitor {
  /** resolves with performance.now() when a route line for `prefix` appears (not a deletion) */
  next(prefix: string, timeoutMs: number): Promise<number>;
  stop(): void;
}

/**
 * `ip monitor route` inside ns; next(prefix) resolves when an added route line for
 * it appears. By default a line is stamped on arrival here (performance.now());
 * with `stamped`, ip stamps it itself (`ip -ts`: wall clock ms, µs resolution), so
 * this process being busy cannot squeeze two stamps together — then only the
 * difference of two such stamps means anything.
 */
export async function routeMonitor(ns: string, opts: { stamped?: boolean } = {}): Promise<RouteMonitor> {
  const args = ['-n', ns, ...(opts.stamped ? ['-ts'] : []), '-4', 'monitor', 'route'];
  const child: ChildProcess = spawn('ip', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const seen = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    const arrival = performance.now();
    buf += d.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let t = arrival;
      if (opts.stamped) {
        // `[2026-01-01T10:00:00.123456] 10.0.0.0/29 via …`
        const ts = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?\] /.exec(line);
        if (!ts) continue;
        t = Date.parse(`${ts[1] as string}Z`) + Number(`0${ts[2] ?? ''}`) * 1000;
        line = line.slice(ts[0].length);
      }
      if (line.startsWith('Deleted')) continue;
      // a usable route: `PREFIX via ...`/`PREFIX dev ...`, or an own block's blackhole (never `unreachable`)
      const m = /^(?:blackhole )?(\d+\.\d+\.\d+\.\d+\/\d+)(?= (?:via|dev|proto)| *$)/.exec(line);
      if (!m) continue;
      const prefix = m[1] as string;
      const w = waiters.get(prefix);
      if (w) { waiters.delete(prefix); w(t); } else if (!seen.has(prefix)) seen.set(prefix, t);
    }
  });
  await new Promise((r) => setTimeout(r, 100)); // the monitor is subscribed
  return {
    next(prefix, timeoutMs) {
      const already = seen.get(prefix);
      if (already !== undefined) { seen.delete(prefix); return Promise.resolve(already); }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(prefix); reject(new Error(`route ${prefix} did not appear in ${ns} within ${timeoutMs} ms`)); }, timeoutMs);
        waiters.set(prefix, (t) => { clearTimeout(timer); resolve(t); });
      });
    },
    stop() { child.kill('SIGTERM'); },
  };
}

/** Pings from ns every 2 ms until the first reply; resolves performance.now() of that reply. */
export function firstReply(ns: string, address: string, timeoutS = 10): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'ping', '-n', '-i', '0.002', '-w', String(timeoutS), '-c', '1', address], { stdio: ['ignore', 'pipe', 'ignore'] });
    let done = false;
    child.stdout.on('data', (d: Buffer) => {
      if (!done && d.toString('utf8').includes('bytes from')) { done = true; resolve(performance.now()); }
    });
    child.on('exit', () => { if (!done) reject(new Error(`${address} not reachable from ${ns} within ${timeoutS} s`)); });
  });
}

/** CPU time (user+system, ms) and RSS (MB) of an agent process (its re-run under the project's Node, if any: the wrapper idles). */
export function procStats(started: number): { cpuMs: number; rssMB: number } {
  const pid = reexecChild(started) ?? started;
  return { cpuMs: Math.round(cpuSecondsOf(pid) * 1000), rssMB: round(rssBytesOf(pid) / 2 ** 20, 1) };
}

export function summary(xs: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  return { n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) };
}

export interface WireArrivals {
  /** wall-clock ms (kernel capture stamps) of TCP segments with BGP payload above a KEEPALIVE's 19 bytes */
  readonly times: readonly number[];
  stop(): void;
}

/**
 * tcpdump on `dev` inside ns, incoming BGP segments from `src` only: when an UPDATE
 * reached the receiving node's kernel (the capture stamp), which splits "sender →
 * wire" from "wire → the receiver's kernel route" for any speaker.
 */
export async function wireArrivals(ns: string, dev: string, src: string): Promise<WireArrivals> {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-Q', 'in', '-tt', '-n', '-l', 'tcp', 'port', '179', 'and', 'src', 'host', src], { stdio: ['ignore', 'pipe', 'ignore'] });
  const times: number[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^(\d+\.\d+) .* length (\d+)/.exec(line);
      if (m && Number(m[2]) > 19) times.push(Number(m[1]) * 1000);
    }
  });
  await new Promise((r) => setTimeout(r, 300)); // tcpdump is capturing
  return { times, stop() { child.kill('SIGTERM'); } };
}

/**
 * One cold ingest in a fresh process, as a freshly started speaker meets its first
 * feed: `node [speaker V8 flags] dist/test/bench/bgp/ingest-cold.js` (not a bench
 * module: the runner's process is warm). Same feed and read path as
 * `bgp/ingest-core`; prints one JSON line: µs per prefix (wall and CPU), GC time
 * and count during the ingest (v8.GCProfiler), the first 5 % of the
 * prefixes apart (the cold start), and heap bytes per route live after a GC (with
 * --expose-gc). BENCH_BGP_PREFIXES (default 100k). Used to compare two builds side
 * by side (run each alternately).
 */
import { GCProfiler } from 'node:v8';
import { establish, feedBytes, ingest } from './ingest-core.bench.js';

const n = Number(process.env.BENCH_BGP_PREFIXES ?? 100_000);
const bytes = feedBytes(n);
// as the standalone speaker's heap looks: its module graph loaded (pino, yaml, the CLI), no forced GC before the feed
const asSpeaker = process.env.BENCH_BGP_AS_SPEAKER === '1';
if (asSpeaker) await import('../../../agent/cli/bgp-speaker.js');
// the speaker as it waits for its first session: set up, then idle a while
const { core, conn } = establish();
await new Promise((res) => setTimeout(res, 100));
const prof = new GCProfiler();
const gc = (globalThis as { gc?: () => void }).gc;
if (!asSpeaker) gc?.();
const h0 = process.memoryUsage().heapUsed;
let prefixes = 0;
let firstUs = -1;
prof.start();
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
function ingestAll(): void {
  ingest(core, conn, bytes, (m) => {
    if (m.type === 'UPDATE') prefixes += m.nlri.length;
    if (firstUs < 0 && prefixes >= n / 20) firstUs = Number(process.hrtime.bigint() - t0) / 1000;
  });
}
ingestAll();
const t1 = process.hrtime.bigint();
const c1 = process.cpuUsage(c0);
const gcStats = prof.stop()?.statistics ?? [];
const gcMs = gcStats.reduce((a, e) => a + e.cost, 0) / 1000;
const gcs = gcStats.length;
const gcTypes: Record<string, number> = {};
for (const e of gcStats) gcTypes[e.gcType] = (gcTypes[e.gcType] ?? 0) + 1;
if (core.status(1).locRib.total !== n) throw new Error('lost routes');
gc?.();
const perRoute = (process.memoryUsage().heapUsed - h0) / n;
const wallUs = Number(t1 - t0) / 1000;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
process.stdout.write(`${JSON.stringify({
  prefixes: n, us_per_prefix: r3(wallUs / n), cpu_us_per_prefix: r3((c1.user + c1.system) / n),
  first5pct_us_per_prefix: r3(firstUs / (n / 20)), rest_us_per_prefix: r3((wallUs - firstUs) / (n - n / 20)),
  gc_ms: r3(gcMs), gcs, gc_types: gcTypes, wall_ms: r3(wallUs / 1000), heap_bytes_per_route: Math.round(perRoute),
})}\n`);

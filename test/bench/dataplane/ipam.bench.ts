/**
 * IPAM allocation rate: 4 agent processes allocating at once on one FileIpamStore
 * over a /16 pool (blocks of /26), vs one process alone, and the in-memory store
 * in-process (the allocator's own cost); and N nodes claiming their first block at
 * once (BENCH_QUICK=1: 50 only) on an in-memory store behind 1–3 ms of latency: block
 * listings and create conflicts. JSON lines via run(emit).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ipam } from '../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../agent/ipam/store.js';
import { slowIpamStore } from '../../support/slow-ipam-store.js';
import type { Emit } from '../run.js';

const here = dirname(fileURLToPath(import.meta.url));
const WORKER = join(here, '..', '..', 'unit', 'agent', 'ipam', 'fixtures', 'alloc-worker.js');
const POOL = '10.128.0.0/16';
const PER_AGENT = 2000;
const QUICK = process.env.BENCH_QUICK === '1';

interface Out { node: string; held: string[]; ms: number }

function worker(dir: string, node: string, count: number): Promise<Out> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [WORKER, dir, node, String(count), POOL, '26'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => c.kill('SIGKILL'), 300_000);
    c.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as Out);
      else reject(new Error(`alloc-worker ${node} exited ${code}: ${err.slice(0, 500)}`));
    });
  });
}

async function agents(n: number, base: string): Promise<{ total: number; seconds: number; slowestMs: number; unique: boolean }> {
  const dir = mkdtempSync(join(base, 'margay-ipam-bench-'));
  try {
    const t0 = performance.now();
    const outs = await Promise.all(Array.from({ length: n }, (_, i) => worker(dir, `node${i}`, PER_AGENT)));
    const seconds = (performance.now() - t0) / 1000;
    const all = outs.flatMap((o) => o.held);
    return { total: all.length, seconds, slowestMs: Math.max(...outs.map((o) => o.ms)), unique: new Set(all).size === all.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `n` allocators (one per node) each assigning one address at once; every store call waits 1–3 ms. */
async function stampede(n: number): Promise<{ ms: number; lists: number; conflicts: number; failed: number }> {
  // every list / keys call of a first assign is of blocks
  const { store, counts } = slowIpamStore();
  const pools = [{ name: 'p', spec: { cidr: POOL, blockSize: 26 } }];
  const t0 = performance.now();
  const res = await Promise.allSettled(Array.from({ length: n }, (_, i) => new Ipam({ store, node: `node${i}`, pools }).assign({ handle: `h${i}`, families: [4] })));
  return { ms: Math.round(performance.now() - t0), lists: counts.list + counts.keys, conflicts: counts.conflicts, failed: res.filter((r) => r.status === 'rejected').length };
}

export async function run(emit: Emit): Promise<void> {
  for (const n of QUICK ? [50] : [50, 200]) {
    const r = await stampede(n);
    emit({
      bench: `dataplane/ipam-claim-stampede-${n}-nodes`, pool: POOL, blockSize: 26, nodes: n, ms: r.ms, blockLists: r.lists, createConflicts: r.conflicts, failedAssigns: r.failed,
      note: 'first assign of n nodes at once, in-memory store with 1-3 ms per call; lists = block list/keys calls (each a full LIST on kubernetes)',
    });
  }
  if (!existsSync(WORKER)) throw new Error(`${WORKER} missing: build first (npm run build)`);
  // File creation costs ~1 ms on this machine's disk and ~15 µs on tmpfs; a node
  // would keep the store under /run (tmpfs), so both are measured.
  const bases: [string, string][] = [...(existsSync('/dev/shm') ? [['tmpfs', '/dev/shm'] as [string, string]] : []), ['disk', tmpdir()]];
  for (const [fs, base] of bases) for (const n of [1, 4]) {
    const r = await agents(n, base);
    if (!r.unique) throw new Error(`duplicate addresses handed out with ${n} agents`);
    emit({
      bench: `dataplane/ipam-file-store-${fs}-${n}-agent${n > 1 ? 's' : ''}`, pool: POOL, blockSize: 26, agents: n, fs,
      allocations: r.total, seconds: +r.seconds.toFixed(3), allocationsPerSecond: Math.round(r.total / (r.slowestMs / 1000)),
      note: 'rate over the slowest agent\'s allocation loop (process start excluded); every address checked unique',
    });
  }
  const ipam = new Ipam({ store: new MemoryIpamStore(), node: 'n', pools: [{ name: 'p', spec: { cidr: POOL, blockSize: 26 } }] });
  const count = 10_000;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await ipam.assign({ handle: `h${i}` });
  const s = (performance.now() - t0) / 1000;
  emit({ bench: 'dataplane/ipam-memory-store-1-agent', pool: POOL, allocations: count, seconds: +s.toFixed(3), allocationsPerSecond: Math.round(count / s) });
}

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileIpamStore } from '../../../../agent/ipam/file-store.js';
import { addrAt, parseCidr } from '../../../../agent/ipam/cidr.js';
import { REPO_ROOT } from '../../../support/cli.js';

// Several agent processes allocate at once on one FileIpamStore; the pool is small
// enough that blocks run out and agents borrow from each other.
const WORKER = join(REPO_ROOT, 'dist', 'test', 'unit', 'agent', 'ipam', 'fixtures', 'alloc-worker.js');

interface WorkerOut { node: string; held: string[]; released: string[]; ms: number }

function runWorker(args: string[]): Promise<WorkerOut> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as WorkerOut);
      else reject(new Error(`worker ${args[1]} exited ${code}: ${err}`));
    });
  });
}

const built = existsSync(WORKER);
/** when the worker is not built the tests skip, and their titles say why */
const NEEDS_BUILD = built ? '' : ` (skipped: needs the build ${WORKER}; run npx tsc -p tsconfig.json)`;

describe('IPAM across processes (FileIpamStore)', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it.runIf(built)(`4 processes never get the same address, and nothing leaks${NEEDS_BUILD}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-ipam-conc-'));
    dirs.push(dir);
    // 128 addresses in 8 blocks of 16; 4 × 40 assignments, every other one released:
    // 80 held at the end, with claims, borrowing and releases racing.
    const outs = await Promise.all(['a', 'b', 'c', 'd'].map((n) => runWorker([dir, n, '40', '10.9.0.0/25', '28', 'release'])));
    const held = outs.flatMap((o) => o.held);
    expect(held).toHaveLength(80);
    expect(new Set(held).size).toBe(80);
    const store = new FileIpamStore(dir);
    const inBlocks: string[] = [];
    for (const { value: b } of await store.list('block')) {
      const c = parseCidr(b.cidr);
      b.allocations.forEach((h, i) => { if (h !== null) inBlocks.push(addrAt(c, i)); });
    }
    expect(inBlocks.sort()).toEqual([...held].sort());
    const handles = await store.list('handle');
    expect(handles).toHaveLength(80);
    expect(handles.flatMap((h) => h.value.addresses.map((a) => a.address)).sort()).toEqual([...held].sort());
  });

  it.runIf(built)(`an agent killed mid-allocation blocks nobody; its half-written state is consistent${NEEDS_BUILD}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-ipam-kill-'));
    dirs.push(dir);
    // A /20 leaves room for the survivor however fast the victim runs; it is killed
    // once it has demonstrably been allocating (a fixed sleep raced its speed).
    const victim = spawn(process.execPath, [WORKER, dir, 'victim', '100000', '10.10.0.0/20', '28'], { stdio: 'ignore' });
    const handles = (): number => { try { return readdirSync(join(dir, 'handle')).length; } catch { return 0; } };
    for (let i = 0; i < 200 && handles() < 40; i++) await new Promise((r) => setTimeout(r, 25));
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    // Whatever lock it held belongs to a dead pid: the next agent breaks it at once.
    const t0 = performance.now();
    const after = await runWorker([dir, 'survivor', '30', '10.10.0.0/20', '28']);
    expect(after.held).toHaveLength(30);
    expect(performance.now() - t0).toBeLessThan(20_000);
    const store = new FileIpamStore(dir);
    const owners = new Map<string, string>();
    for (const { value: b } of await store.list('block')) {
      const c = parseCidr(b.cidr);
      b.allocations.forEach((h, i) => {
        if (h === null) return;
        const a = addrAt(c, i);
        expect(owners.has(a), `${a} held twice`).toBe(false);
        owners.set(a, h);
      });
    }
    for (const a of after.held) expect(owners.get(a)).toMatch(/^survivor-/);
    // Every handle record points at an address its block gives to that handle.
    for (const { value: h } of await store.list('handle')) {
      for (const a of h.addresses) expect(owners.get(a.address)).toBe(h.handle);
    }
  });

});

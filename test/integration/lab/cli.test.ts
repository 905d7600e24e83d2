import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNetns, listNetns, addNetns, newRunPrefix } from '../../../agent/lab/netns.js';
import { isRecordedProcessAlive, processStartTime } from '../../../agent/lab/processes.js';
import { labDownAll } from '../../../agent/lab/teardown.js';
import { margay, REPO_ROOT } from '../../support/cli.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

if (needsRoot) console.warn(`test/integration/lab/cli.test.ts skipped: ${ROOT_SKIP_REASON}`);

const FIXTURE = join(REPO_ROOT, 'dist', 'test', 'integration', 'lab', 'crash-fixture.js');

/** Runs the crash fixture, waits for "ready", SIGKILLs it: a lab left behind by a crash. */
async function crashedLab(stateRoot: string): Promise<{ prefix: string; pid: number; startTime: string }> {
  const child = spawn(process.execPath, [FIXTURE, stateRoot], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`fixture not ready: ${buf}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) {
        clearTimeout(timer);
        resolve(buf.split('\n')[0] as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`fixture exited ${code}: ${buf}`)));
  });
  const [, prefix, pid] = line.split(' ');
  const startTime = processStartTime(Number(pid)) ?? '';
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  return { prefix: prefix as string, pid: Number(pid), startTime };
}

describe.skipIf(needsRoot)('margay lab on the command line (needs root)', () => {
  let stateRoot = '';
  const env = () => ({ MARGAY_LAB_STATE_DIR: stateRoot });
  const leftovers: string[] = [];
  beforeAll(async () => {
    stateRoot = await mkdtemp(join(tmpdir(), 'margay-lab-cli-'));
  });
  afterAll(async () => {
    // Belt and braces: whatever a failed assertion left behind.
    const all = await listNetns();
    for (const p of leftovers) for (const ns of all.filter((n) => n.startsWith(p))) await deleteNetns(ns);
    await rm(stateRoot, { recursive: true, force: true });
  });

  it('lab up builds a lab, prints how to enter it, and lab down removes it', async () => {
    const up = margay(['lab', 'up', '--nodes', '3', '--pods', '1'], { env: env() });
    expect(up.status, up.stderr).toBe(0);
    const prefix = /lab (mg[0-9a-f]+):/.exec(up.stdout)?.[1];
    expect(prefix).toBeDefined();
    leftovers.push(`${prefix}-`);
    expect(up.stdout).toContain(`ip netns exec ${prefix}-n1`);
    expect(up.stdout).toMatch(/node n3 +\S+ +172\.30\.0\.13/);
    expect(up.stderr).toMatch(/^lab: node n2 /m);
    expect(up.stdout).toMatch(/pod n3\/pod1 +\S+ +10\.244\.3\.2 /);
    expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`)).sort()).toEqual(
      [`${prefix}-fabric`, `${prefix}-n1`, `${prefix}-n1-pod1`, `${prefix}-n2`, `${prefix}-n2-pod1`, `${prefix}-n3`, `${prefix}-n3-pod1`],
    );
    const down = margay(['lab', 'down'], { env: env() });
    expect(down.status, down.stderr).toBe(0);
    expect(down.stdout).toContain(`lab ${prefix}: deleted 7 namespaces`);
    expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
    const again = margay(['lab', 'down'], { env: env() });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('no lab started by');
  });

  it('lab down --prefix cleans up after a crashed run: its process by PID, its namespaces', async () => {
    const crash = await crashedLab(stateRoot);
    leftovers.push(crash.prefix);
    expect(isRecordedProcessAlive(crash)).toBe(true);
    expect((await listNetns()).filter((n) => n.startsWith(crash.prefix))).toHaveLength(4);
    // A plain `lab down` leaves labs built by programs (tests) alone.
    expect(margay(['lab', 'down'], { env: env() }).stdout).toContain('no lab started by');
    const down = margay(['lab', 'down', '--prefix', crash.prefix.slice(0, -1)], { env: env() });
    expect(down.status, down.stderr).toBe(0);
    expect(down.stdout).toContain('deleted 4 namespaces, stopped 1 processes');
    expect(isRecordedProcessAlive(crash)).toBe(false);
    expect((await listNetns()).filter((n) => n.startsWith(crash.prefix))).toEqual([]);
    expect(await readdir(stateRoot)).toEqual([]);
    const none = margay(['lab', 'down', '--prefix', crash.prefix.slice(0, -1)], { env: env() });
    expect(none.status).toBe(1);
  });

  it('down --all removes recorded labs and unrecorded leftovers (scoped here to this test\'s own prefixes)', async () => {
    const crash = await crashedLab(stateRoot);
    const stray = newRunPrefix();
    leftovers.push(crash.prefix, stray);
    await addNetns(`${stray}n1`);
    const mine = (ns: string) => ns.startsWith(crash.prefix) || ns.startsWith(stray);
    const reports = await labDownAll(stateRoot, undefined, mine);
    expect(reports.map((r) => r.deleted.length)).toEqual([4, 1]);
    expect(isRecordedProcessAlive(crash)).toBe(false);
    expect((await listNetns()).filter(mine)).toEqual([]);
  });

  it('lab demo builds, pings, summarises and leaves nothing behind', async () => {
    const demo = margay(['lab', 'demo'], { env: env(), timeoutMs: 120_000 });
    expect(demo.status, demo.stdout + demo.stderr).toBe(0);
    expect(demo.stdout).toContain('demo: every check passed');
    expect(demo.stdout.match(/^ {2}ok {3}n\d → n\d /gm)).toHaveLength(12);
    expect(demo.stdout).not.toContain('FAIL');
    const prefix = /lab (mg[0-9a-f]+):/.exec(demo.stdout)?.[1] as string;
    leftovers.push(`${prefix}-`);
    expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
  });
});

/**
 * SIGTERM while the agent is still starting: its first datastore list retries until
 * the API server answers (here nothing listens at all), and the signal must abort
 * that start, run the normal stop path and exit promptly with the code of a signal
 * stop (0), saying the start was aborted. As PID 1 of a PID namespace (the agent's
 * container) a signal with no handler installed is dropped by the kernel, so a
 * handler installed only after start() left `kubectl delete pod` waiting for the
 * whole grace period and its SIGKILL; outside one the default action killed the
 * process before the stop path ran.
 *
 * The plain case needs no root. As root, every agent runs in a network namespace
 * of its own (lo up, so 127.0.0.1:1 refuses inside it), and the PID-1 case runs
 * it under `unshare --pid --fork`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNetns, deleteNetns, newRunPrefix } from '../../../agent/lab/netns.js';
import { MARGAY_JS } from '../../support/cli.js';
import { needsRoot, requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';

const needs = requirements({ built: [MARGAY_JS], file: import.meta.url });
const rootNeeds = requirements({ root: true, built: [MARGAY_JS], file: import.meta.url });

interface Started {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

describe.skipIf(needs.skip)(`agent: SIGTERM during start (first datastore list failing) aborts it and exits 0 (${needs.why})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-start-abort-'));
  const ns = `${newRunPrefix()}abort`;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!needsRoot) await addNetns(ns);
  }, 20_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill('SIGKILL');
    if (!needsRoot) await deleteNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  /** The agent against an API server that refuses; `wrap` prefixes the command (netns, unshare). */
  function startAgent(name: string, wrap: string[]): Started {
    const run = join(dir, name);
    const argv = [
      ...wrap, process.execPath, MARGAY_JS, 'agent', '--node', name, '--datastore', 'kubernetes', '--kube-server', 'http://127.0.0.1:1',
      '--cni-socket', '', '--health-port', '0', '--run-dir', run, '--status-socket', join(run, 'agent.sock'), '--ip-forwarding', 'off',
    ];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MARGAY_LOG_LEVEL: 'info' } });
    children.push(child);
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
    });
    return { child, stderr: () => err, exited };
  }

  /** SIGTERM to `pid` once the first list has failed at least once and ~1 s has passed; exit within 2 s. */
  async function termDuringStart(a: Started, pid: () => number | undefined): Promise<void> {
    await waitFor(() => /failed; retrying/.test(a.stderr()), 15_000, 'the first datastore list failing (still starting)', 50);
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.stderr()).not.toMatch(/agent started/);
    const target = pid();
    expect(target).toBeGreaterThan(1);
    process.kill(target as number, 'SIGTERM');
    const sent = Date.now();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2000).unref());
    const done = await Promise.race([a.exited, timeout]);
    if (done === 'timeout') throw new Error(`the agent did not exit within 2 s of SIGTERM; stderr:\n${a.stderr().slice(-2000)}`);
    expect({ code: done.code, signal: done.signal }).toEqual({ code: 0, signal: null });
    expect(done.at - sent).toBeLessThan(2000);
    const log = a.stderr();
    expect(log).toMatch(/"signal":"SIGTERM"[^\n]*start aborted/);
    expect(log).toMatch(/agent stopped/);
    expect(log).not.toMatch(/agent started|agent cannot start|uncaught|unhandled/);
  }

  it('as an ordinary process: exits 0 within 2 s, logging the aborted start and the stop', async () => {
    const a = startAgent('n1', needsRoot ? [] : ['ip', 'netns', 'exec', ns]);
    await termDuringStart(a, () => a.child.pid);
    expect(existsSync(join(dir, 'n1', 'agent.sock'))).toBe(false);
  }, 30_000);

  it.skipIf(rootNeeds.skip)(`as PID 1 of its own PID namespace (the container): the signal is not dropped (${rootNeeds.why})`, async () => {
    const a = startAgent('n2', ['ip', 'netns', 'exec', ns, 'unshare', '--pid', '--fork', '--kill-child']);
    // unshare forks the agent: PID 1 inside, its child here
    const agentPid = (): number | undefined => {
      const outer = a.child.pid;
      if (outer === undefined) return undefined;
      const kids = readFileSync(`/proc/${outer}/task/${outer}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '');
      return kids.length === 1 ? Number(kids[0]) : undefined;
    };
    await waitFor(() => agentPid(), 5000, 'the agent forked by unshare', 20);
    const nspid = readFileSync(`/proc/${agentPid() as number}/status`, 'utf8').match(/^NSpid:\s+(.*)$/m)?.[1]?.trim().split(/\s+/);
    expect(nspid?.at(-1)).toBe('1');
    await termDuringStart(a, agentPid);
  }, 30_000);
});

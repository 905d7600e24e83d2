/**
 * `margay …` (every command; lab's teardowns above all) whose reader went away before it wrote (`margay lab probe
 * --print-model | head -0`, `lab down 2>&1 | head -1`): no unhandled EPIPE, the
 * command finishes its work and exits with its own code. The built CLI, its stdout
 * (and stderr) pipe closed by this end before the child starts.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, listNetns, newRunPrefix } from '../../../agent/lab/netns.js';
import { MARGAY_JS, REPO_ROOT } from '../../support/cli.js';
import { requirements } from '../../support/root.js';

interface Closed { code: number | null; signal: NodeJS.Signals | null; stderr: string }

/** Runs the built CLI with stdout (and, with `stderr: 'closed'`, stderr) closed from the start. */
function runClosed(args: string[], opts: { stderr?: 'closed' | 'read' } = {}): Promise<Closed> {
  const child = spawn(process.execPath, [MARGAY_JS, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  if (opts.stderr === 'closed') child.stderr.destroy();
  else child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`margay ${args.join(' ')}: no exit in 60 s`)); }, 60_000);
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stderr }); });
  });
}

const built = requirements({ built: [MARGAY_JS], file: import.meta.url });

describe.skipIf(built.skip)(`margay lab with its stdout closed (${built.why})`, () => {
  it('lab --help and lab down --help exit 0, without an EPIPE trace', async () => {
    for (const args of [['lab', '--help'], ['lab', 'down', '--help']]) {
      const r = await runClosed(args);
      expect(r.stderr, args.join(' ')).not.toContain('EPIPE');
      expect(r, args.join(' ')).toMatchObject({ code: 0, signal: null });
    }
  });

  it('every command\'s help (margay, agent, bgp, policy, status, validate) exits 0, without an EPIPE trace', async () => {
    for (const args of [['--help'], ['agent', '--help'], ['bgp', '--help'], ['policy', '--help'], ['status', '--help'], ['validate', '--help']]) {
      const r = await runClosed(args);
      expect(r.stderr, args.join(' ')).not.toContain('EPIPE');
      expect(r, args.join(' ')).toMatchObject({ code: 0, signal: null });
    }
  });

  it('lab probe --print-model (no root) exits 0, without an EPIPE trace', async () => {
    const r = await runClosed(['lab', 'probe', '--print-model', '--policies', join(REPO_ROOT, 'examples', 'policies')]);
    expect(r.stderr).not.toContain('EPIPE');
    expect(r).toMatchObject({ code: 0, signal: null });
  });
});

const rooted = requirements({ root: true, built: [MARGAY_JS], file: import.meta.url });

describe.skipIf(rooted.skip)(`margay lab down with stdout and stderr closed (${rooted.why})`, () => {
  const prefix = newRunPrefix();
  const namespaces = [`${prefix}n1`, `${prefix}fabric`];
  afterAll(async () => {
    for (const ns of namespaces) await deleteNetns(ns).catch(() => undefined);
  });

  it('lab down --prefix P still deletes the lab\'s namespaces and exits 0', async () => {
    for (const ns of namespaces) await addNetns(ns);
    const r = await runClosed(['lab', 'down', '--prefix', prefix.replace(/-$/, '')], { stderr: 'closed' });
    expect((await listNetns()).filter((ns) => ns.startsWith(prefix))).toEqual([]);
    expect(r).toMatchObject({ code: 0, signal: null });
  });
});

/**
 * Shared plumbing of the daemon harness: a private temporary directory per daemon,
 * processes started inside a namespace (`ip netns exec` execs the program, so the
 * child's PID is the daemon's) and stopped by that PID, and a bounded poll.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { inNetns, start, stopProcess } from '../../../agent/lab/exec.js';

export interface Daemon {
  /** the directory holding config, sockets, pid and log files */
  dir: string;
  pid: number;
  /** stdout+stderr collected so far (bounded) */
  output(): string;
  stop(): Promise<void>;
}

export async function daemonDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `margay-${name}-`));
}

/** Starts argv inside `ns`; output is kept (last 1 MB) for assertions and failures. */
export function startInNetns(ns: string, argv: string[], dir: string, opts: { env?: NodeJS.ProcessEnv; keepDir?: boolean } = {}): Daemon {
  const child: ChildProcess = start(inNetns(ns, argv), { env: opts.env ?? process.env, cwd: dir });
  let out = '';
  const collect = (b: Buffer): void => {
    out += b.toString('utf8');
    if (out.length > 1 << 20) out = out.slice(-(1 << 20));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (err) => collect(Buffer.from(`spawn error: ${err.message}\n`)));
  if (child.pid === undefined) throw new Error(`could not start ${argv[0]}`);
  return {
    dir,
    pid: child.pid,
    output: () => out,
    async stop() {
      await stopProcess(child, 3000);
      if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value other than undefined/false, or throws after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await sleep(everyMs);
  }
}

/** Absolute path of a program, or undefined when it is not installed. */
export function which(program: string): string | undefined {
  if (program.startsWith('/')) return existsSync(program) ? program : undefined;
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/usr/lib/frr', '/sbin'])) {
    const p = join(d, program);
    if (existsSync(p)) return p;
  }
  return undefined;
}

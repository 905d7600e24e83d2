import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** A command that exited non-zero: carries the command line and what it printed. */
export class ExecError extends Error {
  constructor(readonly argv: string[], readonly code: number | null, readonly stdout: string, readonly stderr: string) {
    super(`${argv.join(' ')} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`);
    this.name = 'ExecError';
  }
}

/** Runs a program (no shell) and resolves with its output; rejects with ExecError. */
export function run(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const code = typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : null;
        reject(new ExecError(argv, code, String(stdout), String(stderr) || err.message));
      } else {
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      }
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** argv that runs `argv` inside network namespace `ns`. */
export function inNetns(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** Starts a long-running process (stdio piped) and returns it; stop it with stopProcess. */
export function start(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('start: empty argv');
  return spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
}

/** Stops a process by its PID: SIGTERM, then SIGKILL after graceMs. Never by name. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

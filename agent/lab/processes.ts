import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { inNetns } from './exec.js';

/**
 * Processes started inside lab namespaces, tracked by PID.
 *
 * A process runs as `ip netns exec NS argv...`; `ip` execs the program, so the PID
 * we get is the program's own. Its stdout and stderr go straight to a log file (not
 * through this process), so it keeps running — and keeps logging — if the process
 * that started it exits (as `margay lab up` will need) or crashes. Each record carries the PID
 * and the kernel's start time of that PID (/proc/PID/stat field 22): a later
 * `margay lab down` signals the PID only if both still match, so a recycled PID
 * belonging to something else is never touched. Nothing is ever stopped by name.
 * Programs must stay in the foreground (no self-daemonizing), or their PID is lost.
 */
export interface ProcessRecord {
  name: string;
  ns: string;
  argv: string[];
  pid: number;
  /** /proc/PID/stat starttime (clock ticks since boot), '' if unreadable. */
  startTime: string;
  logFile: string;
}

export interface TrackedProcess extends ProcessRecord {
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  readonly child: ChildProcess;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Own process group and not waited for: outlives the caller (as `lab up` will need). */
  detached?: boolean;
}

/** Starts argv inside `ns` with stdout+stderr appended to logFile. */
export async function startInNetns(ns: string, name: string, argv: string[], logFile: string, opts: StartOptions = {}): Promise<TrackedProcess> {
  if (argv.length === 0) throw new Error('startProcess: empty argv');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    const [file, ...args] = inNetns(ns, argv) as [string, ...string[]];
    child = spawn(file, args, { stdio: ['ignore', fd, fd], env: opts.env ?? process.env, cwd: opts.cwd, detached: opts.detached ?? false });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (err) => reject(new Error(`cannot start ${argv.join(' ')} in ${ns}: ${err.message}`)));
  });
  if (child.pid === undefined) throw new Error(`cannot start ${argv.join(' ')} in ${ns}: no PID`);
  if (opts.detached) child.unref();
  return { name, ns, argv, pid: child.pid, startTime: processStartTime(child.pid) ?? '', logFile, exited, child };
}

/** Fields 3.. of /proc/PID/stat (state first), or undefined when the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined when gone. */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/**
 * True while `pid` runs and is still the process recorded (same start time). A
 * zombie (exited, not yet reaped by its parent or by init) counts as gone.
 */
export function isRecordedProcessAlive(rec: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  const f = statFields(rec.pid);
  if (f === undefined || f[0] === 'Z') return false;
  return rec.startTime === '' || f[19] === rec.startTime;
}

/**
 * Stops a tracked process: SIGTERM, SIGKILL after graceMs, and waits (bounded) until
 * it is gone. Works for our own children and for records left by another process.
 * Returns how it ended: 'gone' (was not running or not the recorded process),
 * 'terminated' or 'killed'.
 */
export async function stopRecorded(rec: ProcessRecord & { child?: ChildProcess }, graceMs = 3000): Promise<'gone' | 'terminated' | 'killed'> {
  const child = rec.child;
  if (child && (child.exitCode !== null || child.signalCode !== null)) return 'gone';
  if (!isRecordedProcessAlive(rec)) return 'gone';
  signal(rec.pid, 'SIGTERM');
  if (await waitGone(rec, child, graceMs)) return 'terminated';
  signal(rec.pid, 'SIGKILL');
  if (await waitGone(rec, child, 5000)) return 'killed';
  throw new Error(`process ${rec.name} (PID ${rec.pid}) did not exit after SIGKILL`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(rec: ProcessRecord, child: ChildProcess | undefined, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child ? child.exitCode !== null || child.signalCode !== null : !isRecordedProcessAlive(rec)) return true;
    await sleep(25);
  }
  return false;
}

/** Waits until the process's log matches `pattern` (polling, bounded); returns the log text. */
export async function waitForLog(logFile: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await readFile(logFile, 'utf8').catch(() => '');
    if (pattern.test(text)) return text;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in ${logFile}:\n${text.slice(-2000)}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

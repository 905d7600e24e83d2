/** Runs a process with `stdin` written and closed; its output, exit code and wall time (killed after `timeoutMs`). */
import { spawn } from 'node:child_process';

export interface Ran { code: number | null; stdout: string; stderr: string; ms: number }

export function runWithStdin(argv: readonly string[], env: Record<string, string>, stdin: string, timeoutMs: number): Promise<Ran> {
  const t0 = performance.now();
  const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin.on('error', () => undefined);
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr, ms: performance.now() - t0 });
  }));
}

/** stdout as one JSON object; undefined when empty, `onBad(stdout)` when it is not JSON. */
export function jsonOut(stdout: string, onBad: (s: string) => Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!stdout.trim()) return undefined;
  try {
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    return onBad(stdout);
  }
}

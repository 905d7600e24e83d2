import { execFile } from 'node:child_process';
import { resolveTool, toolArgv, type ToolResolver } from './tool-path.js';

/**
 * The narrow interface through which the apply layer runs kernel tools
 * (iptables-restore, ip6tables-restore, iptables-save, ipset). Tests inject a
 * recorder or a fault injector; production uses `hostExec`, optionally inside a
 * network namespace (`ip netns exec NS ...`). hostExec runs each tool by its
 * absolute path (tool-path.ts: looked up in PATH once, then cached), never by
 * bare name; a missing tool rejects with ToolMissing.
 */
export interface Exec {
  run(argv: string[], input?: string): Promise<{ stdout: string; stderr: string }>;
}

export class ExecFailure extends Error {
  constructor(readonly argv: string[], readonly code: number | null, readonly stderr: string) {
    super(`${argv.join(' ')} failed (exit ${code}): ${stderr.trim()}`);
    this.name = 'ExecFailure';
  }
}

export function hostExec(opts: { netns?: string; timeoutMs?: number; resolve?: ToolResolver } = {}): Exec {
  const resolveFile = opts.resolve ?? resolveTool;
  return {
    run(argv, input) {
      let full: string[];
      try {
        full = toolArgv(argv, opts.netns, resolveFile);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      const [file, ...args] = full;
      return new Promise((resolve, reject) => {
        const child = execFile(file as string, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
          if (err) {
            const code = typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
            reject(new ExecFailure(argv, code, String(stderr) || err.message));
          } else resolve({ stdout: String(stdout), stderr: String(stderr) });
        });
        child.stdin?.on('error', () => undefined);
        if (input !== undefined) child.stdin?.end(input);
        else child.stdin?.end();
      });
    },
  };
}

import { execFile } from 'node:child_process';

/**
 * The narrow interface through which the apply layer runs kernel tools
 * (iptables-restore, ip6tables-restore, iptables-save, ipset). Tests inject a
 * recorder or a fault injector; production uses `hostExec`, optionally inside a
 * network namespace (`ip netns exec NS ...`).
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

export function hostExec(opts: { netns?: string; timeoutMs?: number } = {}): Exec {
  return {
    run(argv, input) {
      const full = opts.netns === undefined ? argv : ['ip', 'netns', 'exec', opts.netns, ...argv];
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

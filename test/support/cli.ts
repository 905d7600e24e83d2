import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MARGAY_JS = join(repo, 'dist', 'agent', 'cli', 'margay.js');
export const MARGAY_CNI_JS = join(repo, 'dist', 'agent', 'cni', 'margay-cni.js');
export const REPO_ROOT = repo;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `margay` CLI with the current Node binary (tests run after `npm run build`). */
export function margay(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [MARGAY_JS, ...args], {
    input: opts.input,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The oldest Node.js margay's dependencies run on (undici 8, client-node 2). */
export const MIN_NODE_MAJOR = 22;

/**
 * margay targets Node 24, which the project brings as a dependency (the npm
 * package `node`). When the CLI is started by an older system Node (Debian's, or
 * `node dist/...` outside `npm run`), it runs itself again under that Node so the
 * same command works either way. Returns the child's exit code, or undefined when
 * the current Node is recent enough (or no project Node is installed: then the
 * command runs here and fails with the dependency's own message).
 */
export async function reexecUnderProjectNode(argv: string[]): Promise<number | undefined> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_NODE_MAJOR || process.env.MARGAY_NO_REEXEC === '1') return undefined;
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/agent/cli → the project root's node_modules/node/bin/node
  const candidate = join(here, '..', '..', '..', 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(candidate)) {
    process.stderr.write(`margay: Node ${process.versions.node} is too old (need ${MIN_NODE_MAJOR}+); run 'npm ci' to install the project's Node 24\n`);
    return undefined;
  }
  const child = spawn(candidate, [fileURLToPath(new URL('./margay.js', import.meta.url)), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, MARGAY_NO_REEXEC: '1' },
  });
  // Whoever stops this process by its PID (a lab, a supervisor) stops the real one.
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const handlers = signals.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 143));
    });
  });
}

#!/usr/bin/env node
import { commands } from './commands/index.js';
import { UsageError } from './usage-error.js';
import { wantsHelp } from './args.js';
import { initLogging } from '../log.js';
import { reexecUnderProjectNode } from './runtime-node.js';
import { ignoreEpipe } from '../lab/pipe-safe.js';

const TOP_USAGE = `usage: margay <command> [flags]

Kubernetes networking: BGP, IPIP/VXLAN overlay and NetworkPolicy enforcement.

commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

global flags:
  --log-level LEVEL   fatal|error|warn|info|debug|trace (env MARGAY_LOG_LEVEL; default info)
  -h, --help          show help; 'margay <command> --help' for a command

Logs are JSON lines on stderr; command output goes to stdout.`;

/** Pulls the global --log-level flag out of argv wherever it appears. */
function takeLogLevel(argv: string[]): { level?: string; rest: string[] } {
  const rest: string[] = [];
  let level: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--log-level') {
      level = argv[++i];
      if (level === undefined) throw new UsageError('--log-level needs a value', TOP_USAGE);
    } else if (a.startsWith('--log-level=')) {
      level = a.slice('--log-level='.length);
    } else {
      rest.push(a);
    }
  }
  return level === undefined ? { rest } : { level, rest };
}

export async function main(argv: string[]): Promise<number> {
  // a reader that went away (`margay status | head -1`) ends the output, not the command: no EPIPE crash, teardowns finish
  ignoreEpipe(process.stdout);
  ignoreEpipe(process.stderr);
  try {
    const { level, rest } = takeLogLevel(argv);
    try {
      initLogging(level);
    } catch (err) {
      throw new UsageError((err as Error).message, TOP_USAGE);
    }
    const [name, ...args] = rest;
    if (name === undefined) {
      process.stderr.write(`${TOP_USAGE}\n`);
      return 2;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(`${TOP_USAGE}\n`);
      return 0;
    }
    if (name === '--version') {
      process.stdout.write('margay 0.1.0\n');
      return 0;
    }
    const entry = commands.find((c) => c.name === name);
    if (!entry) throw new UsageError(`unknown command "${name}"`, TOP_USAGE);
    const command = await entry.load();
    if (wantsHelp(args) && !command.ownsHelp) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`margay: ${err.message}\n`);
      if (err.usage) process.stderr.write(`\n${err.usage}\n`);
      return 2;
    }
    process.stderr.write(`margay: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const reexecCode = await reexecUnderProjectNode(process.argv.slice(2));
process.exitCode = reexecCode ?? (await main(process.argv.slice(2)));

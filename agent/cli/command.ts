import { UsageError } from './usage-error.js';

/**
 * A subcommand of `margay`. `run` gets the arguments after the subcommand name and
 * returns the exit code; it throws UsageError for a badly called command.
 * A command with nested subcommands (`bgp decode`, `lab up`) sets `ownsHelp` and
 * answers --help itself, per nested subcommand.
 */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  ownsHelp?: boolean;
  run(argv: string[]): Promise<number>;
}

/** Dispatches `<group> <sub> [flags]` to nested subcommands, with --help at each level. */
export function groupCommand(name: string, summary: string, subs: Command[]): Command {
  const usage = `usage: margay ${name} <${subs.map((s) => s.name).join('|')}> [flags]

${summary}

subcommands:
${subs.map((s) => `  ${s.name.padEnd(10)} ${s.summary}`).join('\n')}

'margay ${name} <subcommand> --help' for each.`;
  return {
    name,
    summary,
    usage,
    ownsHelp: true,
    async run(argv) {
      const [subName, ...rest] = argv;
      if (subName === undefined || subName === '--help' || subName === '-h') {
        (subName === undefined ? process.stderr : process.stdout).write(`${usage}\n`);
        return subName === undefined ? 2 : 0;
      }
      const sub = subs.find((s) => s.name === subName);
      if (!sub) {
        throw new UsageError(`unknown subcommand "${name} ${subName}"`, usage);
      }
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(`${sub.usage}\n`);
        return 0;
      }
      return sub.run(rest);
    },
  };
}

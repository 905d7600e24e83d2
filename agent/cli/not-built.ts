import type { Command } from './command.js';

/**
 * A subcommand whose implementation has not landed yet: its --help works, running
 * it says plainly that it is not available in this build and exits 1.
 */
export function notBuilt(name: string, summary: string, usage: string): Command {
  return {
    name,
    summary,
    usage,
    async run() {
      process.stderr.write(`margay ${name}: not available in this build yet\n`);
      return 1;
    },
  };
}

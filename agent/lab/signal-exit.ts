import { constants } from 'node:os';

/** The exit code of a process ended by `sig`, as a shell reports it: 128 + its number (SIGINT 130, SIGTERM 143). */
export function signalExitCode(sig: NodeJS.Signals): number {
  const n = (constants.signals as Partial<Record<NodeJS.Signals, number>>)[sig];
  return 128 + (n ?? 15);
}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends OptionSpec> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
}

/**
 * Strict flag parsing for every subcommand: an unknown flag, a missing value or a
 * stray positional becomes a UsageError that names it, printed with the usage text.
 */
export function parseFlags<O extends OptionSpec>(
  argv: string[],
  options: O,
  usage: string,
  opts: { positionals?: boolean } = {},
): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: opts.positionals ?? false,
    });
    return { values: values as Parsed<O>['values'], positionals };
  } catch (err) {
    throw new UsageError(cleanParseError(err), usage);
  }
}

/** True when --help / -h is among the arguments (checked before strict parsing). */
export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export function intFlag(value: string | undefined, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function choiceFlag<T extends string>(value: string | undefined, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${value}"`);
  }
  return value as T;
}

function cleanParseError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown flag');
}

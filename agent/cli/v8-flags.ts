/**
 * Long-running commands (the agent, the standalone speaker) run with V8 flags of
 * their own. V8 reads most flags once, when the isolate is made, so the command
 * restarts its own process image with them (process.execve: same PID, so a
 * supervisor, the lab's PID files and signals see one process) unless they, or an
 * explicit value of each, are on the command line already. An environment variable
 * turns it off (`0`) or replaces the list (flags separated by spaces or commas).
 */

/**
 * The agent's V8 flags (MARGAY_AGENT_V8_FLAGS: '0' for none, or a list). Its route
 * path — an UPDATE read, a block claimed — runs a few times per minute, so V8 keeps
 * it in the interpreter: Sparkplug code at first call (and feedback from the first
 * call) take 20–40 % off its CPU time (docs/agent.md, "Less CPU per event"). Whoever
 * starts the agent can give them on Node's command line and spare the restart (the
 * lab does; ~150 ms of CPU at start).
 */
export const AGENT_V8_FLAGS: readonly string[] = ['--always-sparkplug', '--no-lazy-feedback-allocation'];

/** `--name=value` → `--name`; `--no-name` and `--name` are the same flag */
const flagName = (f: string): string => (f.split('=')[0] as string).replace(/^--no-/, '--');

/** The flags `wanted` that `execArgv` does not set already (pure). */
export function missingV8Flags(wanted: readonly string[], execArgv: readonly string[]): string[] {
  return wanted.filter((f) => !execArgv.some((a) => flagName(a) === flagName(f)));
}

/** One flag: `--name` or `--name=value` (anything else would be taken by Node as the script to run). */
const FLAG = /^--[A-Za-z0-9][\w-]*(=\S+)?$/;

/**
 * `defaults`, or the list the environment variable `name` gives ('' or unset: defaults;
 * '0': none); an error naming the variable and the token for anything that is no flag.
 */
export function v8FlagsFrom(name: string, envValue: string | undefined, defaults: readonly string[]): { flags: readonly string[] } | { error: string } {
  if (envValue === undefined || envValue.trim() === '') return { flags: defaults };
  if (envValue.trim() === '0') return { flags: [] };
  const flags = envValue.split(/[\s,]+/).filter((f) => f !== '');
  const bad = flags.find((f) => !FLAG.test(f));
  if (bad !== undefined) return { error: `${name}: "${bad}" is not a V8 flag (--name or --name=value, separated by spaces or commas; 0 for none)` };
  return { flags };
}

/** set in the environment of the restarted process: one restart at most, whatever Node keeps of the flags */
const RESTARTED = 'MARGAY_V8_FLAGS_APPLIED';

/** Restarts this process with the missing flags; returns when nothing is missing, after the one restart, or without execve. */
export function execWithV8Flags(flags: readonly string[]): void {
  if (typeof process.execve !== 'function' || process.env[RESTARTED] === '1') return;
  const missing = missingV8Flags(flags, process.execArgv);
  if (missing.length === 0) return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], { ...process.env, [RESTARTED]: '1' });
}

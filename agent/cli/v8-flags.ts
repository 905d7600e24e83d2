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
 * call) take 20–40 % off its CPU time (docs/agent.md, "The receiving node"). Whoever
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

/** `defaults`, or the list the environment variable gives ('' or unset: defaults; '0': none). */
export function v8FlagsFrom(envValue: string | undefined, defaults: readonly string[]): readonly string[] {
  if (envValue === undefined || envValue.trim() === '') return defaults;
  if (envValue.trim() === '0') return [];
  return envValue.split(/[\s,]+/).filter((f) => f !== '');
}

/** Restarts this process with the missing flags; returns when nothing is missing (or execve is unavailable). */
export function execWithV8Flags(flags: readonly string[]): void {
  if (typeof process.execve !== 'function') return;
  const missing = missingV8Flags(flags, process.execArgv);
  if (missing.length === 0) return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], process.env);
}

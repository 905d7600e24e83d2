import { pino, type Logger, type Level } from 'pino';

/** Every component logs under its own name so that one agent's log can be filtered. */
export type Component = 'agent' | 'bgp' | 'policy' | 'ipam' | 'cni' | 'dataplane' | 'datastore' | 'lab';

const LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export function parseLevel(value: string | undefined, fallback: Level = 'info'): Level {
  if (value === undefined || value === '') return fallback;
  const v = value.toLowerCase();
  if (!(LEVELS as readonly string[]).includes(v)) {
    throw new Error(`log level must be one of ${LEVELS.join(', ')}, got "${value}"`);
  }
  return v as Level;
}

let root: Logger | undefined;

/**
 * The process-wide logger: JSON lines to stderr (stdout belongs to command output),
 * level from the --log-level flag or MARGAY_LOG_LEVEL.
 */
export function initLogging(level?: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  root = pino({ level: parseLevel(level ?? process.env.MARGAY_LOG_LEVEL), base: { pid: process.pid } }, destination);
  return root;
}

export function logger(component: Component): Logger {
  if (!root) initLogging();
  return (root as Logger).child({ component });
}

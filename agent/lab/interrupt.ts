import { signalExitCode } from './signal-exit.js';

/**
 * Interrupting a lab command (Ctrl-C, SIGTERM) while it builds or runs a lab.
 *
 * The work (building a lab, the demo) keeps running on its own async flow while
 * the signal handler tears the lab down, so the two race: a process the work
 * starts while the teardown reads the state file would be left running. The
 * interrupt closes that race in three steps:
 *   1. abort: every later `guard()` rejects without starting anything;
 *   2. tear down from the state file (what exists so far);
 *   3. wait for the starts already under way; each one that finishes after the
 *      abort stops what it started (the `stop` given to guard), then tear down
 *      once more (what was recorded meanwhile), then exit with 128 + signal number.
 * State: the abort flag and the set of starts under way.
 */
export interface LabInterrupt {
  readonly signal: AbortSignal;
  /**
   * Runs `start` unless interrupted; when the interrupt comes while `start` runs,
   * calls `stop` on its result and rejects.
   */
  guard<T>(what: string, start: () => Promise<T>, stop: (started: T) => Promise<void>): Promise<T>;
}

export class InterruptedError extends Error {}

export interface InterruptController {
  readonly interrupt: LabInterrupt;
  /** Step 1: no new starts from now on. */
  abort(reason: string): void;
  /** Resolves when every start under way has finished (and stopped what it started). */
  settled(timeoutMs: number): Promise<void>;
}

export function createInterruptController(): InterruptController {
  const ac = new AbortController();
  const pending = new Set<Promise<unknown>>();
  const interrupt: LabInterrupt = {
    signal: ac.signal,
    guard(what, start, stop) {
      if (ac.signal.aborted) return Promise.reject(new InterruptedError(`${what}: not started, interrupted (${String(ac.signal.reason)})`));
      const p = (async () => {
        const started = await start();
        if (ac.signal.aborted) {
          await stop(started).catch(() => undefined);
          throw new InterruptedError(`${what}: stopped, interrupted (${String(ac.signal.reason)})`);
        }
        return started;
      })();
      pending.add(p);
      const forget = () => { pending.delete(p); };
      p.then(forget, forget);
      return p;
    },
  };
  return {
    interrupt,
    abort(reason) {
      ac.abort(reason);
    },
    async settled(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
      await Promise.race([Promise.allSettled([...pending]), limit]);
      clearTimeout(timer);
    },
  };
}

/**
 * The whole signal response: abort, tear down, wait for starts under way, tear
 * down again (up to `passes` times, until nothing is left), then the exit code.
 * `teardown` resolves false when it found nothing left to tear down.
 */
export async function onLabSignal(
  sig: NodeJS.Signals,
  ctl: InterruptController,
  teardown: () => Promise<boolean>,
  opts: { settleMs?: number; passes?: number; onError?: (err: Error) => void } = {},
): Promise<number> {
  ctl.abort(sig);
  const pass = () => teardown().catch((err: Error) => { opts.onError?.(err); return true; });
  await pass();
  await ctl.settled(opts.settleMs ?? 15_000);
  for (let i = 0; i < (opts.passes ?? 3); i++) {
    if (!(await pass())) break;
  }
  return signalExitCode(sig);
}

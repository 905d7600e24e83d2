/**
 * Runs dataplane passes one at a time: kick() on every input change, plus a
 * periodic pass that repairs drift. Kicks that arrive during a pass coalesce into
 * one more pass after it. Time comes from the injected timer functions, so a test
 * can drive it without sleeping.
 */
export interface LoopTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface DataplaneLoop {
  /** Asks for a pass; resolves when a pass that started after this call has finished. */
  kick(): Promise<void>;
  stop(): void;
}

/** Node's own timers (the default; tests pass fakes). */
export const REAL_TIMERS: LoopTimers = { setInterval: (fn, ms) => setInterval(fn, ms), clearInterval: (h) => clearInterval(h as NodeJS.Timeout) };

export function startDataplaneLoop(pass: () => Promise<void>, opts: { resyncMs: number; onError: (err: unknown) => void; timers?: LoopTimers }): DataplaneLoop {
  const timers = opts.timers ?? REAL_TIMERS;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let stopped = false;
  const runOnce = async (): Promise<void> => {
    try {
      await pass();
    } catch (err) {
      opts.onError(err);
    }
  };
  const kick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (!running) {
      running = runOnce().finally(() => { running = undefined; });
      return running;
    }
    if (!queued) {
      queued = running.then(() => { queued = undefined; return kick(); });
    }
    return queued;
  };
  const handle = timers.setInterval(() => { void kick(); }, opts.resyncMs);
  return {
    kick,
    stop(): void {
      stopped = true;
      timers.clearInterval(handle);
    },
  };
}

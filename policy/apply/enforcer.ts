/**
 * PolicyEnforcer: keeps the kernel equal to the desired rules over time.
 *
 * - `start()` reconciles (reads margay's chains and sets from the kernel, repairs
 *   drift, removes stale objects) and then resyncs the same way every `resyncMs`.
 * - `changed()` says the desired state moved (a pod, a policy, a namespace): one
 *   apply runs soon; changes arriving while it runs coalesce into one more apply.
 * - A failed apply leaves the previous rules in force (the applier's transactions
 *   are atomic); it is retried after 100 ms, 200 ms, … up to `maxDelayMs`, with
 *   the newest desired state each time.
 * Timers are injected, so the loop is tested without real time. One apply at a
 * time (single flight).
 */
import type { Rendered } from '../render/model.js';
import type { ApplyResult, PolicyApplier } from './applier.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface EnforcerOptions {
  resyncMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onResult?: (r: ApplyResult, kind: 'apply' | 'reconcile') => void;
}

export class PolicyEnforcer {
  private running = false;
  private pending = false;
  private resyncDue = false;
  private stopped = true;
  private delay: number;
  private retryTimer: unknown = undefined;
  private resyncTimer: unknown = undefined;
  private idle: Promise<void> = Promise.resolve();
  consecutiveFailures = 0;
  inSync = false;

  constructor(
    private readonly applier: PolicyApplier,
    private readonly desired: () => Rendered,
    private readonly timers: Timers = realTimers,
    private readonly opts: EnforcerOptions = {},
  ) {
    this.delay = opts.baseDelayMs ?? 100;
  }

  start(): void {
    this.stopped = false;
    this.resyncDue = true;
    this.kick();
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    if (this.resyncTimer !== undefined) this.timers.clearTimeout(this.resyncTimer);
    this.retryTimer = undefined;
    this.resyncTimer = undefined;
    return this.idle;
  }

  /** The desired state changed: apply it (soon, once). */
  changed(): void {
    this.inSync = false;
    this.kick();
  }

  /** Resolves when no apply is running or queued. */
  settled(): Promise<void> {
    return this.idle;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    if (this.retryTimer !== undefined) return; // a retry is scheduled and will take the newest state
    this.running = true;
    this.idle = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.pending = false;
        const kind = this.resyncDue ? 'reconcile' : 'apply';
        this.resyncDue = false;
        const desired = this.desired();
        const r = kind === 'reconcile' ? await this.applier.reconcile(desired) : await this.applier.apply(desired);
        this.opts.onResult?.(r, kind);
        if (r.ok) {
          this.consecutiveFailures = 0;
          this.delay = this.opts.baseDelayMs ?? 100;
          this.inSync = !this.pending;
          if (kind === 'reconcile') this.scheduleResync();
        } else {
          this.consecutiveFailures++;
          this.inSync = false;
          if (kind === 'reconcile') this.resyncDue = true;
          this.scheduleRetry();
          return;
        }
      } while (this.pending && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const ms = this.delay;
    this.delay = Math.min(this.delay * 2, this.opts.maxDelayMs ?? 30_000);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, ms);
  }

  private scheduleResync(): void {
    if (this.stopped) return;
    if (this.resyncTimer !== undefined) this.timers.clearTimeout(this.resyncTimer);
    this.resyncTimer = this.timers.setTimeout(() => {
      this.resyncTimer = undefined;
      this.resyncDue = true;
      this.kick();
    }, this.opts.resyncMs ?? 60_000);
  }
}

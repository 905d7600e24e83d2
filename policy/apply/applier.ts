/**
 * PolicyApplier: the only code that writes margay's iptables chains and ipsets.
 *
 * State: `last` is what margay believes the kernel holds (the actual state read at
 * reconcile, then updated after each successful apply); null means unknown, and
 * the next apply reads the kernel first. Every apply diffs desired vs `last`
 * (plan.ts) and runs at most: one `ipset restore`, one `iptables-restore
 * --noflush` per family, one `ipset restore` for stale sets — each only if it has
 * something to do.
 *
 * Fail closed: iptables-restore is atomic per family, so a failed transaction
 * leaves the previous rules in force. On any failure the error (with the failing
 * input line) is logged, `metrics.failures` is counted, `last` is forgotten (the
 * next attempt re-reads the kernel, so partial ipset updates are accounted for),
 * and `applyWithRetry` tries again with exponential backoff.
 *
 * Not re-entrant: callers await one apply before starting the next.
 */
import type { Rendered } from '../render/model.js';
import { parseIpsetSave, parseSave } from './actual.js';
import { ExecFailure, type Exec } from './exec.js';
import { actualOf, objectsOf, planApply, type Actual, type Plan } from './plan.js';
import { hookLine } from '../render/restore-text.js';

export interface ApplyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ApplyMetrics {
  applies: number;
  failures: number;
  /** Processes run that write to the kernel (restore invocations). */
  kernelWrites: number;
  lastError: string | null;
}

export interface ApplyResult {
  ok: boolean;
  plan: Plan;
  kernelWrites: number;
  error?: string;
}

export interface Sleeper {
  sleep(ms: number): Promise<void>;
}

/**
 * `--noflush`: only the chains named in the input change. `-w 5`: with the legacy
 * backend, wait up to 5 s for the xtables lock another writer (kube-proxy) holds
 * instead of failing; the nf_tables backend accepts and ignores it.
 */
const RESTORE = {
  v4: ['iptables-restore', '-w', '5', '--noflush'],
  v6: ['ip6tables-restore', '-w', '5', '--noflush'],
} as const;

const silent: ApplyLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Picks the input line a restore tool complains about ("line: 4" / "line 4 failed"). */
export function failingLine(stderr: string, input: string): string | undefined {
  const m = /line:? (\d+)/i.exec(stderr);
  if (!m) return undefined;
  return input.split('\n')[Number(m[1]) - 1];
}

export class PolicyApplier {
  readonly metrics: ApplyMetrics = { applies: 0, failures: 0, kernelWrites: 0, lastError: null };
  private last: Actual | null = null;
  /** Chains and sets of the last applied desired state (valid while `last` is). */
  private lastObjects = new WeakSet<object>();

  constructor(private readonly exec: Exec, private readonly log: ApplyLogger = silent) {}

  /** Reads margay's chains and sets from the kernel (nobody else's). */
  async readActual(): Promise<Actual> {
    const [v4, v6, sets] = await Promise.all([
      this.exec.run(['iptables-save', '-t', 'filter']),
      this.exec.run(['ip6tables-save', '-t', 'filter']),
      this.exec.run(['ipset', 'save']),
    ]);
    return { v4: parseSave(v4.stdout), v6: parseSave(v6.stdout), sets: parseIpsetSave(sets.stdout) };
  }

  /** Forget what was applied: the next apply reads the kernel (start-up, periodic resync). */
  invalidate(): void {
    this.last = null;
  }

  /** Reads the kernel, then applies the difference: fixes drift, removes stale objects. */
  async reconcile(desired: Rendered): Promise<ApplyResult> {
    this.last = null;
    return this.apply(desired);
  }

  async apply(desired: Rendered): Promise<ApplyResult> {
    this.metrics.applies++;
    let plan: Plan | undefined;
    let writes = 0;
    const step = async (argv: readonly string[], input: string): Promise<void> => {
      if (input === '') return;
      writes++;
      this.metrics.kernelWrites++;
      try {
        await this.exec.run([...argv], input);
      } catch (err) {
        const stderr = err instanceof ExecFailure ? err.stderr : String(err);
        const line = failingLine(stderr, input);
        throw new Error(`${argv[0]} failed${line ? ` at: ${line}` : ''}: ${stderr.trim().split('\n')[0]}`);
      }
    };
    try {
      const known = this.last !== null;
      const actual = this.last ?? (await this.readActual());
      const previous = this.lastObjects;
      plan = planApply(desired, actual, known ? (o) => previous.has(o) : () => false);
      for (const c of plan.conflicts) this.log.warn({ conflict: c }, 'policy: ipset conflict, left as is');
      await step(['ipset', 'restore'], plan.ipsetBefore);
      // The two families are independent tables: their transactions run side by side.
      // Both are awaited before anything else happens, even when one fails.
      const families = await Promise.allSettled([step(RESTORE.v4, plan.iptables.v4), step(RESTORE.v6, plan.iptables.v6)]);
      for (const f of families) if (f.status === 'rejected') throw f.reason;
      await step(['ipset', 'restore'], plan.ipsetAfter);
      this.last = actualOf(desired, known ? this.last : null, known ? (o) => previous.has(o) : () => false);
      this.lastObjects = objectsOf(desired);
      // A conflicting set was left as it is: the kernel does not match `desired`,
      // so the next apply must look again (and report it again).
      if (plan.conflicts.length > 0) this.invalidate();
      this.log.info({ ...plan.stats, kernelWrites: writes }, 'policy: applied');
      return { ok: true, plan, kernelWrites: writes };
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.last = null;
      this.metrics.failures++;
      this.metrics.lastError = msg;
      this.log.error({ err: msg, failures: this.metrics.failures }, 'policy: apply failed; previous rules stay in force');
      return { ok: false, plan: plan ?? planApply(desired, actualOf(desired)), kernelWrites: writes, error: msg };
    }
  }

  /**
   * Applies until it succeeds or `maxAttempts` is reached, waiting 100 ms, 200 ms,
   * ... (capped at maxDelayMs) between attempts. `desired` is a function so that
   * each attempt uses the newest desired state.
   */
  async applyWithRetry(desired: () => Rendered, sleeper: Sleeper, opts: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number } = {}): Promise<ApplyResult> {
    const max = opts.maxAttempts ?? 10;
    let delay = opts.baseDelayMs ?? 100;
    let result = await this.apply(desired());
    for (let attempt = 1; !result.ok && attempt < max; attempt++) {
      await sleeper.sleep(delay);
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 30_000);
      result = await this.apply(desired());
    }
    return result;
  }

  /** Removes every margay hook, chain and set (uninstall; opens all pods). */
  async removeAll(): Promise<void> {
    const actual = await this.readActual();
    for (const [argv, fam] of [[RESTORE.v4, actual.v4], [RESTORE.v6, actual.v6]] as const) {
      const lines: string[] = [];
      for (const [key, positions] of fam.hooks) {
        const [chain, target] = key.split(' ') as ['FORWARD' | 'INPUT' | 'OUTPUT', string];
        for (let i = 0; i < positions.length; i++) lines.push(hookLine({ chain, target }).replace(/^-I (\S+) 1 /, '-D $1 '));
      }
      for (const name of fam.chains.keys()) lines.push(`-F ${name}`);
      for (const name of fam.chains.keys()) lines.push(`-X ${name}`);
      if (lines.length > 0) await this.exec.run([...argv], ['*filter', ...lines, 'COMMIT', ''].join('\n'));
    }
    const destroy = [...actual.sets.keys()].map((n) => `destroy ${n}`);
    if (destroy.length > 0) await this.exec.run(['ipset', 'restore'], `${destroy.join('\n')}\n`);
    this.last = null;
  }
}

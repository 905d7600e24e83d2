/**
 * PolicyApplier: the only code that writes margay's iptables chains and ipsets.
 *
 * State: `last` is what margay believes the kernel holds (the actual state read at
 * reconcile, then updated after each successful apply); null means unknown, and
 * the next apply reads the kernel first. `skipped` holds the families found
 * unavailable at that read (valid while `last` is). Every apply diffs desired vs
 * `last` (plan.ts) and runs, each only if it has something to do: one `ipset
 * restore`, one `iptables-restore --noflush` per family, and usually one `ipset
 * restore` for stale sets (re-run after a line the kernel refused, or one `ipset
 * destroy` per set).
 *
 * Families are independent (as felix programs each IP version on its own): each is
 * read and applied by its own tools; one family's failure never keeps the other's
 * rules out. A family whose kernel has no such address family (its save or restore
 * tool: "Address family not supported by protocol" — IPv6 disabled at boot, so
 * nothing of it is forwarded) is skipped: its chains and sets are not written, the apply stays ok
 * and the result's `problems` say so. A family whose tools fail otherwise fails
 * the apply (retried), after the other family went in.
 *
 * Fail closed: iptables-restore is atomic per family, so a failed transaction
 * leaves that family's previous rules in force. On any failure the error (naming
 * the family and the failing input line) is logged, `metrics.failures` is counted,
 * `last` is forgotten (the next attempt re-reads the kernel, so partial updates are
 * accounted for), and `applyWithRetry` tries again with exponential backoff.
 *
 * Stale sets are destroyed best effort, after their family's transaction: one the
 * kernel will not destroy yet (iptables-nft's "in use by a kernel component" race)
 * is a warning, stays in `last` as stale and is destroyed again by a later apply;
 * the other destroys still run, and the apply stays ok.
 *
 * Not re-entrant: callers await one apply before starting the next.
 */
import type { Rendered } from '../render/model.js';
import { parseIpsetSave, parseSave, type ActualChains } from './actual.js';
import { ExecFailure, type Exec } from './exec.js';
import { actualOf, FAMILY_KEYS, objectsOf, planApply, type Actual, type FamilyKey, type Plan } from './plan.js';
import { hookDeleteLine } from '../render/restore-text.js';

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
  /** What did not fail the apply but is not as desired: a family skipped (IPv6 disabled), a stale set not destroyed yet. */
  problems: string[];
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

const SAVE = {
  v4: ['iptables-save', '-t', 'filter'],
  v6: ['ip6tables-save', '-t', 'filter'],
} as const;

const LABEL: Record<FamilyKey, string> = { v4: 'IPv4', v6: 'IPv6' };
const skipNote = (f: FamilyKey, why: string): string => `${LABEL[f]} skipped, the kernel has no ${LABEL[f]}: ${why}`;

/** The kernel has no such address family (IPv6 disabled at boot): nothing of it can be filtered, nor forwarded. */
function familyUnavailable(stderr: string): boolean {
  return /address family not supported by protocol/i.test(stderr);
}

const stderrOf = (err: unknown): string => (err instanceof ExecFailure ? err.stderr : err instanceof Error ? err.message : String(err));
const firstLine = (text: string): string => text.trim().split('\n')[0] ?? '';

/** What a read of the kernel found: margay's objects, and the families that could not be read. */
export interface KernelRead {
  actual: Actual;
  /** family → the error of its save tool; `unavailable` when the kernel has no such family. */
  unreadable: Partial<Record<FamilyKey, { error: string; unavailable: boolean }>>;
}

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
  /** Families skipped as unavailable at the last read, with the problem said (valid while `last` is). */
  private skipped = new Map<FamilyKey, string>();
  /** Chains and sets of the last applied desired state (valid while `last` is). */
  private lastObjects = new WeakSet<object>();
  /** The problems last logged (logged again only when they change). */
  private reported = '';

  constructor(private readonly exec: Exec, private readonly log: ApplyLogger = silent) {}

  /**
   * Reads margay's chains and sets from the kernel (nobody else's). A family whose
   * save tool fails is listed in `unreadable` (its chains read as empty); a failing
   * `ipset save` rejects (sets are shared by both families).
   */
  async readActual(): Promise<KernelRead> {
    const [v4, v6, sets] = await Promise.allSettled([this.exec.run([...SAVE.v4]), this.exec.run([...SAVE.v6]), this.exec.run(['ipset', 'save'])]);
    if (sets.status === 'rejected') throw new Error(`ipset save failed: ${firstLine(stderrOf(sets.reason))}`);
    const unreadable: KernelRead['unreadable'] = {};
    const chains = (f: FamilyKey, r: PromiseSettledResult<{ stdout: string }>): ActualChains => {
      if (r.status === 'fulfilled') return parseSave(r.value.stdout);
      const stderr = stderrOf(r.reason);
      unreadable[f] = { error: `${SAVE[f][0]} failed: ${firstLine(stderr)}`, unavailable: familyUnavailable(stderr) };
      return parseSave('');
    };
    return { actual: { v4: chains('v4', v4), v6: chains('v6', v6), sets: parseIpsetSave(sets.value.stdout) }, unreadable };
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
    const problems: string[] = [];
    const run = async (argv: readonly string[], input?: string): Promise<void> => {
      writes++;
      this.metrics.kernelWrites++;
      await this.exec.run([...argv], input);
    };
    const step = async (argv: readonly string[], input: string): Promise<void> => {
      if (input === '') return;
      try {
        await run(argv, input);
      } catch (err) {
        const stderr = stderrOf(err);
        const line = failingLine(stderr, input);
        throw new Error(`${argv[0]} failed${line ? ` at: ${line}` : ''}: ${firstLine(stderr)}`);
      }
    };
    try {
      const last = this.last;
      const known = last !== null;
      const errors: string[] = [];
      let actual: Actual;
      let skipped: Map<FamilyKey, string>;
      const unread = new Set<FamilyKey>();
      if (known) {
        actual = last;
        skipped = new Map(this.skipped);
      } else {
        const read = await this.readActual();
        actual = read.actual;
        skipped = new Map();
        for (const f of FAMILY_KEYS) {
          const u = read.unreadable[f];
          if (u === undefined) continue;
          if (u.unavailable) skipped.set(f, skipNote(f, u.error));
          else {
            unread.add(f);
            errors.push(`${LABEL[f]}: ${u.error}`);
          }
        }
      }
      const families = FAMILY_KEYS.filter((f) => !skipped.has(f) && !unread.has(f));
      const previous = this.lastObjects;
      const unchanged = known ? (o: object) => previous.has(o) : () => false;
      plan = planApply(desired, actual, unchanged, families);
      for (const c of plan.conflicts) this.log.warn({ conflict: c }, 'policy: ipset conflict, left as is');
      // sets are shared by both families: a failure here fails the whole apply, before any rule changed
      await step(['ipset', 'restore'], plan.ipsetBefore);
      // The two families are independent tables: their transactions run side by side,
      // and one family's failure keeps neither the other's rules nor its set destroys out.
      const p = plan;
      const results = await Promise.allSettled(families.map((f) => step(RESTORE[f], p.iptables[f])));
      const applied = families.filter((f, i) => {
        const r = results[i];
        if (r?.status !== 'rejected') return true;
        const msg = r.reason instanceof Error ? r.reason.message : String(r.reason);
        // the save tool worked but the kernel has no such family after all (nf_tables backend)
        if (familyUnavailable(msg)) skipped.set(f, skipNote(f, msg));
        else errors.push(`${LABEL[f]}: ${msg}`);
        return false;
      });
      problems.push(...skipped.values());
      // a family skipped at its restore (no such family in the kernel) has no rule that could hold its stale sets
      const notDestroyed = await this.destroySets(families.filter((f) => applied.includes(f) || skipped.has(f)).flatMap((f) => p.staleSets[f]), run, problems);
      this.report(problems);
      if (errors.length > 0) return this.failed(errors.join('; '), applied, plan, writes, problems);
      // every family either applied or was skipped at its restore: `applied` is what the kernel now holds
      const next = actualOf(desired, known ? actual : null, unchanged, applied);
      // a stale set the kernel kept is still there, and still stale: destroyed again next time
      for (const name of notDestroyed) {
        const have = actual.sets.get(name);
        if (have) next.sets.set(name, have);
      }
      this.last = next;
      this.skipped = skipped;
      this.lastObjects = objectsOf(desired);
      // A conflicting set was left as it is: the kernel does not match `desired`,
      // so the next apply must look again (and report it again).
      if (plan.conflicts.length > 0) this.invalidate();
      this.log.info({ ...plan.stats, kernelWrites: writes }, 'policy: applied');
      return { ok: true, plan, kernelWrites: writes, problems };
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      return this.failed(msg, [], plan ?? planApply(desired, actualOf(desired)), writes, problems);
    }
  }

  private failed(msg: string, applied: FamilyKey[], plan: Plan, writes: number, problems: string[]): ApplyResult {
    this.last = null;
    this.metrics.failures++;
    this.metrics.lastError = msg;
    const what = applied.length === 0 ? 'policy: apply failed; previous rules stay in force'
      : `policy: apply failed (${applied.map((f) => LABEL[f]).join(', ')} applied); the failed family's previous rules stay in force`;
    this.log.error({ err: msg, failures: this.metrics.failures }, what);
    return { ok: false, plan, kernelWrites: writes, error: msg, problems };
  }

  /** Logs the problems when they differ from the last ones logged (a skipped family is not news at every apply). */
  private report(problems: string[]): void {
    const said = problems.join('\n');
    if (said !== this.reported) for (const p of problems) this.log.warn({ problem: p }, 'policy: not as desired');
    this.reported = said;
  }

  /**
   * Destroys stale sets, best effort: `ipset restore` stops at the first error and
   * names its line, so the sets before it are gone and the run goes on after it; an
   * error without a line number: the rest one by one. Returns the sets not destroyed
   * (each also a problem).
   */
  private async destroySets(names: string[], run: (argv: readonly string[], input?: string) => Promise<void>, problems: string[]): Promise<string[]> {
    const kept: string[] = [];
    const keep = (name: string, err: unknown): void => {
      kept.push(name);
      problems.push(`ipset ${name}: stale set not destroyed, tried again later: ${firstLine(stderrOf(err)).replace(/^ipset v[\d.]+: (Error in line \d+: )?/, '')}`);
    };
    let rest = names;
    while (rest.length > 0) {
      const input = `${rest.map((n) => `destroy ${n}`).join('\n')}\n`;
      try {
        await run(['ipset', 'restore'], input);
        break;
      } catch (err) {
        const m = /line:? (\d+)/i.exec(stderrOf(err));
        const at = m ? Number(m[1]) : 0;
        if (at < 1 || at > rest.length) {
          for (const name of rest) await run(['ipset', 'destroy', name]).catch((e: unknown) => keep(name, e));
          break;
        }
        keep(rest[at - 1] as string, err);
        rest = rest.slice(at);
      }
    }
    return kept;
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

  /**
   * Removes every margay hook, chain and set (uninstall; opens all pods). A family
   * the kernel does not have is passed over; any other failure rejects, after the
   * rest was removed.
   */
  async removeAll(): Promise<void> {
    const { actual, unreadable } = await this.readActual();
    const errors: string[] = [];
    for (const f of FAMILY_KEYS) {
      const u = unreadable[f];
      if (u !== undefined) {
        if (!u.unavailable) errors.push(`${LABEL[f]}: ${u.error}`);
        continue;
      }
      const fam = actual[f];
      const lines: string[] = [];
      for (const [key, positions] of fam.hooks) {
        const [chain, target] = key.split(' ') as ['FORWARD' | 'INPUT' | 'OUTPUT', string];
        for (let i = 0; i < positions.length; i++) lines.push(hookDeleteLine({ chain, target }));
      }
      for (const name of fam.chains.keys()) lines.push(`-F ${name}`);
      for (const name of fam.chains.keys()) lines.push(`-X ${name}`);
      if (lines.length === 0) continue;
      try {
        await this.exec.run([...RESTORE[f]], ['*filter', ...lines, 'COMMIT', ''].join('\n'));
      } catch (err) {
        errors.push(`${LABEL[f]}: ${RESTORE[f][0]} failed: ${firstLine(stderrOf(err))}`);
      }
    }
    const problems: string[] = [];
    const kept = await this.destroySets([...actual.sets.keys()], async (argv, input) => { await this.exec.run([...argv], input); }, problems);
    this.last = null;
    if (kept.length > 0) errors.push(...problems);
    if (errors.length > 0) throw new Error(`policy: remove incomplete: ${errors.join('; ')}`);
  }
}

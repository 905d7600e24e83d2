/**
 * The route fast path (shell): a learned route for a remote block (added, changed,
 * withdrawn) or an own block just claimed goes to the kernel as one netlink datagram
 * right where the agent hears of it — inside the read of the UPDATE, or right after
 * the IPAM claim — instead of waiting for a full dataplane pass (dumps of links,
 * addresses and both route tables, the whole plan, the diff).
 *
 * Nothing depends on it for correctness: the full pass still runs afterwards
 * (debounced by the agent) and converges whatever the fast path did or did not do.
 * It steps aside (the agent then runs the full pass at once) before the first full
 * pass (graceful-restart gate: nothing is written before BGP has synced), when a
 * device a route needs does not exist yet, when a burst is large (a full pass is
 * cheaper than many single plans: more than 64 prefixes in one event or 256 since the
 * last full pass), and when the kernel refuses a write.
 *
 * State: the last full pass's inputs (fast-plan.ts `RouteContext`) and the
 * destinations margay's routes hold (from that pass's plan, then kept up to date by
 * each fast write).
 */
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import { errnoName } from '../dataplane/kernel/errno.js';
import type { DataplaneReport } from '../dataplane/apply.js';
import type { Block } from '../ipam/types.js';
import { planFastWrites, type RouteContext } from './fast-plan.js';

/** Above this many prefixes in one event the full pass is cheaper than the fast path. */
export const FAST_PATH_MAX_PREFIXES = 64;
/** Nor more than this many between two full passes: a burst of UPDATEs is one full pass, not many small plans. */
export const FAST_PATH_BUDGET = 256;

export type FastResult = { done: true; written: number } | { done: false; why: string };

export class FastRoutes {
  private ctx: RouteContext | undefined;
  private programmed = new Set<string>();
  /** prefixes the fast path took since the last full pass */
  private spent = 0;

  /** After every full pass: its inputs, and what its routes hold now. */
  passed(ctx: RouteContext, report: Pick<DataplaneReport, 'plan' | 'routes'>): void {
    this.ctx = ctx;
    this.spent = 0;
    const notHeld = new Set([
      ...report.routes.failed.filter((f) => f.op !== 'delete').map((f) => f.route.dst),
      ...report.routes.conflicts.map((c) => c.want.dst),
      ...report.routes.unresolved.map((u) => u.dst),
    ]);
    this.programmed = new Set(report.plan.routes.map((r) => r.dst).filter((d) => !notHeld.has(d)));
  }

  /** Writes the routes of `prefixes` as the full pass would; the caller kicks that pass either way. */
  write(nl: Rtnl, now: { own: readonly Block[]; learned: ReadonlyMap<string, readonly string[]> }, prefixes: readonly string[], planned?: () => void): FastResult {
    if (!this.ctx) return { done: false, why: 'no full pass yet' };
    if (prefixes.length > FAST_PATH_MAX_PREFIXES) return { done: false, why: `${prefixes.length} prefixes at once` };
    if (this.spent + prefixes.length > FAST_PATH_BUDGET) return { done: false, why: `a burst: ${this.spent + prefixes.length} prefixes since the last full pass` };
    this.spent += prefixes.length;
    const plan = planFastWrites(this.ctx, now, prefixes, this.programmed);
    if (plan.fallback) return { done: false, why: plan.fallback };
    if (plan.writes.length === 0) return { done: true, written: 0 };
    planned?.();
    const failures = nl.writeRoutes(plan.writes);
    const failed = new Set(failures.map((f) => f.index));
    plan.writes.forEach((w, i) => {
      if (failed.has(i)) return;
      if (w.op === 'delete') this.programmed.delete(w.route.dst);
      else this.programmed.add(w.route.dst);
    });
    const f = failures[0];
    if (f) {
      const w = plan.writes[f.index];
      return { done: false, why: `${w?.op} ${w?.route.dst}: ${errnoName(f.errno)}${f.message ? ` (${f.message})` : ''}` };
    }
    return { done: true, written: plan.writes.length };
  }
}

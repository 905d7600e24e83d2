/**
 * Desired (rendered) vs actual (kernel or last applied) → the minimal, ordered
 * writes. Pure. Order guarantees that no selected pod is ever open:
 *   1. ipset: create new sets, delete stale members, add new members;
 *   2. iptables-restore --noflush (one atomic transaction per family): rewrite
 *      changed chains and create new ones (policy chains, then workload chains, then
 *      dispatch), add missing hooks and move a hook that is not first in its
 *      built-in chain back to position 1 (delete + insert), then flush every
 *      stale margay chain and only then delete them — nothing references them any
 *      more once the transaction's rewrites are in and the stale chains (which may
 *      jump to each other) are empty;
 *   3. ipset: destroy stale sets (only now unreferenced).
 * Unchanged chains and sets are not written at all.
 */
import type { ActualChains, ActualSets } from './actual.js';
import type { FamilyRender, Rendered, RenderedSet } from '../render/model.js';
import { chainLines, hookLine, ruleHash, setAddLine, setCreateLine, setDelLine } from '../render/restore-text.js';

export interface Actual {
  v4: ActualChains;
  v6: ActualChains;
  sets: ActualSets;
}

export interface Plan {
  /** `ipset restore` input before the rules change ('' when nothing). */
  ipsetBefore: string;
  /** `iptables-restore --noflush` / `ip6tables-restore --noflush` input ('' when nothing). */
  iptables: { v4: string; v6: string };
  /** `ipset restore` input after the rules changed: destroy stale sets. */
  ipsetAfter: string;
  /** Sets whose type or family differ from the desired ones (cannot be changed in place). */
  conflicts: string[];
  stats: { chainsWritten: number; chainsDeleted: number; rulesWritten: number; setsCreated: number; setsDestroyed: number; membersAdded: number; membersDeleted: number };
}

const sameList = (a: string[] | undefined, b: string[]): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Objects (chains, sets) of the previous desired state that the kernel is known to
 * hold: an object that is the very same (===) in the new desired state is skipped
 * without comparing its contents. Only valid when `actual` is what that previous
 * state produced (not after reading the kernel).
 */
export type Unchanged = (obj: object) => boolean;

function planFamily(d: FamilyRender, a: ActualChains, stats: Plan['stats'], unchanged: Unchanged): string {
  const lines: string[] = [];
  for (const c of d.chains) {
    if (unchanged(c) || sameList(a.chains.get(c.name), c.rules.map(ruleHash))) continue;
    lines.push(...chainLines(c));
    stats.chainsWritten++;
    stats.rulesWritten += c.rules.length;
  }
  for (const h of d.hooks) {
    // exactly one hook, first in its built-in chain (another product inserting at 1,
    // as kube-proxy does, must not get ahead of policy); otherwise every copy is
    // deleted and one inserted at 1, in this same atomic transaction
    const have = a.hooks.get(`${h.chain} ${h.target}`) ?? [];
    if (have.length === 1 && have[0] === 1) continue;
    for (let i = 0; i < have.length; i++) lines.push(hookLine(h).replace(/^-I (\S+) 1 /, '-D $1 '));
    lines.push(hookLine(h));
    stats.rulesWritten++;
  }
  // Every stale chain is flushed before any is deleted: stale chains may jump to
  // each other (a removed pod's MARGAY-TW- to its removed policy's MARGAY-PI-, which
  // sorts first), and deleting a chain still referenced aborts the whole transaction.
  const wanted = new Set(d.chains.map((c) => c.name));
  const stale = [...a.chains.keys()].filter((name) => !wanted.has(name)).sort();
  for (const name of stale) lines.push(`-F ${name}`);
  for (const name of stale) lines.push(`-X ${name}`);
  stats.chainsDeleted += stale.length;
  return lines.length === 0 ? '' : ['*filter', ...lines, 'COMMIT', ''].join('\n');
}

function planSets(desired: RenderedSet[], actual: ActualSets, stats: Plan['stats'], conflicts: string[], unchanged: Unchanged): { before: string; after: string } {
  const before: string[] = [];
  const wanted = new Set<string>();
  for (const s of desired) {
    wanted.add(s.name);
    if (unchanged(s)) continue;
    const have = actual.get(s.name);
    if (!have) {
      before.push(setCreateLine(s), ...s.members.map((m) => setAddLine(s.name, m)));
      stats.setsCreated++;
      stats.membersAdded += s.members.length;
      continue;
    }
    if (have.type !== s.type || have.family !== s.family) {
      conflicts.push(`${s.name}: kernel has ${have.type} family ${have.family}, want ${s.type} family ${s.family}`);
      continue;
    }
    const want = new Set(s.members);
    for (const m of [...have.members].sort()) {
      if (!want.has(m)) {
        before.push(setDelLine(s.name, m));
        stats.membersDeleted++;
      }
    }
    for (const m of s.members) {
      if (!have.members.has(m)) {
        before.push(setAddLine(s.name, m));
        stats.membersAdded++;
      }
    }
  }
  const after: string[] = [];
  for (const name of [...actual.keys()].sort()) {
    if (wanted.has(name)) continue;
    after.push(`destroy ${name}`);
    stats.setsDestroyed++;
  }
  const text = (l: string[]): string => (l.length === 0 ? '' : `${l.join('\n')}\n`);
  return { before: text(before), after: text(after) };
}

export function planApply(desired: Rendered, actual: Actual, unchanged: Unchanged = () => false): Plan {
  const stats: Plan['stats'] = { chainsWritten: 0, chainsDeleted: 0, rulesWritten: 0, setsCreated: 0, setsDestroyed: 0, membersAdded: 0, membersDeleted: 0 };
  const conflicts: string[] = [];
  const sets = planSets([...desired.v4.sets, ...desired.v6.sets], actual.sets, stats, conflicts, unchanged);
  return {
    ipsetBefore: sets.before,
    iptables: { v4: planFamily(desired.v4, actual.v4, stats, unchanged), v6: planFamily(desired.v6, actual.v6, stats, unchanged) },
    ipsetAfter: sets.after,
    conflicts,
    stats,
  };
}

/**
 * The state the kernel holds once `desired` has been applied in full. With `prev`
 * (the state before) and `unchanged`, entries of unchanged objects are reused.
 */
export function actualOf(desired: Rendered, prev: Actual | null = null, unchanged: Unchanged = () => false): Actual {
  const fam = (f: FamilyRender, p: ActualChains | undefined): ActualChains => ({
    chains: new Map(f.chains.map((c) => {
      const old = unchanged(c) ? p?.chains.get(c.name) : undefined;
      return [c.name, old ?? c.rules.map(ruleHash)];
    })),
    hooks: new Map(f.hooks.map((h) => [`${h.chain} ${h.target}`, [1]])),
  });
  const sets: ActualSets = new Map();
  for (const s of [...desired.v4.sets, ...desired.v6.sets]) {
    const old = unchanged(s) ? prev?.sets.get(s.name) : undefined;
    sets.set(s.name, old ?? { type: s.type, family: s.family, members: new Set(s.members) });
  }
  return { v4: fam(desired.v4, prev?.v4), v6: fam(desired.v6, prev?.v6), sets };
}

/** Every chain and set object of a desired state (for `Unchanged` checks next time). */
export function objectsOf(desired: Rendered): WeakSet<object> {
  const w = new WeakSet<object>();
  for (const f of [desired.v4, desired.v6]) {
    for (const c of f.chains) w.add(c);
    for (const s of f.sets) w.add(s);
  }
  return w;
}

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
 *   3. ipset: destroy stale sets (only now unreferenced), per family: a family's
 *      stale sets (named margay4-/margay6-, listed with family inet/inet6) only once
 *      that family's transaction went in.
 * Unchanged chains and sets are not written at all. Only the families asked for are
 * planned: a family left out (its tools fail, IPv6 disabled) gets no chains, no set
 * writes and no destroys.
 */
import type { ActualChains, ActualSets } from './actual.js';
import type { FamilyRender, Hook, Rendered, RenderedSet } from '../render/model.js';
import { chainLines, hookDeleteLine, hookLine, ruleHash, setAddLine, setCreateLine, setDelLine } from '../render/restore-text.js';

export interface Actual {
  v4: ActualChains;
  v6: ActualChains;
  sets: ActualSets;
}

/** An IP family as the plan and the applier name it. */
export type FamilyKey = 'v4' | 'v6';
export const FAMILY_KEYS: readonly FamilyKey[] = ['v4', 'v6'];
const keyOf = (family: 4 | 6): FamilyKey => (family === 4 ? 'v4' : 'v6');

export interface Plan {
  /** `ipset restore` input before the rules change ('' when nothing). */
  ipsetBefore: string;
  /** `iptables-restore --noflush` / `ip6tables-restore --noflush` input ('' when nothing). */
  iptables: { v4: string; v6: string };
  /** Stale sets to destroy after that family's transaction succeeded (by the kernel's family of the set). */
  staleSets: { v4: string[]; v6: string[] };
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
    for (let i = 0; i < have.length; i++) lines.push(hookDeleteLine(h));
    lines.push(hookLine(h));
    stats.rulesWritten++;
  }
  // A margay hook aimed at a chain no longer wanted (an older margay's layout) is
  // deleted before the stale chains go: `-X` of a chain a hook still jumps to would
  // abort this and every later transaction.
  const wantedHooks = new Set(d.hooks.map((h) => `${h.chain} ${h.target}`));
  for (const [key, positions] of [...a.hooks].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const [chain, target] = key.split(' ') as [Hook['chain'], string];
    if (wantedHooks.has(key) || target === '?') continue;
    for (let i = 0; i < positions.length; i++) lines.push(hookDeleteLine({ chain, target }));
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

function planSets(desired: RenderedSet[], actual: ActualSets, stats: Plan['stats'], conflicts: string[], unchanged: Unchanged, families: ReadonlySet<FamilyKey>): { before: string; stale: Plan['staleSets'] } {
  const before: string[] = [];
  const wanted = new Set<string>();
  for (const s of desired) {
    wanted.add(s.name);
    if (!families.has(keyOf(s.family)) || unchanged(s)) continue;
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
  const stale: Plan['staleSets'] = { v4: [], v6: [] };
  for (const [name, have] of [...actual].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const fam = keyOf(have.family);
    if (wanted.has(name) || !families.has(fam)) continue;
    stale[fam].push(name);
    stats.setsDestroyed++;
  }
  return { before: before.length === 0 ? '' : `${before.join('\n')}\n`, stale };
}

export function planApply(desired: Rendered, actual: Actual, unchanged: Unchanged = () => false, families: readonly FamilyKey[] = FAMILY_KEYS): Plan {
  const stats: Plan['stats'] = { chainsWritten: 0, chainsDeleted: 0, rulesWritten: 0, setsCreated: 0, setsDestroyed: 0, membersAdded: 0, membersDeleted: 0 };
  const conflicts: string[] = [];
  const only = new Set(families);
  const sets = planSets([...desired.v4.sets, ...desired.v6.sets], actual.sets, stats, conflicts, unchanged, only);
  const fam = (f: FamilyKey): string => (only.has(f) ? planFamily(desired[f], actual[f], stats, unchanged) : '');
  return {
    ipsetBefore: sets.before,
    iptables: { v4: fam('v4'), v6: fam('v6') },
    staleSets: sets.stale,
    conflicts,
    stats,
  };
}

/**
 * The state the kernel holds once `desired` has been applied in full (in the
 * families given; a family left out holds nothing of margay's). With `prev` (the
 * state before) and `unchanged`, entries of unchanged objects are reused.
 */
export function actualOf(desired: Rendered, prev: Actual | null = null, unchanged: Unchanged = () => false, families: readonly FamilyKey[] = FAMILY_KEYS): Actual {
  const only = new Set(families);
  const none = (): ActualChains => ({ chains: new Map(), hooks: new Map() });
  const fam = (f: FamilyRender, p: ActualChains | undefined): ActualChains => (!only.has(keyOf(f.family)) ? none() : {
    chains: new Map(f.chains.map((c) => {
      const old = unchanged(c) ? p?.chains.get(c.name) : undefined;
      return [c.name, old ?? c.rules.map(ruleHash)];
    })),
    hooks: new Map(f.hooks.map((h) => [`${h.chain} ${h.target}`, [1]])),
  });
  const sets: ActualSets = new Map();
  for (const s of [...desired.v4.sets, ...desired.v6.sets]) {
    if (!only.has(keyOf(s.family))) continue;
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

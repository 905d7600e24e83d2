import type { LabState } from './state.js';

/**
 * Which labs `margay lab down` removes, decided on values (no I/O):
 * - no flags: the most recent lab a person started (`lab up`, `lab demo --keep`);
 *   labs built by tests ('api') are left to their own teardown, so that a person
 *   never pulls a lab from under a test that is still running;
 * - `--prefix P`: that lab, whatever started it;
 * - `--all`: every recorded lab, plus every namespace whose name says it is
 *   margay's (`mg...`) but that no state file records (leftovers of a crash).
 */
export function pickLatestCliLab(states: LabState[]): LabState | undefined {
  let best: LabState | undefined;
  for (const s of states) {
    if (s.origin !== 'cli') continue;
    if (!best || s.createdAt > best.createdAt) best = s;
  }
  return best;
}

/** Namespaces matching `isOurs` that no state lists, in a stable order. */
export function unrecordedNamespaces(existing: string[], states: LabState[], isOurs: (ns: string) => boolean): string[] {
  const recorded = new Set(states.flatMap((s) => s.namespaces));
  return existing.filter((ns) => isOurs(ns) && !recorded.has(ns)).sort();
}

/** The deletion order of a lab's namespaces: reverse creation order (pods, then nodes, then the fabric). */
export function deletionOrder(state: Pick<LabState, 'namespaces'>): string[] {
  return [...new Set(state.namespaces)].reverse();
}

/**
 * Adj-RIB-Out of one peer as "desired vs sent" (metallb's Set / sendUpdates):
 * callers say what the peer should hold for a prefix (`want`), never "announce"
 * or "withdraw"; `takeUpdates` returns only the difference from what was sent,
 * announcements grouped by attribute set (interned per peer, so identical
 * attributes are one object) so the codec packs many prefixes per UPDATE.
 */
import { attrsKey, type RouteAttrs } from './path.js';

export interface AdjRibOut {
  readonly sent: Map<string, RouteAttrs>;
  readonly pending: Map<string, RouteAttrs | null>;
  readonly intern: Map<string, RouteAttrs>;
  /** intern table size that triggers dropping attribute sets no sent route uses */
  sweepAt: number;
}

const MIN_SWEEP = 1024;

export function newAdjRibOut(): AdjRibOut {
  return { sent: new Map(), pending: new Map(), intern: new Map(), sweepAt: MIN_SWEEP };
}

/** Amortised: forget interned attribute sets that nothing sent refers to. */
function sweepIntern(out: AdjRibOut): void {
  const live = new Set(out.sent.values());
  for (const [k, a] of out.intern) if (!live.has(a)) out.intern.delete(k);
  out.sweepAt = Math.max(MIN_SWEEP, 2 * out.intern.size);
}

/** The interned copy of `attrs` for this peer (identity = equality). */
export function internOut(out: AdjRibOut, attrs: RouteAttrs): RouteAttrs {
  const k = attrsKey(attrs);
  const have = out.intern.get(k);
  if (have) return have;
  out.intern.set(k, attrs);
  return attrs;
}

/** Desired state for one prefix: interned attributes, or null for "not advertised". */
export function want(out: AdjRibOut, prefix: string, attrs: RouteAttrs | null): void {
  out.pending.set(prefix, attrs);
}

export interface OutUpdates {
  announce: Map<RouteAttrs, string[]>;
  withdraw: string[];
}

export function takeUpdates(out: AdjRibOut): OutUpdates {
  const announce = new Map<RouteAttrs, string[]>();
  const withdraw: string[] = [];
  let lastAttrs: RouteAttrs | undefined;
  let lastGroup: string[] = [];
  for (const [prefix, attrs] of out.pending) {
    const sent = out.sent.get(prefix);
    if (attrs === null) {
      if (sent === undefined) continue;
      out.sent.delete(prefix);
      withdraw.push(prefix);
    } else {
      if (sent === attrs) continue;
      out.sent.set(prefix, attrs);
      if (attrs !== lastAttrs) {
        lastAttrs = attrs;
        const group = announce.get(attrs);
        if (group) lastGroup = group; else announce.set(attrs, (lastGroup = []));
      }
      lastGroup.push(prefix);
    }
  }
  out.pending.clear();
  if (out.intern.size > out.sweepAt) sweepIntern(out);
  return { announce, withdraw };
}

/** Session down: nothing is held by the peer any more. */
export function clearOut(out: AdjRibOut): void {
  out.sent.clear(); out.pending.clear(); out.intern.clear(); out.sweepAt = MIN_SWEEP;
}

export function hasPending(out: AdjRibOut): boolean {
  return out.pending.size > 0;
}

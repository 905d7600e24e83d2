/**
 * Rendered rules as data: chains (ordered rule lists) and ipsets per IP family. The
 * restore text is produced from this by restore-text.ts; the apply layer diffs it.
 */
import type { IpFamily } from './names.js';

export interface RenderedRule {
  /** Match and target arguments, e.g. ['-p', 'tcp', '-j', 'DROP']. */
  args: string[];
  /** Human part of the rule comment (the policy and rule it came from). */
  comment: string;
}

export interface RenderedChain {
  name: string;
  rules: RenderedRule[];
}

export type SetType = 'hash:ip' | 'hash:net' | 'hash:ip,port';

export interface RenderedSet {
  name: string;
  type: SetType;
  family: IpFamily;
  /** Entries in ipset syntax, sorted; `nomatch` entries end with " nomatch". */
  members: string[];
  /** What the set stands for (for humans and the JSON output). */
  comment: string;
}

/** A rule margay inserts into a built-in chain to reach its own chains. */
export interface Hook {
  chain: 'FORWARD' | 'INPUT' | 'OUTPUT';
  target: string;
}

export interface FamilyRender {
  family: IpFamily;
  /** In dependency order: referenced chains come before the chains that jump to them. */
  chains: RenderedChain[];
  sets: RenderedSet[];
  hooks: Hook[];
}

export interface Rendered {
  v4: FamilyRender;
  v6: FamilyRender;
}

/**
 * What a speaker passes on of the attributes it could not interpret (RFC 4271
 * §5 / §9.1.4): optional transitive unknown attributes go on with the Partial bit
 * set; optional non-transitive unknown ones are dropped.
 */
import type { PathAttributes, UnknownAttribute } from './types.js';
import { FLAG_OPTIONAL, FLAG_PARTIAL, FLAG_TRANSITIVE } from './constants.js';

export function unknownForPropagation(unknown: readonly UnknownAttribute[] | undefined): UnknownAttribute[] {
  const out: UnknownAttribute[] = [];
  for (const u of unknown ?? []) {
    if ((u.flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) === (FLAG_OPTIONAL | FLAG_TRANSITIVE)) {
      out.push({ code: u.code, flags: u.flags | FLAG_PARTIAL, hex: u.hex });
    }
  }
  return out;
}

/** The attributes with `unknown` prepared for propagation (see unknownForPropagation). */
export function forPropagation(a: PathAttributes): PathAttributes {
  if (a.unknown === undefined) return a;
  const { unknown, ...rest } = a;
  const kept = unknownForPropagation(unknown);
  return kept.length > 0 ? { ...rest, unknown: kept } : rest;
}

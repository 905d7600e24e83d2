/**
 * metav1.LabelSelector matching: "matchLabels is a map of {key,value} pairs ... The
 * requirements are ANDed." In: the label exists and its value is in values; NotIn:
 * the label is absent or its value is not in values; Exists / DoesNotExist: the key
 * is present / absent. An empty selector matches everything.
 */
import type { LabelSelector, SelectorRequirement } from '../model/types.js';

export function matchesRequirement(r: SelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(v as string);
    case 'NotIn':
      return !has || !r.values.includes(v as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function matchesSelector(s: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(s.matchLabels)) {
    if (!Object.prototype.hasOwnProperty.call(labels, k) || labels[k] !== v) return false;
  }
  return s.matchExpressions.every((r) => matchesRequirement(r, labels));
}

export function isEmptySelector(s: LabelSelector): boolean {
  return Object.keys(s.matchLabels).length === 0 && s.matchExpressions.length === 0;
}

/** A canonical text of a selector (sorted), for hashing identities. */
export function canonicalSelector(s: LabelSelector): string {
  const ml = Object.keys(s.matchLabels).sort().map((k) => `${k}=${s.matchLabels[k]}`);
  const me = s.matchExpressions
    .map((r) => `${r.key} ${r.operator} (${[...r.values].sort().join(',')})`)
    .sort();
  return `{${[...ml, ...me].join(';')}}`;
}

import { describe, expect, it } from 'vitest';
import { matchesSelector, canonicalSelector } from '../../../../policy/resolve/selector.js';
import type { LabelSelector } from '../../../../policy/model/types.js';

const sel = (s: Partial<LabelSelector>): LabelSelector => ({ matchLabels: {}, matchExpressions: [], ...s });

describe('label selector matching', () => {
  const rows: [string, LabelSelector, Record<string, string>, boolean][] = [
    ['empty selector matches everything', sel({}), {}, true],
    ['matchLabels equal', sel({ matchLabels: { a: '1' } }), { a: '1', b: '2' }, true],
    ['matchLabels different value', sel({ matchLabels: { a: '1' } }), { a: '2' }, false],
    ['matchLabels missing key', sel({ matchLabels: { a: '1' } }), {}, false],
    ['matchLabels ANDed', sel({ matchLabels: { a: '1', b: '2' } }), { a: '1' }, false],
    ['In: value listed', sel({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }), { a: '2' }, true],
    ['In: value not listed', sel({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }), { a: '3' }, false],
    ['In: key absent', sel({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }), {}, false],
    ['NotIn: value not listed', sel({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }), { a: '2' }, true],
    ['NotIn: value listed', sel({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }), { a: '1' }, false],
    ['NotIn: key absent matches', sel({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }), {}, true],
    ['Exists: present (empty value)', sel({ matchExpressions: [{ key: 'a', operator: 'Exists', values: [] }] }), { a: '' }, true],
    ['Exists: absent', sel({ matchExpressions: [{ key: 'a', operator: 'Exists', values: [] }] }), { b: '1' }, false],
    ['DoesNotExist: absent', sel({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: [] }] }), { b: '1' }, true],
    ['DoesNotExist: present', sel({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: [] }] }), { a: 'x' }, false],
    ['labels and expressions ANDed', sel({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists', values: [] }] }), { a: '1' }, false],
    ['key named like an Object prototype member', sel({ matchExpressions: [{ key: 'constructor', operator: 'Exists', values: [] }] }), {}, false],
  ];
  it.each(rows)('%s', (_name, s, labels, want) => {
    expect(matchesSelector(s, labels)).toBe(want);
  });

  it('canonical text ignores order', () => {
    const a = sel({ matchLabels: { a: '1', b: '2' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['y', 'x'] }] });
    const b = sel({ matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['x', 'y'] }] });
    expect(canonicalSelector(a)).toBe(canonicalSelector(b));
    expect(canonicalSelector(a)).not.toBe(canonicalSelector(sel({})));
  });
});

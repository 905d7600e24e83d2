import { describe, expect, it } from 'vitest';
import { matchSelector, parseSelector } from '../../../../agent/ipam/selector.js';

const node = { zone: 'a', 'kubernetes.io/os': 'linux', rack: 'r1', empty: '' };

describe('nodeSelector', () => {
  it.each([
    ['', true],
    ['all()', true],
    ['global()', true],
    ['all( )', true],
    ["zone == 'a'", true],
    ['zone == "a"', true],
    ["zone == 'b'", false],
    ["zone != 'b'", true],
    ["missing != 'b'", true],
    ['has(rack)', true],
    ['has( rack )', true],
    ['!has(rack)', false],
    ['!has(missing)', true],
    ["zone in {'a', 'c'}", true],
    ["zone in {'c'}", false],
    ['zone in {}', false],
    ["missing in {'a'}", false],
    ["zone not in {'a'}", false],
    ["zone notin {'b'}", true],
    ["missing not in {'a'}", true],
    // contains / starts with / ends with: the label must be present
    ["rack contains '1'", true],
    ["rack contains 'x'", false],
    ["missing contains ''", false],
    ["empty contains ''", true],
    ["rack starts with 'r'", true],
    ["rack startswith 'r'", true],
    ["zone starts with 'r'", false],
    ["missing starts with ''", false],
    ["rack ends with '1'", true],
    ["rack ends  with 'r'", false],
    ["kubernetes.io/os endswith 'ux'", true],
    ["!(rack starts with 'r')", false],
    ["!rack starts with 'x'", true],
    ["zone == 'b' || rack == 'r1'", true],
    ["zone == 'a' && (rack == 'r2' || has(kubernetes.io/os))", true],
    ["zone == 'a' && rack == 'r2'", false],
    ["zone == 'b' || zone == 'a' && rack == 'r2'", false],
    ["(zone == 'b' || zone == 'a') && rack == 'r1'", true],
    ["!!has(zone)", true],
  ])('%s → %s', (sel, want) => {
    expect(matchSelector(parseSelector(sel), node)).toBe(want);
  });

  it.each([
    "zone = 'a'",
    'zone == ',
    'has(',
    'has()',
    "zone == 'a' rack",
    "zone == 'a",
    'zone == a',
    "rack starts 'r'",
    "rack starts with r",
    "rack with 'r'",
    "rack contains",
    "zone in {'a' 'b'}",
    "zone in {'a',}",
    "zone in 'a'",
    'global(',
    'all',
    "zone == 'a' &&",
    "&& zone == 'a'",
    "zone == 'a' & rack == 'r1'",
    "(zone == 'a'",
    "zone == 'a')",
    '()',
    "zone == 'a' || || rack == 'r1'",
  ])('rejects %s', (sel) => {
    expect(() => parseSelector(sel)).toThrow(/invalid selector/);
  });
});

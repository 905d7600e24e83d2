import { describe, expect, it } from 'vitest';
import { matchSelector, parseSelector } from '../../../../agent/ipam/selector.js';

const node = { zone: 'a', 'kubernetes.io/os': 'linux', rack: 'r1' };

describe('nodeSelector', () => {
  it.each([
    ['', true],
    ['all()', true],
    ["zone == 'a'", true],
    ["zone == 'b'", false],
    ["zone != 'b'", true],
    ['has(rack)', true],
    ['!has(rack)', false],
    ["zone in {'a', 'c'}", true],
    ["zone not in {'a'}", false],
    ["missing not in {'a'}", true],
    ["zone == 'b' || rack == 'r1'", true],
    ["zone == 'a' && (rack == 'r2' || has(kubernetes.io/os))", true],
    ["zone == 'a' && rack == 'r2'", false],
  ])('%s → %s', (sel, want) => {
    expect(matchSelector(parseSelector(sel), node)).toBe(want);
  });

  it.each(["zone = 'a'", "zone == ", 'has(', "zone == 'a' rack"])('rejects %s', (sel) => {
    expect(() => parseSelector(sel)).toThrow(/invalid selector/);
  });
});

import { describe, expect, it } from 'vitest';
import { otherBackendLines } from '../../../../agent/cli/commands/cleanup.js';
import { margay } from '../../../support/cli.js';

// Usage errors come before anything reads or writes the kernel: safe without root.
describe('margay cleanup: flags', () => {
  it.each([
    [['--cni-conflist', 'a/b.conflist'], '--cni-conflist must be a file name'],
    [['--cni-conf', ''], '--cni-conf must be a directory'],
    [['--cni-conf', '/x', '--no-cni-conf'], 'exclude each other'],
    [['--iptables-backend', 'xt'], '--iptables-backend must be auto, nft or legacy'],
    [['--bogus'], 'unknown flag'],
  ])('%j is a usage error (exit 2)', (args, text) => {
    const r = margay(['cleanup', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(text);
  });

  it('--help prints the usage, exit 0', () => {
    const r = margay(['cleanup', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: margay cleanup');
    expect(r.stdout).toContain('--dry-run');
  });
});

describe('otherBackendLines', () => {
  const done = { backend: 'legacy' as const, tool: '/usr/sbin/iptables-legacy-restore', rules: 2, chains: ['MARGAY-FORWARD'] };
  it('says what was (or would be) removed from the backend not chosen, and its failures', () => {
    expect(otherBackendLines([done], false)).toEqual(['removed iptables: /usr/sbin/iptables-legacy-restore (legacy, the backend not chosen): 2 rule(s), chains MARGAY-FORWARD']);
    expect(otherBackendLines([done], true)[0]).toMatch(/^would remove iptables: /);
    expect(otherBackendLines([{ ...done, chains: [], error: 'boom' }], false)).toEqual(['error: /usr/sbin/iptables-legacy-restore (legacy, the backend not chosen): 2 rule(s), chains -: boom']);
    expect(otherBackendLines([], false)).toEqual([]);
  });
});

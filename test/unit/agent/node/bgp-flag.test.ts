import { describe, expect, it } from 'vitest';
import { margay } from '../../../support/cli.js';

describe('margay agent --bgp (no root needed)', () => {
  it('--help documents --bgp on|off with MARGAY_BGP', () => {
    const r = margay(['agent', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}--bgp on\|off .*off: an external speaker .*\[MARGAY_BGP\]$/m);
  });

  it.each([
    [['--bgp', 'maybe'], {}, '--bgp must be on or off, got "maybe"'],
    [[], { MARGAY_BGP: 'bird' }, '--bgp must be on or off, got "bird"'],
  ])('agent %j (env %j) is a usage error (exit 2)', (args, env, message) => {
    const r = margay(['agent', '--node', 'n1', '--datastore-dir', '/nonexistent', ...args], { env: { MARGAY_NODE: '', NODE_NAME: '', ...env } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

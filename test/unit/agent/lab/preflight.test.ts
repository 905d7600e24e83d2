import { afterEach, describe, expect, it } from 'vitest';
import { labHostProblems } from '../../../../agent/lab/preflight.js';

describe('labHostProblems', () => {
  const path = process.env.PATH;
  afterEach(() => { process.env.PATH = path; });

  it('names the Debian package of each missing tool the lab needs, and the install script', async () => {
    process.env.PATH = '/nonexistent-margay-path'; // nothing can be found: every tool is missing
    const problems = await labHostProblems(['iptables-restore', 'ipset', 'bird', 'ip', 'margay-no-such-tool']);
    const line = (tool: string): string | undefined => problems.find((p) => p.startsWith(`"${tool}" is not installed`));
    expect(line('iptables-restore')).toContain('(Debian package iptables)');
    expect(line('ipset')).toContain('(Debian package ipset)');
    expect(line('bird')).toContain('(Debian package bird2)');
    expect(line('ip')).toContain('(Debian package iproute2)');
    expect(line('margay-no-such-tool')).toBe('"margay-no-such-tool" is not installed (margay-no-such-tool); sh agent/lab/install-system-deps.sh installs it');
  });
});

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { margay, MARGAY_JS, REPO_ROOT } from '../../../support/cli.js';

const SUBCOMMANDS = ['agent', 'status', 'bgp', 'policy', 'lab', 'validate', 'cleanup'];

describe('margay CLI usage', () => {
  it('prints the command list on --help and exits 0', () => {
    const r = margay(['--help']);
    expect(r.status).toBe(0);
    for (const name of SUBCOMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('with no command prints usage on stderr and exits 2', () => {
    const r = margay([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: margay <command>');
  });

  it.each(SUBCOMMANDS)('answers "%s --help" with its own usage', (name) => {
    const r = margay([name, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`usage: margay ${name}`);
  });

  it('rejects an unknown command by name, exit 2', () => {
    const r = margay(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it('rejects an unknown nested subcommand by name', () => {
    const r = margay(['bgp', 'nonsense']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown subcommand "bgp nonsense"');
  });

  it('rejects a bad log level naming the allowed ones', () => {
    const r = margay(['--log-level', 'loud', '--help']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('log level must be one of');
  });
});

describe('margay under an older system Node', () => {
  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
    const r = spawnSync(p, ['--version'], { encoding: 'utf8' });
    return r.status === 0 && Number(r.stdout.trim().slice(1).split('.')[0]) < 22;
  });
  it.skipIf(!systemNode)('runs itself again under the project Node 24 (skipped when no Node < 22 is installed)', () => {
    const r = spawnSync(systemNode as string, [MARGAY_JS, 'validate', join(REPO_ROOT, 'examples')], { encoding: 'utf8', env: { ...process.env, MARGAY_NO_REEXEC: '' } });
    expect(r.stderr).not.toContain('TypeError');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/valid/);
  });
});

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { margay, MARGAY_JS } from '../../../support/cli.js';

// Flag errors are found before anything touches the kernel, so these run unprivileged.
describe('margay lab usage', () => {
  it.each([
    [['lab', 'up', '--nodes', '0'], '--nodes must be between 1 and 64, got 0'],
    [['lab', 'up', '--nodes', '65'], '--nodes must be between 1 and 64, got 65'],
    [['lab', 'up', '--nodes', 'three'], '--nodes must be a whole number, got "three"'],
    [['lab', 'up', '--nodes'], "'--nodes <value>' argument missing"],
    [['lab', 'up', '--fabric', 'mesh'], '--fabric must be one of l2, routed, got "mesh"'],
    [['lab', 'up', '--pods', '17'], '--pods must be between 0 and 16, got 17'],
    [['lab', 'up', '--routers', '2'], "unknown flag '--routers'"],
    [['lab', 'down', '--all', '--prefix', 'mg12ab'], '--all and --prefix exclude each other'],
    [['lab', 'down', '--prefix', 'eth0'], '--prefix must name a lab such as mg3fa9, got "eth0"'],
    [['lab', 'demo', 'now'], 'Unexpected argument'],
    [['lab', 'sideways'], 'unknown subcommand "lab sideways"'],
  ])('margay %j → exit 2: %s', (args, message) => {
    const r = margay(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('usage: margay lab');
    expect(r.stdout).toBe('');
  });

  it.each(['up', 'down', 'demo'])('answers "lab %s --help" with its usage, exit 0', (sub) => {
    const r = margay(['lab', sub, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`usage: margay lab ${sub}`);
  });

  it('lists up, down, demo and probe in "lab --help"', () => {
    const r = margay(['lab', '--help']);
    expect(r.status).toBe(0);
    for (const sub of ['up', 'down', 'demo', 'probe']) expect(r.stdout).toMatch(new RegExp(`^  ${sub} `, 'm'));
  });
});

describe('margay lab on a host that cannot run it', () => {
  it('refuses, naming the reason, when not root (run as nobody when the tests are root)', () => {
    const asRoot = process.getuid?.() === 0;
    const r = spawnSync(process.execPath, [MARGAY_JS, 'lab', 'up', '--nodes', '2'], {
      encoding: 'utf8',
      timeout: 30_000,
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('margay lab: a lab needs root');
    expect(r.stdout).toBe('');
  });

  it('says which tool is missing when `ip` is not on PATH', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'margay-nopath-'));
    try {
      await symlink('/bin/sh', join(bin, 'sh'));
      const r = margay(['lab', 'down', '--prefix', 'mg12ab'], { env: { PATH: bin } });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('margay lab: "ip" is not installed (Debian package iproute2)');
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});

import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { margay } from '../../../support/cli.js';

// A bad --route-reflector is a usage error found before anything is built. PATH holds
// no `ip`, so a flag check that let it through would stop at the preflight (exit 1)
// instead of building a lab.
describe('margay lab up --route-reflector names a node of the lab', () => {
  it.each([
    [['--route-reflector', 'n0'], 'n0'],
    [['--route-reflector', 'n01'], 'n01'],
    [['--route-reflector', 'n00'], 'n00'],
    [['--nodes', '2', '--route-reflector', 'n3'], 'n3'],
  ])('lab up %j → exit 2 (%s)', async (args) => {
    const bin = await mkdtemp(join(tmpdir(), 'margay-nopath-'));
    try {
      await symlink('/bin/sh', join(bin, 'sh'));
      const r = margay(['lab', 'up', ...args], { env: { PATH: bin } });
      expect(r.stderr).toContain('--route-reflector');
      expect(r.stderr).toContain('usage: margay lab up');
      expect(r.status).toBe(2);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});

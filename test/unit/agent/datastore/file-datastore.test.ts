import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDatastore } from '../../../../agent/datastore/file-datastore.js';
import { objectsOf, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Rejection } from '../../../../agent/datastore/datastore.js';

const policy = (name: string, ns = 'x') => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec: {podSelector: {}, policyTypes: [Ingress]}
`;

describe('file datastore (scan semantics)', () => {
  let dir: string;
  let ds: FileDatastore | undefined;
  let last: Snapshot | undefined;
  let rejected: Rejection[];
  const policies = () => objectsOf(last!, 'NetworkPolicy').map((o) => o.metadata.name).sort();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'margay-fileds-unit-'));
    last = undefined;
    rejected = [];
  });
  afterEach(async () => {
    await ds?.stop();
    ds = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (root = dir) => {
    ds = new FileDatastore({ dir: root, debounceMs: 5, pollIntervalMs: 600_000 });
    await ds.start({ onSnapshot: (s) => (last = s), onRejected: (r) => rejected.push(r) });
  };

  it('a half-written (syntax-broken) file keeps its last good objects, reported once; an empty file means no objects', async () => {
    const full = `${policy('a')}---\n${policy('b')}`;
    await writeFile(join(dir, 'p.yaml'), full);
    await start();
    expect(policies()).toEqual(['a', 'b']);
    await writeFile(join(dir, 'p.yaml'), full.slice(0, full.indexOf('spec: {podSelector', full.indexOf('name: b')) + 14));
    await ds!.resync();
    await ds!.resync();
    expect(policies()).toEqual(['a', 'b']);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.errors[0]!.message).toMatch(/^YAML: .*last good objects are kept/);
    await writeFile(join(dir, 'p.yaml'), policy('c'));
    await ds!.resync();
    expect(policies()).toEqual(['c']);
    await writeFile(join(dir, 'p.yaml'), '');
    await ds!.resync();
    expect(policies()).toEqual([]);
  });

  it('reads a ConfigMap-volume layout (symlinks through ..data) and sees the ..data swap', async () => {
    // what the kubelet writes: ..TIMESTAMP/ holds the files, ..data -> it, p.yaml -> ..data/p.yaml
    await mkdir(join(dir, '..2026_11_21_01'));
    await writeFile(join(dir, '..2026_11_21_01', 'p.yaml'), policy('a'));
    await symlink('..2026_11_21_01', join(dir, '..data'));
    await symlink('..data/p.yaml', join(dir, 'p.yaml'));
    await start();
    expect(policies()).toEqual(['a']);
    // an update: new timestamped dir, ..data_tmp -> it, renamed over ..data
    await mkdir(join(dir, '..2026_11_21_02'));
    await writeFile(join(dir, '..2026_11_21_02', 'p.yaml'), policy('z'));
    await symlink('..2026_11_21_02', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..2026_11_21_01'), { recursive: true });
    await ds!.resync();
    expect(policies()).toEqual(['z']);
    expect(rejected).toEqual([]);
  });

  it('follows a symlinked directory once, and a symlink loop does not hang the scan', async () => {
    const other = await mkdtemp(join(tmpdir(), 'margay-fileds-unit-other-'));
    try {
      await writeFile(join(other, 'q.yaml'), policy('q'));
      await symlink(other, join(dir, 'team'));
      await symlink(other, join(dir, 'team-again'));
      await symlink('.', join(dir, 'loop'));
      await symlink(dir, join(other, 'back'));
      await start();
      expect(policies()).toEqual(['q']);
      expect(rejected).toEqual([]);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('reports a duplicate object once while it lasts, and again when it comes back', async () => {
    await writeFile(join(dir, 'a.yaml'), policy('p'));
    await writeFile(join(dir, 'b.yaml'), policy('p'));
    await start();
    await ds!.resync();
    await ds!.resync();
    expect(rejected.map((r) => `${r.source} ${r.errors[0]!.message}`)).toEqual(['b.yaml duplicate: already defined in a.yaml; this copy is ignored']);
    await writeFile(join(dir, 'b.yaml'), policy('q'));
    await ds!.resync();
    expect(policies()).toEqual(['p', 'q']);
    await writeFile(join(dir, 'b.yaml'), policy('p'));
    await ds!.resync();
    await ds!.resync();
    expect(rejected).toHaveLength(2);
  });
});

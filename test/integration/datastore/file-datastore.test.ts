import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDatastore } from '../../../agent/datastore/file-datastore.js';
import { objectsOf, type Snapshot } from '../../../agent/datastore/snapshot.js';
import type { Rejection } from '../../../agent/datastore/datastore.js';
import { waitFor } from '../../support/wait.js';

const policy = (name: string, ns = 'x') => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec: {podSelector: {}}
`;

describe('file datastore', () => {
  let dir: string;
  let ds: FileDatastore;
  let snapshots: Snapshot[];
  let rejected: Rejection[];
  const latest = () => snapshots[snapshots.length - 1] as Snapshot;
  const names = (kind: 'NetworkPolicy' | 'Namespace' | 'IPPool') => objectsOf(latest(), kind).map((o) => o.metadata.name);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'margay-fileds-'));
    snapshots = [];
    rejected = [];
  });
  afterEach(async () => {
    await ds?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async () => {
    ds = new FileDatastore({ dir, debounceMs: 5, pollIntervalMs: 60_000 });
    await ds.start({ onSnapshot: (s) => snapshots.push(s), onRejected: (r) => rejected.push(r) });
  };

  it('delivers the initial objects before start resolves, even for an empty directory', async () => {
    await start();
    expect(snapshots).toHaveLength(1);
    expect(names('NetworkPolicy')).toEqual([]);
  });

  it('sees files added, changed and removed, in sub-directories too', async () => {
    await writeFile(join(dir, 'a.yaml'), policy('p1'));
    await start();
    expect(names('NetworkPolicy')).toEqual(['p1']);
    await mkdir(join(dir, 'team'));
    await writeFile(join(dir, 'team', 'b.yml'), policy('p2'));
    await waitFor(() => names('NetworkPolicy').length === 2, 3000, 'p2 to appear');
    await writeFile(join(dir, 'a.yaml'), policy('p1-renamed'));
    await waitFor(() => names('NetworkPolicy').includes('p1-renamed') && !names('NetworkPolicy').includes('p1'), 3000, 'rename');
    await unlink(join(dir, 'team', 'b.yml'));
    await waitFor(() => names('NetworkPolicy').join() === 'p1-renamed', 3000, 'p2 to go');
  });

  it('sees an atomic replace by rename (how editors and kubectl-like tools write)', async () => {
    await writeFile(join(dir, 'a.yaml'), policy('old'));
    await start();
    await writeFile(join(dir, '.a.yaml.tmp'), policy('new'));
    await rename(join(dir, '.a.yaml.tmp'), join(dir, 'a.yaml'));
    await waitFor(() => names('NetworkPolicy').join() === 'new', 3000, 'replaced policy');
  });

  it('rejects an invalid object naming file and field, and keeps serving the rest', async () => {
    await writeFile(join(dir, 'good.yaml'), policy('fine'));
    await writeFile(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: NOT_OK}\n');
    await start();
    expect(names('NetworkPolicy')).toEqual(['fine']);
    expect(names('Namespace')).toEqual([]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ source: 'bad.yaml', errors: [{ path: 'metadata.name' }] });
  });

  it('ignores a second definition of the same object and says where the first is', async () => {
    await writeFile(join(dir, '1.yaml'), policy('same'));
    await writeFile(join(dir, '2.yaml'), policy('same'));
    await start();
    expect(names('NetworkPolicy')).toEqual(['same']);
    expect(rejected[0]?.errors[0]?.message).toContain('already defined in 1.yaml');
  });

  it('does not read the ipam directory or dot-directories', async () => {
    await mkdir(join(dir, 'ipam'));
    await mkdir(join(dir, '.hidden'));
    await writeFile(join(dir, 'ipam', 'x.yaml'), policy('from-ipam'));
    await writeFile(join(dir, '.hidden', 'x.yaml'), policy('from-hidden'));
    await start();
    expect(names('NetworkPolicy')).toEqual([]);
  });

  it('is not woken by IPAM writes under ipam/ (no re-scan), while manifest sub-directories stay watched', async () => {
    await mkdir(join(dir, 'ipam', 'block'), { recursive: true });
    await mkdir(join(dir, 'team'));
    await start();
    const scans = vi.spyOn(ds as unknown as { scanOnce: (initial: boolean) => Promise<void> }, 'scanOnce');
    for (let i = 0; i < 5; i++) await writeFile(join(dir, 'ipam', 'block', `b${i}.json`), '{}');
    await new Promise((r) => setTimeout(r, 100));
    expect(scans).not.toHaveBeenCalled();
    await writeFile(join(dir, 'team', 'p.yaml'), policy('late'));
    await waitFor(() => names('NetworkPolicy').join() === 'late', 3000, 'a policy written into a watched sub-directory');
    expect(scans).toHaveBeenCalled();
  });

  it('emits no new snapshot when a file is rewritten with identical content', async () => {
    await writeFile(join(dir, 'a.yaml'), policy('p'));
    await start();
    const before = snapshots.length;
    await writeFile(join(dir, 'a.yaml'), policy('p'));
    await ds.resync();
    expect(snapshots.length).toBe(before);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDatastore } from '../../../../agent/datastore/file-datastore.js';
import { objectsOf, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Rejection } from '../../../../agent/datastore/datastore.js';
import { schemaValidator } from '../../../../agent/datastore/index.js';

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
  let reads: string[];
  const policies = () => objectsOf(last!, 'NetworkPolicy').map((o) => o.metadata.name).sort();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'margay-fileds-unit-'));
    last = undefined;
    rejected = [];
    reads = [];
  });
  afterEach(async () => {
    await ds?.stop();
    ds = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (root = dir, validate = false) => {
    ds = new FileDatastore({ dir: root, debounceMs: 5, pollIntervalMs: 600_000, ...(validate ? { validate: schemaValidator } : {}) });
    await ds.start({ onSnapshot: (s) => (last = s), onRejected: (r) => rejected.push(r), onSourceRead: (src) => reads.push(src) });
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

  it('tells when a file is read again or is gone (its earlier rejections superseded); an unchanged file is not re-read; a standing duplicate is reported again after its file is re-read', async () => {
    const bad = 'apiVersion: margay.io/v1\nkind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: nope, asNumber: 65000}\n';
    await writeFile(join(dir, 'a.yaml'), policy('p'));
    await writeFile(join(dir, 'b.yaml'), `${policy('p')}---\n${bad}`);
    await start(dir, true);
    expect(reads.sort()).toEqual(['a.yaml', 'b.yaml']);
    expect(rejected.map((r) => r.source).sort()).toEqual(['b.yaml', 'b.yaml']); // the invalid peer, the duplicate policy
    reads = [];
    rejected = [];
    await ds!.resync();
    expect(reads).toEqual([]); // nothing changed: not re-read, the rejections stand
    await writeFile(join(dir, 'b.yaml'), `${policy('p')}\n`); // the invalid peer removed; the duplicate stays
    await ds!.resync();
    expect(reads).toEqual(['b.yaml']);
    expect(rejected.map((r) => r.errors[0]!.message)).toEqual(['duplicate: already defined in a.yaml; this copy is ignored']);
    // the duplicate's `kept` is a.yaml's copy, the one the snapshot holds (so the agent keeps the problem)
    expect(rejected[0]!.kept).toBe(objectsOf(last!, 'NetworkPolicy')[0]);
    // a.yaml read again (its copy changed): the standing duplicate is said again, against the new copy
    rejected = [];
    await writeFile(join(dir, 'a.yaml'), `${policy('p')}# edited\n`);
    await ds!.resync();
    expect(rejected.map((r) => r.source)).toEqual(['b.yaml']);
    reads = [];
    await rm(join(dir, 'b.yaml'));
    await ds!.resync();
    expect(reads).toEqual(['b.yaml']);
  });

  it('an edit that makes an object invalid keeps its last good version (reported so); a new invalid object is left out; removal deletes', async () => {
    const peer = (asNumber: string) => `apiVersion: margay.io/v1\nkind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 10.1.1.1, asNumber: ${asNumber}}\n`;
    const pool = (extra: string) => `apiVersion: margay.io/v1\nkind: IPPool\nmetadata: {name: pool}\nspec: {cidr: 10.244.0.0/16${extra}}\n`;
    const peers = () => objectsOf(last!, 'BGPPeer').map((o) => [o.metadata.name, (o.spec as { asNumber: unknown }).asNumber]);
    const pools = () => objectsOf(last!, 'IPPool').map((o) => [o.metadata.name, (o.spec as { natOutgoing?: unknown }).natOutgoing]);
    await writeFile(join(dir, 'peer.yaml'), peer('65000'));
    await writeFile(join(dir, 'pool.yaml'), pool(', natOutgoing: true'));
    await start(dir, true);
    expect(peers()).toEqual([['tor', 65000]]);
    expect(rejected).toEqual([]);
    await writeFile(join(dir, 'peer.yaml'), peer('"65000.70000"'));
    await writeFile(join(dir, 'pool.yaml'), pool(', natOutgoing: "true"'));
    await ds!.resync();
    await ds!.resync();
    expect(peers()).toEqual([['tor', 65000]]); // the BGP session is not withdrawn
    expect(pools()).toEqual([['pool', true]]); // nor the pool's blocks released
    expect(rejected.map((r) => [r.source, r.object])).toEqual([['peer.yaml', 'BGPPeer tor (document 1)'], ['pool.yaml', 'IPPool pool (document 1)']]);
    for (const r of rejected) expect(r.errors.at(-1)!.message).toMatch(/\(last good version kept\)$/);
    // the kept version is the very object the snapshot holds (the agent keeps the problem while it is there)
    expect(rejected[0]!.kept).toBe(objectsOf(last!, 'BGPPeer')[0]);
    expect(rejected[1]!.kept).toBe(objectsOf(last!, 'IPPool')[0]);
    // still invalid after another edit: still the last good version
    await writeFile(join(dir, 'peer.yaml'), peer('"abc"'));
    await ds!.resync();
    expect(peers()).toEqual([['tor', 65000]]);
    expect(rejected).toHaveLength(3);
    // a valid edit applies
    await writeFile(join(dir, 'peer.yaml'), peer('65001'));
    await ds!.resync();
    expect(peers()).toEqual([['tor', 65001]]);
    // removing the object (here: the file's content) deletes it, and so does deleting the file
    await writeFile(join(dir, 'peer.yaml'), `apiVersion: margay.io/v1\nkind: BGPPeer\nmetadata: {name: other}\nspec: {peerIP: 10.1.1.2, asNumber: 65002}\n`);
    await rm(join(dir, 'pool.yaml'));
    await ds!.resync();
    expect(peers()).toEqual([['other', 65002]]);
    expect(pools()).toEqual([]);
    // a brand-new invalid object is only rejected, with no such note
    await writeFile(join(dir, 'pool.yaml'), pool(', natOutgoing: "true"'));
    await ds!.resync();
    expect(pools()).toEqual([]);
    expect(rejected).toHaveLength(4);
    expect(rejected[3]!.errors.map((e) => e.message).join()).not.toMatch(/last good/);
  });
});

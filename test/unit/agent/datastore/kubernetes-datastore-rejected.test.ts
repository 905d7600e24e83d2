/**
 * KubernetesDatastore against the in-process fake API server: an update the agent
 * rejects (the API server accepted it — CEL cannot parse a selector) keeps the last
 * good version of the object, on a watch event and on a re-list (410 Gone), as the
 * file datastore does; the rejection says so. A new invalid object is only rejected;
 * deleting the object deletes it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../../support/fake-apiserver.js';
import { KubernetesDatastore } from '../../../../agent/datastore/kubernetes-datastore.js';
import { KINDS, type Resource } from '../../../../agent/datastore/resources.js';
import { withSemanticChecks } from '../../../../agent/datastore/validate.js';
import type { Rejection } from '../../../../agent/datastore/datastore.js';
import type { Snapshot } from '../../../../agent/datastore/snapshot.js';

const pool = (name: string, nodeSelector: string) => ({ kind: 'IPPool', apiVersion: 'margay.io/v1', metadata: { name }, spec: { cidr: '10.244.0.0/16', nodeSelector } });

describe('KubernetesDatastore: an invalid update keeps the last good version', () => {
  let api: FakeApiServer;
  let ds: KubernetesDatastore;
  let snaps: Snapshot[];
  let rejected: Rejection[];
  beforeEach(async () => {
    api = new FakeApiServer(KINDS.map((k) => ({ kind: k.kind, group: k.group, version: k.version, plural: k.plural, namespaced: k.namespaced })), { bookmarkIntervalMs: 0 });
    await api.start();
    snaps = [];
    rejected = [];
    // the semantic checks alone (selectors parse): the schema is not what this is about
    ds = new KubernetesDatastore({ server: api.url, minBackoffMs: 10, maxBackoffMs: 20, coalesceMs: 2, validate: withSemanticChecks((o) => ({ ok: true, object: o })) });
  });
  afterEach(async () => {
    await ds.stop();
    await api.stop();
  });

  const selectorOf = (s: Snapshot | undefined, name: string): string | undefined => {
    const p = s?.objects.get('IPPool')?.get(name) as (Resource & { spec: { nodeSelector?: string } }) | undefined;
    return p?.spec.nodeSelector;
  };
  const until = async (what: string, cond: () => boolean): Promise<void> => {
    const t0 = performance.now();
    while (!cond()) {
      if (performance.now() - t0 > 3000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('watch: a selector the agent cannot parse keeps the cached pool; a new invalid pool is left out; delete removes', async () => {
    api.create(pool('pool-a', "zone == 'a'"));
    await ds.start({ onSnapshot: (s) => snaps.push(s), onRejected: (r) => rejected.push(r) });
    expect(selectorOf(snaps.at(-1), 'pool-a')).toBe("zone == 'a'");

    api.update(pool('pool-a', "zone = 'a'"));
    await until('the rejection', () => rejected.length >= 1);
    api.create(pool('pool-b', "rack = 'r'"));
    await until('the second rejection', () => rejected.length >= 2);
    api.create(pool('pool-c', 'all()'));
    await until('pool-c in a snapshot', () => selectorOf(snaps.at(-1), 'pool-c') === 'all()');
    expect(selectorOf(snaps.at(-1), 'pool-a')).toBe("zone == 'a'");
    expect(snaps.at(-1)?.objects.get('IPPool')?.has('pool-b')).toBe(false);
    expect(rejected[0]?.object).toBe('IPPool pool-a');
    expect(rejected[0]?.errors.every((e) => e.message.endsWith(' (last good version kept)'))).toBe(true);
    expect(rejected[1]?.object).toBe('IPPool pool-b');
    expect(rejected[1]?.errors.some((e) => e.message.includes('last good version kept'))).toBe(false);

    api.delete('IPPool', 'pool-a');
    await until('pool-a deleted', () => snaps.at(-1)?.objects.get('IPPool')?.has('pool-a') === false);
  });

  it('the rejections of a kind are superseded by a (re-)list, and a rejected object deleted is said so (its rejection void)', async () => {
    const reads: string[] = [];
    const deleted: string[] = [];
    api.create(pool('pool-b', "rack = 'r'")); // invalid from the start: never in a snapshot
    await ds.start({ onSnapshot: (s) => snaps.push(s), onRejected: (r) => rejected.push(r), onSourceRead: (src) => reads.push(src), onDeleted: (src, obj) => deleted.push(`${src} ${obj}`) });
    expect(reads).toContain('kubernetes:ippools'); // the initial list: earlier rejections (none yet) superseded
    expect(rejected.map((r) => r.object)).toEqual(['IPPool pool-b']);
    api.delete('IPPool', 'pool-b');
    await until('the deletion reported', () => deleted.length > 0);
    expect(deleted).toEqual(['kubernetes:ippools IPPool pool-b']);
  });

  it('re-list (410 Gone): a rejected item keeps its cached copy', async () => {
    api.create(pool('pool-a', "zone == 'a'"));
    await ds.start({ onSnapshot: (s) => snaps.push(s), onRejected: (r) => rejected.push(r) });
    expect(selectorOf(snaps.at(-1), 'pool-a')).toBe("zone == 'a'");
    const before = snaps.length;
    // the invalid update lands while the watch is down and its history is gone: the agent re-lists
    api.pauseWatches();
    api.update(pool('pool-a', "zone = 'a'"));
    api.create(pool('pool-c', 'all()'));
    api.compact();
    api.dropWatches();
    await until('pool-c after the re-list', () => selectorOf(snaps.at(-1), 'pool-c') === 'all()');
    expect(snaps.length).toBeGreaterThan(before);
    expect(selectorOf(snaps.at(-1), 'pool-a')).toBe("zone == 'a'");
    const forA = rejected.filter((r) => r.object === 'IPPool pool-a');
    expect(forA.length).toBeGreaterThan(0);
    expect(forA.every((r) => r.errors.every((e) => e.message.endsWith(' (last good version kept)')))).toBe(true);
  });

  it('an update that changes only what trimming drops (a pod\'s container statuses) makes no snapshot; a label change does', async () => {
    const pod = (labels: Record<string, string>, ready: boolean) => ({
      kind: 'Pod', apiVersion: 'v1', metadata: { name: 'web', namespace: 'shop', labels }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx' }] },
      status: { phase: 'Running', podIP: '10.244.0.5', containerStatuses: [{ name: 'c', ready }] },
    });
    api.create(pod({ app: 'web' }, false));
    await ds.start({ onSnapshot: (s) => snaps.push(s), onRejected: (r) => rejected.push(r) });
    const first = snaps.at(-1)?.objects.get('Pod')?.get('shop/web');
    expect(first).toBeDefined();
    api.update(pod({ app: 'web' }, true)); // the kubelet reports the container ready
    api.create({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'after' } }); // a later event, to know the update was read
    await until('the namespace in a snapshot', () => snaps.at(-1)?.objects.get('Namespace')?.has('after') === true);
    expect(snaps.at(-1)?.objects.get('Pod')?.get('shop/web')).toBe(first); // the very same object: nothing downstream re-reads it
    api.update(pod({ app: 'web', tier: 'front' }, true));
    await until('the label in a snapshot', () => snaps.at(-1)?.objects.get('Pod')?.get('shop/web')?.metadata.labels?.tier === 'front');
  });
});

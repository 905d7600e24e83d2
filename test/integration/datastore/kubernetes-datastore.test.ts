import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { KubernetesDatastore } from '../../../agent/datastore/kubernetes-datastore.js';
import { KINDS } from '../../../agent/datastore/resources.js';
import { objectsOf, type Snapshot } from '../../../agent/datastore/snapshot.js';
import type { Rejection } from '../../../agent/datastore/datastore.js';
import { Reflector } from '../../../agent/datastore/reflector.js';
import { kubeTransport, loadKubeConfig, kubeRequest, KubeRequestError } from '../../../agent/datastore/kubernetes-transport.js';
import type { ObjectValidator } from '../../../agent/datastore/validate.js';
import { waitFor } from '../../support/wait.js';

const namespace = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const pod = (ns: string, name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { nodeName: 'n1' } });
const pool = (name: string, cidr: string) => ({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name }, spec: { cidr } });

describe('kubernetes datastore against a fake API server (list/watch protocol)', () => {
  let api: FakeApiServer;
  let ds: KubernetesDatastore | undefined;
  let snaps: Snapshot[];
  let rejected: Rejection[];
  const latest = () => snaps[snaps.length - 1] as Snapshot;
  const podNames = () => objectsOf(latest(), 'Pod').map((p) => p.metadata.name);
  const lists = (plural: string) => api.requests.filter((r) => r.method === 'GET' && r.url.split('?')[0]?.endsWith(`/${plural}`) && !r.url.includes('watch=')).length;

  const validate: ObjectValidator = (o) => {
    const cidr = (o as { kind?: string; spec?: { cidr?: unknown } }).spec?.cidr;
    if ((o as { kind?: string }).kind === 'IPPool' && (typeof cidr !== 'string' || !cidr.includes('/'))) {
      return { ok: false, errors: [{ path: 'spec.cidr', message: 'must be a CIDR such as 10.244.0.0/16' }] };
    }
    return { ok: true };
  };

  beforeEach(async () => {
    api = new FakeApiServer(KINDS.map((k) => ({ kind: k.kind, group: k.group, version: k.version, plural: k.plural, namespaced: k.namespaced })), { bookmarkIntervalMs: 50 });
    await api.start();
    snaps = [];
    rejected = [];
  });
  afterEach(async () => {
    await ds?.stop();
    ds = undefined;
    await api.stop();
  });

  const start = async () => {
    ds = new KubernetesDatastore({ server: api.url, validate, minBackoffMs: 20, maxBackoffMs: 200, coalesceMs: 2 });
    await ds.start({ onSnapshot: (s) => snaps.push(s), onRejected: (r) => rejected.push(r) });
  };

  it('lists every kind before start resolves, then follows creates, updates and deletes', async () => {
    api.create(namespace('x', { ns: 'x' }));
    api.create(pod('x', 'a', { pod: 'a' }));
    api.create(pool('default-pool', '10.244.0.0/16'));
    await start();
    expect(snaps).toHaveLength(1);
    expect(podNames()).toEqual(['a']);
    expect(objectsOf(latest(), 'IPPool').map((p) => p.kind)).toEqual(['IPPool']);

    api.create(pod('x', 'b', { pod: 'b' }));
    await waitFor(() => podNames().join() === 'a,b', 3000, 'pod b');
    api.update(pod('x', 'a', { pod: 'a', role: 'db' }));
    await waitFor(() => objectsOf(latest(), 'Pod')[0]?.metadata.labels?.role === 'db', 3000, 'relabel of a');
    api.delete('Pod', 'b', 'x');
    await waitFor(() => podNames().join() === 'a', 3000, 'delete of b');
  });

  it('resumes a dropped watch from the last resourceVersion without re-listing', async () => {
    await start();
    await waitFor(() => api.openWatches === KINDS.length, 3000, 'every watch to be open');
    const listsBefore = lists('pods');
    api.dropWatches();
    api.create(pod('x', 'during-blip', {}));
    await waitFor(() => podNames().includes('during-blip'), 5000, 'event made while the watch was down');
    expect(lists('pods')).toBe(listsBefore);
    const resumed = api.requests.filter((r) => r.url.includes('/pods?') && r.url.includes('watch=true'));
    expect(resumed.length).toBeGreaterThanOrEqual(2);
    expect(resumed[resumed.length - 1]?.url).toMatch(/resourceVersion=\d+/);
  });

  it('re-lists after 410 Gone and converges, including deletions it never saw', async () => {
    api.create(pod('x', 'keep', {}));
    api.create(pod('x', 'doomed', {}));
    await start();
    await waitFor(() => api.openWatches === KINDS.length, 3000, 'every watch to be open');
    api.dropWatches();
    // While the watch is down the history is compacted: the resume must get 410.
    api.delete('Pod', 'doomed', 'x');
    api.create(pod('x', 'new', {}));
    api.compact();
    const listsBefore = lists('pods');
    await waitFor(() => podNames().join() === 'keep,new', 5000, 'convergence after 410');
    expect(lists('pods')).toBeGreaterThan(listsBefore);
  });

  it('advances its resourceVersion on bookmarks', async () => {
    const kc = loadKubeConfig({ server: api.url });
    const info = KINDS.find((k) => k.kind === 'Node')!;
    const r = new Reflector(kubeTransport(kc, info), { replace: () => {}, upsert: () => {}, remove: () => {} }, { minBackoffMs: 20 });
    await r.start();
    const rvAtList = Number(r.resourceVersion);
    api.create(namespace('unrelated')); // moves the global resourceVersion, not a Node event
    await waitFor(() => Number(r.resourceVersion) > rvAtList, 3000, 'a bookmark to move the resourceVersion');
    r.stop();
  });

  it('rejects an invalid object with its field path and keeps the valid ones', async () => {
    api.create(pool('good', '10.0.0.0/16'));
    api.create(pool('bad', 'not-a-cidr'));
    await start();
    expect(objectsOf(latest(), 'IPPool').map((p) => p.metadata.name)).toEqual(['good']);
    expect(rejected).toEqual([{ source: 'kubernetes:ippools', object: 'IPPool bad', errors: [{ path: 'spec.cidr', message: 'must be a CIDR such as 10.244.0.0/16' }] }]);
    // An update that breaks a valid object keeps its last good version (as the file datastore).
    api.update(pool('good', 'broken'));
    await waitFor(() => rejected.length === 2, 3000, 'the broken update to be rejected');
    const { kept, ...said } = rejected[1]!;
    expect(said).toEqual({ source: 'kubernetes:ippools', object: 'IPPool good', errors: [{ path: 'spec.cidr', message: 'must be a CIDR such as 10.244.0.0/16 (last good version kept)' }] });
    expect(objectsOf(latest(), 'IPPool').map((p) => `${p.metadata.name} ${(p as { spec: { cidr: string } }).spec.cidr}`)).toEqual(['good 10.0.0.0/16']);
    expect(kept).toBe(objectsOf(latest(), 'IPPool')[0]); // the very object the snapshot holds
  });

  it('keeps retrying while the API server is unreachable and catches up when it comes back', async () => {
    await start();
    const port = Number(new URL(api.url).port);
    api.dropWatches();
    await api.stop();
    await new Promise((r) => setTimeout(r, 150)); // some reconnects fail meanwhile
    // Same port, a new server whose history is unrelated (as after an etcd restore):
    // the client's resume resourceVersion is unknown to it, so it must re-list.
    api = new FakeApiServer(KINDS.map((k) => ({ kind: k.kind, group: k.group, version: k.version, plural: k.plural, namespaced: k.namespaced })));
    api.create(pod('x', 'after-restart', {}));
    api.compact();
    await api.start(port);
    await waitFor(() => podNames().join() === 'after-restart', 8000, 'catch-up after the API server returned');
  });

  it('optimistic concurrency: a stale resourceVersion is refused with 409 Conflict', async () => {
    const kc = loadKubeConfig({ server: api.url });
    const created = await kubeRequest(kc, 'POST', '/apis/margay.io/v1/ippools', pool('cas', '10.1.0.0/16'));
    const rv = (created.metadata as { resourceVersion: string }).resourceVersion;
    await kubeRequest(kc, 'PUT', '/apis/margay.io/v1/ippools/cas', { ...pool('cas', '10.2.0.0/16'), metadata: { name: 'cas', resourceVersion: rv } });
    const stale = kubeRequest(kc, 'PUT', '/apis/margay.io/v1/ippools/cas', { ...pool('cas', '10.3.0.0/16'), metadata: { name: 'cas', resourceVersion: rv } });
    await expect(stale).rejects.toBeInstanceOf(KubeRequestError);
    await expect(stale).rejects.toMatchObject({ statusCode: 409, reason: 'Conflict' });
  });
});

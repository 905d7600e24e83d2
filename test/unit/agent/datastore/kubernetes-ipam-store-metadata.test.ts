/**
 * A PUT replaces the whole object: the IPAM store's updates carry the metadata of the
 * version they replace (labels, annotations, finalizers, ownerReferences others
 * added), so a block write never wipes them. Against the fake API server, whose PUT
 * stores the metadata it is sent, as the real one does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../../support/fake-apiserver.js';
import { KubernetesIpamStore, handleObjectName } from '../../../../agent/datastore/kubernetes-ipam-store.js';
import { loadKubeConfig } from '../../../../agent/datastore/kubernetes-transport.js';
import type { Handle } from '../../../../agent/ipam/types.js';

const rec = (handle: string, node: string): Handle => ({ handle, addresses: [], attrs: { node } });
const OTHERS = {
  labels: { team: 'net' },
  annotations: { 'example.com/note': 'kept' },
  finalizers: ['example.com/hold'],
  ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u-1' }],
};

describe('kubernetes IPAM store: updates keep the metadata others set', () => {
  let api: FakeApiServer;
  let store: KubernetesIpamStore;
  beforeEach(async () => {
    api = new FakeApiServer([
      { kind: 'IPAMBlock', group: 'margay.io', version: 'v1', plural: 'ipamblocks', namespaced: false },
      { kind: 'IPAMHandle', group: 'margay.io', version: 'v1', plural: 'ipamhandles', namespaced: false },
    ]);
    await api.start();
    store = new KubernetesIpamStore(loadKubeConfig({ server: api.url }));
  });
  afterEach(() => api.stop());

  /** creates handle h, then lets "someone else" add labels & co. through the API server */
  async function labelled(): Promise<string> {
    expect((await store.put('handle', 'h', rec('h', 'n1'), undefined)).ok).toBe(true);
    const name = handleObjectName('h');
    const obj = api.get('IPAMHandle', name)!;
    api.update({ ...obj, metadata: { ...obj.metadata, ...OTHERS } });
    return name;
  }

  it('a label, annotation, finalizer and owner added by others survive put() (version from get())', async () => {
    const name = await labelled();
    const v = (await store.get('handle', 'h'))!;
    const r = await store.put('handle', 'h', rec('h', 'n2'), v.version);
    expect(r.ok).toBe(true);
    const stored = api.get('IPAMHandle', name)!;
    expect((stored.spec as Handle).attrs.node).toBe('n2');
    expect(stored.metadata).toMatchObject(OTHERS);
    // and again, from the version put() returned
    if (!r.ok) throw new Error('unreachable');
    expect((await store.put('handle', 'h', rec('h', 'n3'), r.record.version)).ok).toBe(true);
    expect(api.get('IPAMHandle', name)!.metadata).toMatchObject(OTHERS);
  });

  it('the same with the version from list(), and a stale version still conflicts', async () => {
    const name = await labelled();
    const [v] = await store.list('handle');
    expect((await store.put('handle', 'h', rec('h', 'n2'), v!.version)).ok).toBe(true);
    expect(api.get('IPAMHandle', name)!.metadata).toMatchObject(OTHERS);
    expect(await store.put('handle', 'h', rec('h', 'n4'), v!.version)).toEqual({ ok: false, reason: 'conflict' });
    expect((api.get('IPAMHandle', name)!.spec as Handle).attrs.node).toBe('n2');
  });

  it('with a version it never read (another process read it), put() still keeps the metadata', async () => {
    const name = await labelled();
    const other = new KubernetesIpamStore(loadKubeConfig({ server: api.url }));
    const v = (await other.get('handle', 'h'))!;
    expect((await store.put('handle', 'h', rec('h', 'n5'), v.version)).ok).toBe(true);
    expect(api.get('IPAMHandle', name)!.metadata).toMatchObject(OTHERS);
  });

  it('list() reads the latest state in pages (limit/continue), not in one response', async () => {
    const paged = new KubernetesIpamStore(loadKubeConfig({ server: api.url }), { listPageSize: 2 });
    for (const h of ['a', 'b', 'c', 'd', 'e']) expect((await paged.put('handle', h, rec(h, 'n1'), undefined)).ok).toBe(true);
    const before = api.requests.length;
    expect(await paged.keys('handle')).toEqual(['a', 'b', 'c', 'd', 'e']);
    const qs = api.requests.slice(before).map((q) => new URL(q.url, 'http://x').searchParams);
    expect(qs).toHaveLength(3);
    expect(qs.map((q) => q.get('limit'))).toEqual(['2', '2', '2']);
    expect(qs[0]!.get('resourceVersion')).toBe(''); // a quorum read: GC and allocation need the latest records
  });
});

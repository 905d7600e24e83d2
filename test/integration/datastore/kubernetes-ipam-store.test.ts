import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { KubernetesIpamStore, blockObjectName, handleObjectName } from '../../../agent/datastore/kubernetes-ipam-store.js';
import { loadKubeConfig } from '../../../agent/datastore/kubernetes-transport.js';
import { Ipam } from '../../../agent/ipam/allocator.js';
import type { Handle } from '../../../agent/ipam/types.js';

const rec = (handle: string, node = 'n1'): Handle => ({ handle, addresses: [], attrs: { node } });

describe('IPAM records as CRD objects (optimistic concurrency through the API server)', () => {
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

  it('names objects validly and keeps the exact key in the spec', async () => {
    expect(blockObjectName('10.244.1.0/26')).toBe('10-244-1-0-26');
    expect(blockObjectName('fd00:1::40/122')).toBe('fd00-1--40-122');
    expect(handleObjectName('ABC.eth0')).not.toBe(handleObjectName('abc.eth0'));
    expect(handleObjectName('abc.eth0')).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    await store.put('handle', 'Ctr_1.eth0', rec('Ctr_1.eth0'), undefined);
    expect(await store.keys('handle')).toEqual(['Ctr_1.eth0']);
  });

  it('create fails when the record exists; update and delete fail on a stale version', async () => {
    expect((await store.put('handle', 'h', rec('h'), undefined)).ok).toBe(true);
    expect(await store.put('handle', 'h', rec('h'), undefined)).toEqual({ ok: false, reason: 'conflict' });
    const v1 = (await store.get('handle', 'h'))!;
    const second = await store.put('handle', 'h', rec('h', 'n2'), v1.version);
    expect(second.ok).toBe(true);
    expect(await store.put('handle', 'h', rec('h', 'n3'), v1.version)).toEqual({ ok: false, reason: 'conflict' });
    expect(await store.delete('handle', 'h', v1.version)).toBe(false);
    expect((await store.get('handle', 'h'))!.value.attrs.node).toBe('n2');
    const v2 = (await store.get('handle', 'h'))!.version;
    expect(await store.delete('handle', 'h', v2)).toBe(true);
    expect(await store.get('handle', 'h')).toBeUndefined();
    expect(await store.delete('handle', 'h', v2)).toBe(false);
  });

  it('several nodes allocating at once never get the same address', async () => {
    const pools = [{ name: 'p', spec: { cidr: '10.50.0.0/24', blockSize: 28 } }];
    const nodes = ['n1', 'n2', 'n3', 'n4'].map((node) => new Ipam({ store, node, pools }));
    const perNode = 12;
    const results = await Promise.all(nodes.map((ipam, i) =>
      Promise.all(Array.from({ length: perNode }, (_, k) => ipam.assign({ handle: `c${i}-${k}.eth0`, families: [4] })))));
    const addrs = results.flat(2).map((a) => a.address);
    expect(addrs).toHaveLength(4 * perNode);
    expect(new Set(addrs).size).toBe(addrs.length);
    // every address sits in a block the API server holds, recorded for its handle
    const blocks = await store.list('block');
    const held = blocks.flatMap((b) => b.value.allocations.filter((h): h is string => h !== null));
    expect(held.sort()).toEqual(results.flatMap((r, i) => r.map((_, k) => `c${i}-${k}.eth0`)).sort());
  });
});

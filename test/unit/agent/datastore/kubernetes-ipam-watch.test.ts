/**
 * KubernetesIpamStore.watch against the in-process fake API server (real list/watch
 * protocol on 127.0.0.1): IPAMBlock / IPAMHandle objects written by another client
 * (another node's agent) are delivered within a bound, a dropped watch resumes
 * without losing a change made meanwhile, and a 410 Gone (history compacted) re-lists.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../../support/fake-apiserver.js';
import { KubernetesIpamStore } from '../../../../agent/datastore/kubernetes-ipam-store.js';
import { loadKubeConfig } from '../../../../agent/datastore/kubernetes-transport.js';
import type { IpamChange, IpamWatch } from '../../../../agent/ipam/store.js';
import type { Block, Handle } from '../../../../agent/ipam/types.js';

const BOUND_MS = 2000;
const block = (cidr: string, node: string): Block => ({ cidr, pool: 'p', affinity: `host:${node}`, allocations: [null, null], attributes: {} });
const tunnel = (node: string): Handle => ({ handle: `vxlan-tunnel-addr-${node}`, addresses: [{ family: 4, address: '10.0.0.5', block: '10.0.0.4/30', pool: 'p' }], attrs: { node } });

describe('KubernetesIpamStore.watch (fake API server)', () => {
  let api: FakeApiServer;
  let w: IpamWatch | undefined;
  const changes: IpamChange[] = [];
  const cidrs = (): string[] | undefined => {
    const last = changes.filter((c) => c.kind === 'block').at(-1);
    return last?.kind === 'block' ? last.records.map((r) => r.value.cidr) : undefined;
  };
  const until = async (what: string, f: () => boolean): Promise<number> => {
    const t0 = performance.now();
    while (!f()) {
      if (performance.now() - t0 > BOUND_MS) throw new Error(`not within ${BOUND_MS} ms: ${what}; changes: ${JSON.stringify(changes.map((c) => [c.kind, c.records.length]))}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    return performance.now() - t0;
  };

  beforeEach(async () => {
    changes.length = 0;
    api = new FakeApiServer([
      { kind: 'IPAMBlock', group: 'margay.io', version: 'v1', plural: 'ipamblocks', namespaced: false },
      { kind: 'IPAMHandle', group: 'margay.io', version: 'v1', plural: 'ipamhandles', namespaced: false },
    ]);
    await api.start();
  });
  afterEach(async () => { w?.close(); w = undefined; await api.stop(); });

  it('delivers the records at start, then another client\'s creates, updates and deletes', async () => {
    const kc = loadKubeConfig({ server: api.url });
    const writer = new KubernetesIpamStore(kc);
    await writer.put('block', '10.0.0.0/30', block('10.0.0.0/30', 'n1'), undefined);
    w = await new KubernetesIpamStore(kc, { minBackoffMs: 20 }).watch((c) => changes.push(c));
    expect(cidrs()).toEqual(['10.0.0.0/30']);
    expect(changes.some((c) => c.kind === 'handle' && c.records.length === 0)).toBe(true);

    await writer.put('block', '10.0.0.4/30', block('10.0.0.4/30', 'n2'), undefined);
    const ms = await until('new block', () => cidrs()?.includes('10.0.0.4/30') === true);
    await writer.put('handle', 'vxlan-tunnel-addr-n2', tunnel('n2'), undefined);
    await until('tunnel handle', () => changes.some((c) => c.kind === 'handle' && c.records.some((r) => r.value.handle === 'vxlan-tunnel-addr-n2')));
    const cur = (await writer.get('block', '10.0.0.4/30'))!;
    const moved = await writer.put('block', '10.0.0.4/30', { ...cur.value, affinity: null }, cur.version);
    expect(moved.ok).toBe(true);
    await until('update', () => {
      const last = changes.filter((c) => c.kind === 'block').at(-1);
      return last?.kind === 'block' && last.records.some((r) => r.value.cidr === '10.0.0.4/30' && r.value.affinity === null);
    });
    const v = (await writer.get('block', '10.0.0.4/30'))!.version;
    expect(await writer.delete('block', '10.0.0.4/30', v)).toBe(true);
    await until('delete', () => JSON.stringify(cidrs()) === JSON.stringify(['10.0.0.0/30']));
    process.stdout.write(`kubernetes IPAM watch: another client's block seen after ${ms.toFixed(1)} ms\n`);
  });

  it('a dropped watch resumes without losing a change; a compacted history (410 Gone) re-lists', async () => {
    const kc = loadKubeConfig({ server: api.url });
    const writer = new KubernetesIpamStore(kc);
    // the resume waits 400 ms: long enough for the write and the compaction to land first
    w = await new KubernetesIpamStore(kc, { minBackoffMs: 400, maxBackoffMs: 400 }).watch((c) => changes.push(c));
    await until('watches open', () => api.openWatches === 2);
    api.dropWatches();
    await writer.put('block', '10.0.1.0/30', block('10.0.1.0/30', 'n3'), undefined);
    await until('change made while the watch was down', () => cidrs()?.includes('10.0.1.0/30') === true);

    await until('watches open again', () => api.openWatches === 2);
    api.dropWatches();
    await writer.put('block', '10.0.2.0/30', block('10.0.2.0/30', 'n3'), undefined);
    api.compact(); // the watchers' resourceVersion is now too old: 410 Gone, then a fresh list
    await until('change seen through the re-list', () => cidrs()?.includes('10.0.2.0/30') === true);
    const lists = api.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/apis/margay.io/v1/ipamblocks') && !r.url.includes('watch=')).length;
    expect(lists).toBeGreaterThanOrEqual(2); // the initial list and the one after 410
  });
});

/**
 * KubernetesIpamStore.watch against the in-process fake API server (real list/watch
 * protocol on 127.0.0.1): IPAMBlock / IPAMHandle objects written by another client
 * (another node's agent) are delivered within a bound, a dropped watch resumes
 * without losing a change made meanwhile, and a 410 Gone (history compacted) re-lists
 * (its delivery names the created and the deleted keys, found by difference);
 * each delivery names the keys it touched; a watch whose first lists fail can be
 * closed (its signal aborted) while it retries, and it then stops and resolves.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../../support/fake-apiserver.js';
import { KubernetesIpamStore } from '../../../../agent/datastore/kubernetes-ipam-store.js';
import { loadKubeConfig } from '../../../../agent/datastore/kubernetes-transport.js';
import type { IpamChange, IpamWatch } from '../../../../agent/ipam/store.js';
import type { Block, Handle } from '../../../../agent/ipam/types.js';

const BOUND_MS = 2000;

/** In front of the fake API server: answers the first `failLists` plain lists (not watches) of IPAMBlocks with 503, forwards the rest. */
async function failingProxy(target: string, failLists: number): Promise<{ url: string; lists: () => number; close: () => Promise<void> }> {
  let lists = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/apis/margay.io/v1/ipamblocks') && !req.url.includes('watch=')) {
      if (++lists <= failLists) {
        res.writeHead(503, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 503, reason: 'ServiceUnavailable', message: 'not yet' }));
      }
    }
    const up = request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lists: () => lists,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
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
    // a quiet watch that ends resumes after the minimum delay, 400 ms: long enough for the write to land first
    w = await new KubernetesIpamStore(kc, { minBackoffMs: 400, maxBackoffMs: 400 }).watch((c) => changes.push(c));
    await until('watches open', () => api.openWatches === 2);
    api.dropWatches();
    await writer.put('block', '10.0.1.0/30', block('10.0.1.0/30', 'n3'), undefined);
    await until('change made while the watch was down', () => cidrs()?.includes('10.0.1.0/30') === true);

    await until('watches open again', () => api.openWatches === 2);
    // a watch that delivered something resumes at once: hold the reconnect back so the
    // write, the delete and the compaction land before it is answered
    api.slowWatches(400);
    api.dropWatches();
    await writer.put('block', '10.0.2.0/30', block('10.0.2.0/30', 'n3'), undefined);
    const gone = (await writer.get('block', '10.0.1.0/30'))!;
    expect(await writer.delete('block', '10.0.1.0/30', gone.version)).toBe(true);
    api.compact(); // the watchers' resourceVersion is now too old: 410 Gone, then a fresh list
    await until('changes seen through the re-list', () => JSON.stringify(cidrs()) === JSON.stringify(['10.0.2.0/30']));
    // the re-list names what moved by difference: the new block and the deleted one
    expect(changes.filter((c) => c.kind === 'block').at(-1)?.touched).toEqual(['10.0.1.0/30', '10.0.2.0/30']);
    const lists = api.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/apis/margay.io/v1/ipamblocks') && !r.url.includes('watch=')).length;
    expect(lists).toBeGreaterThanOrEqual(2); // the initial list and the one after 410
  });

  it('names the keys each delivery touched (none for the first read)', async () => {
    const kc = loadKubeConfig({ server: api.url });
    const writer = new KubernetesIpamStore(kc);
    await writer.put('block', '10.0.0.0/30', block('10.0.0.0/30', 'n1'), undefined);
    w = await new KubernetesIpamStore(kc, { minBackoffMs: 20 }).watch((c) => changes.push(c));
    expect(changes.map((c) => c.touched)).toEqual([undefined, undefined]);
    changes.length = 0;
    await writer.put('block', '10.0.0.4/30', block('10.0.0.4/30', 'n1'), undefined);
    await until('new block', () => cidrs()?.includes('10.0.0.4/30') === true);
    const cur = (await writer.get('block', '10.0.0.4/30'))!;
    expect(await writer.delete('block', '10.0.0.4/30', cur.version)).toBe(true);
    await until('deleted', () => JSON.stringify(cidrs()) === JSON.stringify(['10.0.0.0/30']));
    expect(changes.map((c) => c.touched)).toEqual([['10.0.0.4/30'], ['10.0.0.4/30']]);
  });

  it('a first list that keeps failing: aborting the signal stops the retries and resolves the watch', async () => {
    const proxy = await failingProxy(api.url, Number.MAX_SAFE_INTEGER);
    try {
      const ac = new AbortController();
      let settled = false;
      const p = new KubernetesIpamStore(loadKubeConfig({ server: proxy.url }), { minBackoffMs: 20, maxBackoffMs: 20 })
        .watch((c) => changes.push(c), { signal: ac.signal })
        .finally(() => { settled = true; });
      await until('a few failed lists', () => proxy.lists() >= 3);
      expect(settled).toBe(false);
      ac.abort();
      w = await p;
      const after = proxy.lists();
      await new Promise((r) => setTimeout(r, 150)); // several backoff periods
      expect(proxy.lists()).toBe(after);
      expect(changes.map((c) => c.kind)).toEqual(['handle']); // handles listed fine; blocks never did
    } finally {
      await proxy.close();
    }
  });

  it('a first list that fails twice: the watch resolves once it succeeds, and delivers', async () => {
    const proxy = await failingProxy(api.url, 2);
    try {
      await new KubernetesIpamStore(loadKubeConfig({ server: api.url })).put('block', '10.0.0.0/30', block('10.0.0.0/30', 'n1'), undefined);
      w = await new KubernetesIpamStore(loadKubeConfig({ server: proxy.url }), { minBackoffMs: 20, maxBackoffMs: 20 })
        .watch((c) => changes.push(c), { signal: new AbortController().signal });
      expect(proxy.lists()).toBe(3);
      expect(cidrs()).toEqual(['10.0.0.0/30']);
    } finally {
      w?.close();
      w = undefined;
      await proxy.close();
    }
  });

  it('an already aborted signal: resolves at once, reads nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    w = await new KubernetesIpamStore(loadKubeConfig({ server: api.url })).watch((c) => changes.push(c), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    expect(api.requests).toEqual([]);
    expect(changes).toEqual([]);
  });
});

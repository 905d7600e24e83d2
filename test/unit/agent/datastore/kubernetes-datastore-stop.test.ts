/**
 * KubernetesDatastore.start() against the in-process fake API server when one kind's
 * first list keeps failing (the server does not serve Pods: every list is a 404):
 * start() retries until stop(), and stop() settles it — no hang, no snapshot, no
 * further lists. The reflectors' start() settle as 'stopped' (see reflector.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../../support/fake-apiserver.js';
import { KubernetesDatastore } from '../../../../agent/datastore/kubernetes-datastore.js';
import { KINDS } from '../../../../agent/datastore/resources.js';
import type { Snapshot } from '../../../../agent/datastore/snapshot.js';

describe('KubernetesDatastore.start() while the first lists keep failing', () => {
  let api: FakeApiServer;
  beforeEach(async () => {
    api = new FakeApiServer(KINDS.filter((k) => k.kind !== 'Pod').map((k) => ({ kind: k.kind, group: k.group, version: k.version, plural: k.plural, namespaced: k.namespaced })));
    await api.start();
  });
  afterEach(async () => { await api.stop(); });

  const podLists = (): number => api.requests.filter((r) => r.method === 'GET' && r.url.split('?')[0]?.endsWith('/pods') && !r.url.includes('watch=')).length;

  it('returns after stop(), delivers no snapshot, and lists no more', async () => {
    const ds = new KubernetesDatastore({ server: api.url, minBackoffMs: 20, maxBackoffMs: 20 });
    const snaps: Snapshot[] = [];
    let settled = false;
    const p = ds.start({ onSnapshot: (s) => snaps.push(s) }).finally(() => { settled = true; });
    const t0 = performance.now();
    while (podLists() < 3) {
      if (performance.now() - t0 > 2000) throw new Error(`pods listed only ${podLists()} times in 2 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(settled).toBe(false);
    await ds.stop();
    const outcome = await Promise.race([p.then(() => 'returned'), new Promise((r) => setTimeout(() => r('still pending after 1 s'), 1000))]);
    expect(outcome).toBe('returned');
    expect(snaps).toEqual([]);
    const after = podLists();
    await new Promise((r) => setTimeout(r, 100)); // several backoff periods
    expect(podLists()).toBe(after);
  });

  it('stop() before start(): start() returns at once and reads nothing', async () => {
    const ds = new KubernetesDatastore({ server: api.url, minBackoffMs: 20, maxBackoffMs: 20 });
    await ds.stop();
    const snaps: Snapshot[] = [];
    await ds.start({ onSnapshot: (s) => snaps.push(s) });
    await new Promise((r) => setTimeout(r, 50));
    expect(api.requests).toEqual([]);
    expect(snaps).toEqual([]);
  });
});

describe('KubernetesDatastore.stop() while the watches are connecting', () => {
  it('delivers no snapshot after stop() and leaves no watch open', async () => {
    const api = new FakeApiServer(KINDS.map((k) => ({ kind: k.kind, group: k.group, version: k.version, plural: k.plural, namespaced: k.namespaced })), { bookmarkIntervalMs: 0, watchDelayMs: 200 });
    await api.start();
    try {
      const ds = new KubernetesDatastore({ server: api.url, minBackoffMs: 20, maxBackoffMs: 20 });
      let stopped = false;
      const late: Snapshot[] = [];
      await ds.start({ onSnapshot: (s) => { if (stopped) late.push(s); } });
      await ds.stop(); // every watch's response headers are still ~200 ms away
      stopped = true;
      await new Promise((r) => setTimeout(r, 300));
      api.create({ kind: 'BGPPeer', apiVersion: 'margay.io/v1', metadata: { name: 'late' }, spec: { peerIP: '192.0.2.1', asNumber: 64512 } });
      await new Promise((r) => setTimeout(r, 200));
      expect(late).toEqual([]);
      expect(api.openWatches).toBe(0);
    } finally {
      await api.stop();
    }
  });
});

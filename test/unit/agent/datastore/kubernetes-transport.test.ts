/**
 * What the kubernetes transport asks of the API server, against the fake one: lists
 * in pages (limit/continue, an expired continue token falls back to one unpaged
 * list), at resourceVersion "0" first and "" after 410 Gone; watches with a
 * timeoutSeconds drawn from [300, 600); and a watch whose server went silent (no
 * RST, no bookmark) ended by the client within the idle bound and resumed without
 * an error.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeApiServer } from '../../../support/fake-apiserver.js';
import { Reflector } from '../../../../agent/datastore/reflector.js';
import { kubeTransport, loadKubeConfig, WATCH_IDLE_MS, type WatchedKind } from '../../../../agent/datastore/kubernetes-transport.js';

const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number): Promise<void> => new Promise((r) => realSetTimeout(r, ms));
const PEER: WatchedKind = { kind: 'BGPPeer', apiVersion: 'margay.io/v1', group: 'margay.io', version: 'v1', plural: 'bgppeers' };
const BGPPEER = { kind: 'BGPPeer', group: 'margay.io', version: 'v1', plural: 'bgppeers', namespaced: false };
const peer = (name: string): Record<string, unknown> => ({ kind: 'BGPPeer', apiVersion: 'margay.io/v1', metadata: { name }, spec: {} });

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const query = (url: string): URLSearchParams => new URL(url, 'http://x').searchParams;

describe('kubernetes transport: lists', () => {
  let api: FakeApiServer | undefined;
  afterEach(async () => { await api?.stop(); api = undefined; });

  it('pages through a list with limit/continue; only the first page names a resourceVersion', async () => {
    api = new FakeApiServer([BGPPEER]);
    await api.start();
    for (const n of ['a', 'b', 'c', 'd', 'e']) api.create(peer(n));
    const rv = String(api.resourceVersion);
    const t = kubeTransport(loadKubeConfig({ server: api.url }), PEER, { pageSize: 2 });
    const list = await t.list('0');
    expect(list.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(list.items.every((i) => i.kind === 'BGPPeer' && i.apiVersion === 'margay.io/v1')).toBe(true);
    expect(list.resourceVersion).toBe(rv);
    const qs = api.requests.map((q) => query(q.url));
    expect(qs).toHaveLength(3);
    expect(qs.map((q) => q.get('limit'))).toEqual(['2', '2', '2']);
    expect(qs[0]!.get('resourceVersion')).toBe('0');
    expect(qs[0]!.has('continue')).toBe(false);
    for (const q of qs.slice(1)) {
      expect(q.get('continue')).toBeTruthy();
      expect(q.has('resourceVersion')).toBe(false);
    }
  });

  it('a continue token that expired (410) mid-list falls back to one list without a limit', async () => {
    api = new FakeApiServer([BGPPEER]);
    await api.start();
    for (const n of ['a', 'b', 'c', 'd', 'e']) api.create(peer(n));
    const server = api;
    server.onRequest = (url) => {
      if (query(url).has('continue') && server.get('BGPPeer', 'f') === undefined) {
        server.create(peer('f'));
        server.compact();
      }
    };
    const list = await kubeTransport(loadKubeConfig({ server: api.url }), PEER, { pageSize: 2 }).list('');
    expect(list.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(list.resourceVersion).toBe(String(api.resourceVersion));
    const qs = api.requests.map((q) => query(q.url));
    expect(qs).toHaveLength(3); // page 1, the expired page 2, the full list
    expect(qs[2]!.has('limit')).toBe(false);
    expect(qs[2]!.has('continue')).toBe(false);
    expect(qs[2]!.get('resourceVersion')).toBe('');
  });

  it('the reflector lists at resourceVersion 0 first, and at "" after 410 Gone', async () => {
    api = new FakeApiServer([BGPPEER], { bookmarkIntervalMs: 0 });
    await api.start();
    const relists: string[] = [];
    const r = new Reflector(kubeTransport(loadKubeConfig({ server: api.url }), PEER), {
      replace: () => undefined, upsert: () => undefined, remove: () => undefined,
      relisted: (why) => relists.push(why),
    }, { minBackoffMs: 20, maxBackoffMs: 200 });
    try {
      expect(await r.start()).toBe('synced');
      await until(() => api!.openWatches === 1, 'the watch');
      api.dropWatches();
      api.create(peer('x')); // not seen: no watch is open
      api.compact(); // the resumed watch's resourceVersion is now too old: 410
      await until(() => relists.length === 2, 'the re-list');
    } finally {
      r.stop();
    }
    const lists = api.requests.filter((q) => !q.url.includes('watch=true')).map((q) => query(q.url));
    expect(lists.map((q) => q.get('resourceVersion'))).toEqual(['0', '']);
    expect(lists.map((q) => q.get('limit'))).toEqual(['500', '500']);
  });
});

describe('kubernetes transport: watches', () => {
  let api: FakeApiServer | undefined;
  let r: Reflector | undefined;
  afterEach(async () => {
    r?.stop();
    vi.useRealTimers();
    await api?.stop();
    api = undefined;
    r = undefined;
  });

  it('each watch asks for a timeoutSeconds drawn from [300, 600), not all the same', async () => {
    api = new FakeApiServer([BGPPEER], { bookmarkIntervalMs: 0 });
    await api.start();
    const t = kubeTransport(loadKubeConfig({ server: api.url }), PEER);
    for (let i = 0; i < 6; i++) {
      const h = await t.watch('1', () => undefined, () => undefined);
      h.abort();
    }
    const secs = api.requests.map((q) => Number(query(q.url).get('timeoutSeconds')));
    expect(secs).toHaveLength(6);
    for (const s of secs) {
      expect(s).toBeGreaterThanOrEqual(300);
      expect(s).toBeLessThan(600);
    }
    expect(new Set(secs).size).toBeGreaterThan(1);
  });

  it('a server gone silent (no RST, no bookmark) is noticed within the idle bound: the watch is reopened from the last resourceVersion, no error', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    api = new FakeApiServer([BGPPEER]); // bookmarks as the real server sends them (every 60 s)
    await api.start();
    const errors: unknown[] = [];
    const ends: string[] = [];
    r = new Reflector(kubeTransport(loadKubeConfig({ server: api.url }), PEER), {
      replace: () => undefined, upsert: () => undefined, remove: () => undefined,
      error: (e) => errors.push(e),
      watchEnded: (how) => ends.push(how),
    }, { minBackoffMs: 250, maxBackoffMs: 10_000 });
    expect(await r.start()).toBe('synced');
    const watches = (): string[] => api!.requests.filter((q) => q.url.includes('watch=true')).map((q) => q.url);
    await until(() => api!.openWatches === 1, 'the watch to open');
    const rv = r.resourceVersion;
    api.pauseWatches(); // the connection stays up; nothing more comes
    let waited = 0;
    while (watches().length < 2 && waited < 130_000) {
      vi.advanceTimersByTime(5000);
      waited += 5000;
      await sleep(10);
    }
    expect(watches()).toHaveLength(2);
    expect(waited).toBeLessThanOrEqual(120_000);
    expect(waited).toBeGreaterThan(60_000); // one missed bookmark is no reason to reconnect
    expect(waited).toBeLessThanOrEqual(WATCH_IDLE_MS + 5000);
    expect(query(watches()[1]!).get('resourceVersion')).toBe(rv);
    expect(errors).toEqual([]);
    expect(ends).toEqual(['timeout']);
  });
});

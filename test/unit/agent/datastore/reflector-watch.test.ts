/**
 * The reflector's watch loop over client-node's Watch against the in-process fake API
 * server (no bookmarks: a quiet kind), and its backoff with a scripted transport.
 * Time is faked (setTimeout & co.); HTTP is real, so the tests wait for I/O with
 * short real sleeps between advances.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeApiServer } from '../../../support/fake-apiserver.js';
import { Reflector, type ReflectorTransport, type WatchEventType } from '../../../../agent/datastore/reflector.js';
import { kubeTransport, loadKubeConfig, type WatchedKind } from '../../../../agent/datastore/kubernetes-transport.js';
import type { Resource } from '../../../../agent/datastore/resources.js';

const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number): Promise<void> => new Promise((r) => realSetTimeout(r, ms));
const PEER: WatchedKind = { kind: 'BGPPeer', apiVersion: 'margay.io/v1', group: 'margay.io', version: 'v1', plural: 'bgppeers' };

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const IPPOOL = { kind: 'IPPool', group: 'margay.io', version: 'v1', plural: 'ippools', namespaced: false };
const BGPPEER = { kind: 'BGPPeer', group: 'margay.io', version: 'v1', plural: 'bgppeers', namespaced: false };

/** Fake time, the fake API server and a synced reflector on BGPPeers over client-node's Watch; errors collected. */
async function syncedOverFake(kinds: (typeof BGPPEER)[], apiOpts: ConstructorParameters<typeof FakeApiServer>[1], watchTimeoutSeconds: number): Promise<{ api: FakeApiServer; r: Reflector; errors: unknown[] }> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  const api = new FakeApiServer(kinds, apiOpts);
  await api.start();
  const errors: unknown[] = [];
  const r = new Reflector(kubeTransport(loadKubeConfig({ server: api.url }), PEER, { watchTimeoutSeconds }), {
    replace: () => undefined, upsert: () => undefined, remove: () => undefined,
    error: (err) => errors.push(err),
  }, { minBackoffMs: 250, maxBackoffMs: 10_000 });
  expect(await r.start()).toBe('synced');
  return { api, r, errors };
}

describe('Reflector over client-node Watch, fake API server', () => {
  let api: FakeApiServer | undefined;
  let r: Reflector | undefined;
  afterEach(async () => {
    r?.stop();
    vi.useRealTimers();
    await api?.stop();
  });

  it('a quiet watch stays open past 30 s of silence: one watch request, no error', async () => {
    const s = await syncedOverFake([BGPPEER], { bookmarkIntervalMs: 0 }, 300);
    ({ api, r } = s);
    const watches = (): number => s.api.requests.filter((q) => q.url.includes('watch=true')).length;
    await until(() => s.api.openWatches === 1, 'the watch to open');
    for (let t = 0; t < 45; t += 5) { // 45 s of fake time, in steps, letting real I/O run in between
      vi.advanceTimersByTime(5000);
      await sleep(15);
    }
    expect(s.errors).toEqual([]);
    expect(watches()).toBe(1);
    expect(s.api.openWatches).toBe(1);
  });

  it('the server ends the watch (timeoutSeconds): a bookmark 2 s before the end moves the resourceVersion; the watch resumes from it at once, without an error', async () => {
    // default bookmarks: every 60 s and 2 s before timeoutSeconds
    const s = await syncedOverFake([BGPPEER, IPPOOL], undefined, 20);
    ({ api, r } = s);
    const rv0 = s.r.resourceVersion;
    const watches = (): string[] => s.api.requests.filter((q) => q.url.includes('watch=true')).map((q) => q.url);
    await until(() => s.api.openWatches === 1, 'the watch to open');
    s.api.create({ kind: 'IPPool', apiVersion: 'margay.io/v1', metadata: { name: 'p' }, spec: {} }); // moves the global resourceVersion only
    for (let t = 0; t < 17; t += 1) { // 17 s
      vi.advanceTimersByTime(1000);
      await sleep(5);
    }
    expect(s.r.resourceVersion).toBe(rv0); // no bookmark yet: the first periodic one would come at 60 s
    vi.advanceTimersByTime(1500); // 18.5 s: the final bookmark (18 s) has come
    await until(() => s.r.resourceVersion !== rv0, 'the final bookmark');
    expect(watches()).toHaveLength(1);
    vi.advanceTimersByTime(1500); // 20 s: the server ends the watch
    // at once: only timers due now run (fake time stays at 20 s), never the 250 ms backoff
    await until(() => (vi.advanceTimersByTime(0), watches().length === 2), 'the resumed watch');
    expect(watches()[1]).toContain(`resourceVersion=${s.r.resourceVersion}`);
    expect(s.errors).toEqual([]);
  });
});

describe('Reflector backoff', () => {
  afterEach(() => { vi.useRealTimers(); });

  /** A transport whose watches the test ends by hand; records when each watch was asked for. */
  function scripted(plan: ('fail' | 'open')[]) {
    const calls: { at: number; done: (err: unknown) => void; onEvent: (t: WatchEventType, o: Record<string, unknown>) => void }[] = [];
    const transport: ReflectorTransport = {
      list: async () => ({ resourceVersion: '5', items: [] }),
      watch: async (_rv, onEvent, done) => {
        const step = plan[calls.length] ?? 'open';
        calls.push({ at: Date.now(), done, onEvent });
        if (step === 'fail') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return { abort: () => undefined };
      },
    };
    return { transport, calls };
  }

  it('after errors, a watch that delivers a bookmark resets the backoff: the next error waits the minimum', async () => {
    vi.useFakeTimers({ now: 0 });
    const { transport, calls } = scripted(['fail', 'fail', 'fail', 'open']);
    const errors: unknown[] = [];
    const r = new Reflector(transport, { replace: () => undefined, upsert: () => undefined, remove: () => undefined, error: (e) => errors.push(e) }, { minBackoffMs: 100, maxBackoffMs: 10_000 });
    await r.start();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400); // three failures: 100, 200, 400 ms
    expect(calls.map((c) => c.at)).toEqual([0, 100, 300, 700]);
    await vi.advanceTimersByTimeAsync(5000); // the fourth watch is open and quiet
    expect(calls).toHaveLength(4);
    calls[3]!.onEvent('BOOKMARK', { kind: 'BGPPeer', metadata: { resourceVersion: '6' } });
    calls[3]!.done(new Error('read ECONNRESET'));
    const failedAt = Date.now();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(calls[4]!.at - failedAt).toBe(100);
    expect(errors).toHaveLength(4);
    r.stop();
  });

  it('a watch that opened and then ends normally (stream end, client timeout) resumes from the last resourceVersion without an error', async () => {
    vi.useFakeTimers({ now: 0 });
    const { transport, calls } = scripted(['open', 'open', 'open']);
    const errors: unknown[] = [];
    const ends: string[] = [];
    const seen: string[] = [];
    const rvs: string[] = [];
    const watch = transport.watch.bind(transport);
    transport.watch = (rv, onEvent, done) => { rvs.push(rv); return watch(rv, onEvent, done); };
    const r = new Reflector(transport, {
      replace: () => undefined, remove: () => undefined,
      upsert: (o: Resource) => seen.push(o.metadata.name),
      error: (e) => errors.push(e),
      watchEnded: (how) => ends.push(how),
    }, { minBackoffMs: 100, maxBackoffMs: 10_000 });
    await r.start();
    await vi.advanceTimersByTimeAsync(0);
    calls[0]!.onEvent('ADDED', { kind: 'BGPPeer', metadata: { name: 'a', resourceVersion: '7' } });
    calls[0]!.done(null); // the server ended the watch (timeoutSeconds)
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(2); // at once: it delivered an event
    calls[1]!.done(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    await vi.advanceTimersByTimeAsync(100); // a watch that saw nothing resumes after the minimum delay
    expect(calls).toHaveLength(3);
    expect(rvs).toEqual(['5', '7', '7']);
    expect(seen).toEqual(['a']);
    expect(errors).toEqual([]);
    expect(ends).toEqual(['closed', 'timeout']);
    r.stop();
  });
});

describe('Reflector.stop() while a watch is connecting', () => {
  it('leaves no watch open and delivers no event after stop()', async () => {
    const api = new FakeApiServer([{ kind: 'BGPPeer', group: 'margay.io', version: 'v1', plural: 'bgppeers', namespaced: false }], { bookmarkIntervalMs: 0, watchDelayMs: 200 });
    await api.start();
    try {
      const upserts: string[] = [];
      const r = new Reflector(kubeTransport(loadKubeConfig({ server: api.url }), PEER), {
        replace: () => undefined, remove: () => undefined,
        upsert: (o: Resource) => upserts.push(o.metadata.name),
      }, { minBackoffMs: 20, maxBackoffMs: 20 });
      expect(await r.start()).toBe('synced');
      await until(() => api.requests.some((q) => q.url.includes('watch=true')), 'the watch request');
      r.stop(); // the response headers are still 200 ms away
      await sleep(300); // headers sent: the watch counted as open on the server
      api.create({ kind: 'BGPPeer', apiVersion: 'margay.io/v1', metadata: { name: 'late' }, spec: {} });
      await sleep(200);
      expect(upserts).toEqual([]);
      expect(api.openWatches).toBe(0);
      expect(api.requests.filter((q) => q.url.includes('watch=true'))).toHaveLength(1);
    } finally {
      await api.stop();
    }
  });
});

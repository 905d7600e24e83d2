/**
 * The reflector's failure paths, as client-go's Reflector has them: a watch ERROR
 * event that is not 410 is an error (reported with the Status' reason and message)
 * that ends the watch and is retried under the backoff; the backoff starts from the
 * minimum again only after a watch delivered an event (or stayed open a while), not
 * merely because it opened; a watch closed at once with nothing in it is a failure
 * ("very short watch"); an HTTP 410 on the watch request re-lists.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeApiServer } from '../../../support/fake-apiserver.js';
import { Reflector, type ReflectorTransport, type WatchEventType } from '../../../../agent/datastore/reflector.js';
import { kubeTransport, loadKubeConfig, type WatchedKind } from '../../../../agent/datastore/kubernetes-transport.js';

const PEER: WatchedKind = { kind: 'BGPPeer', apiVersion: 'margay.io/v1', group: 'margay.io', version: 'v1', plural: 'bgppeers' };
const BGPPEER = { kind: 'BGPPeer', group: 'margay.io', version: 'v1', plural: 'bgppeers', namespaced: false };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 4000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const gaps = (at: number[]): number[] => at.slice(1).map((t, i) => t - at[i]!);

describe('Reflector: watch errors from the fake API server', () => {
  let api: FakeApiServer | undefined;
  let r: Reflector | undefined;
  afterEach(async () => {
    r?.stop();
    await api?.stop();
    api = undefined;
    r = undefined;
  });

  it('a non-410 ERROR event after the 200 is reported with its reason and message, and reopening backs off', async () => {
    api = new FakeApiServer([BGPPEER], { bookmarkIntervalMs: 0 });
    await api.start();
    api.failWatches({ code: 500, reason: 'InternalError', message: 'conversion webhook failed' });
    const errors: { err: unknown; phase: string }[] = [];
    r = new Reflector(kubeTransport(loadKubeConfig({ server: api.url }), PEER), {
      replace: () => undefined, upsert: () => undefined, remove: () => undefined,
      error: (err, phase) => errors.push({ err, phase }),
    }, { minBackoffMs: 25, maxBackoffMs: 2000 });
    expect(await r.start()).toBe('synced');
    const watchTimes = (): number[] => api!.requests.filter((q) => q.url.includes('watch=true')).map((q) => q.at);
    await until(() => watchTimes().length >= 5, 'five watch attempts');
    r.stop();
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(errors[0]!.phase).toBe('watch');
    const msg = String((errors[0]!.err as Error).message);
    expect(msg).toContain('InternalError');
    expect(msg).toContain('conversion webhook failed');
    const g = gaps(watchTimes());
    // 25, 50, 100, 200 ms (+ request time): growing, not 25 ms forever
    expect(g[3]!).toBeGreaterThanOrEqual(150);
    expect(g[3]!).toBeGreaterThan(g[0]! * 2);
  });

  it('an HTTP 410 on the watch request re-lists from scratch, without an error', async () => {
    api = new FakeApiServer([BGPPEER], { bookmarkIntervalMs: 0 });
    await api.start();
    const errors: unknown[] = [];
    const relists: string[] = [];
    r = new Reflector(kubeTransport(loadKubeConfig({ server: api.url }), PEER), {
      replace: () => undefined, upsert: () => undefined, remove: () => undefined,
      error: (err) => errors.push(err),
      relisted: (why) => relists.push(why),
    }, { minBackoffMs: 20, maxBackoffMs: 200 });
    api.failWatches({ code: 410, reason: 'Gone', as: 'http' });
    expect(await r.start()).toBe('synced');
    await until(() => relists.length >= 2, 'the re-list');
    api.failWatches(undefined);
    expect(relists.slice(0, 2)).toEqual(['initial', 'gone']);
    expect(errors).toEqual([]);
  });
});

describe('Reflector backoff is not reset by a watch that merely opens', () => {
  afterEach(() => { vi.useRealTimers(); });

  function scripted() {
    const calls: { at: number; done: (err: unknown) => void; onEvent: (t: WatchEventType, o: Record<string, unknown>) => void; aborted: boolean }[] = [];
    const transport: ReflectorTransport = {
      list: async () => ({ resourceVersion: '5', items: [] }),
      watch: async (_rv, onEvent, done) => {
        const c = { at: Date.now(), done, onEvent, aborted: false };
        calls.push(c);
        return { abort: () => { c.aborted = true; } };
      },
    };
    return { transport, calls };
  }

  function reflector(transport: ReflectorTransport, errors: unknown[]): Reflector {
    return new Reflector(transport, { replace: () => undefined, upsert: () => undefined, remove: () => undefined, error: (e) => errors.push(e) }, { minBackoffMs: 100, maxBackoffMs: 10_000 });
  }

  it('watches that open and then die (ECONNRESET) are reopened after growing delays; an event resets the backoff', async () => {
    vi.useFakeTimers({ now: 0 });
    const { transport, calls } = scripted();
    const errors: unknown[] = [];
    const r = reflector(transport, errors);
    await r.start();
    const failedAt: number[] = [];
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(10_000); // open for 10 s, quiet
      failedAt.push(Date.now());
      calls[i]!.done(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    }
    await vi.advanceTimersByTimeAsync(10_000);
    expect(failedAt.map((t, i) => calls[i + 1]!.at - t)).toEqual([100, 200, 400, 800]);
    expect(errors).toHaveLength(4);
    // the fifth watch delivers an event: healthy; its failure waits the minimum again
    calls[4]!.onEvent('ADDED', { kind: 'BGPPeer', metadata: { name: 'a', resourceVersion: '9' } });
    const lastFailure = Date.now();
    calls[4]!.done(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls[5]!.at - lastFailure).toBe(100);
    r.stop();
  });

  it('a watch that stayed open a while (no events) counts as healthy: its failure waits the minimum', async () => {
    vi.useFakeTimers({ now: 0 });
    const { transport, calls } = scripted();
    const errors: unknown[] = [];
    const r = reflector(transport, errors);
    await r.start();
    await vi.advanceTimersByTimeAsync(0);
    calls[0]!.done(new Error('boom'));
    await vi.advanceTimersByTimeAsync(100);
    calls[1]!.done(new Error('boom'));
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(120_000); // open and quiet for two minutes
    const failedAt = Date.now();
    calls[2]!.done(new Error('boom'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls[3]!.at - failedAt).toBe(100);
    r.stop();
  });

  it('an ERROR event ends the watch it came on (aborted) and is reported; a 410 ERROR re-lists without an error', async () => {
    vi.useFakeTimers({ now: 0 });
    const { transport, calls } = scripted();
    let lists = 0;
    const list = transport.list.bind(transport);
    transport.list = (...a) => { lists++; return list(...a); };
    const errors: unknown[] = [];
    const r = reflector(transport, errors);
    await r.start();
    await vi.advanceTimersByTimeAsync(0);
    calls[0]!.onEvent('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd is sad' });
    expect(calls[0]!.aborted).toBe(true);
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).message)).toMatch(/InternalError.*etcd is sad|etcd is sad.*InternalError/);
    calls[0]!.done(null); // the stream's own end, after the abort: ignored
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(2);
    calls[1]!.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    expect(calls[1]!.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(lists).toBe(2);
    expect(errors).toHaveLength(1);
    r.stop();
  });

  it('a watch closed at once with nothing in it is a failure ("very short watch"): reported, backed off', async () => {
    vi.useFakeTimers({ now: 0 });
    const { transport, calls } = scripted();
    const errors: unknown[] = [];
    const r = reflector(transport, errors);
    await r.start();
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(i === 0 ? 0 : 100 * 2 ** (i - 1));
      calls[i]!.done(null);
    }
    await vi.advanceTimersByTimeAsync(800);
    expect(gaps(calls.map((c) => c.at))).toEqual([100, 200, 400, 800]);
    expect(errors).toHaveLength(4);
    r.stop();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionDriver, type DriverCore, type DriverLog } from '../../../../bgp/session/driver.js';
import { wireCodec } from '../../../../bgp/session/wire-codec.js';
import type { SpeakerEvent } from '../../../../bgp/speaker/types.js';
import type { Transport } from '../../../../bgp/session/transport.js';

// The driver's named timers against a recording core, on vitest's fake clock (setTimeout,
// Timeout.refresh and Date.now advance only by hand; no sockets).

const log: DriverLog = { info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined };

// random: the jitter source (1 → jittered timers run their full duration, as the nominal-duration cases below assume)
function driver(random: () => number = () => 1): { d: SessionDriver; fired: { peer: string; ev: SpeakerEvent; at: number }[] } {
  const fired: { peer: string; ev: SpeakerEvent; at: number }[] = [];
  const core: DriverCore = {
    incoming: () => ({ actions: [] }),
    handle: (peer, ev) => { fired.push({ peer, ev, at: Date.now() }); return []; },
  };
  const transport: Transport = { connect: () => Promise.reject(new Error('unused')), listen: () => Promise.reject(new Error('unused')) };
  return { d: new SessionDriver({ transport, codec: wireCodec, core, log, connectOptions: (remote) => ({ remote, port: 179 }), random }), fired };
}

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('session driver timers', () => {
  it('a timer started again with the same duration is re-armed in place: fires once, a full duration after the restart', () => {
    const { d, fired } = driver();
    const t0 = Date.now();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 300 } }]);
    vi.advanceTimersByTime(150);
    const restart = Date.now();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 300 } }]); // as at every UPDATE
    expect(d.counts().timers).toBe(1);
    expect(vi.getTimerCount()).toBe(1); // one Timeout pending
    vi.advanceTimersByTime(299); // past the first deadline (t0 + 300), 1 ms before the re-armed one
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired.map((f) => [f.peer, f.ev.type])).toEqual([['p', 'HoldTimerExpires']]);
    expect(fired[0]!.at - restart).toBe(300);
    expect(fired[0]!.at - t0).toBe(450);
    expect(d.counts().timers).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(fired).toHaveLength(1);
  });

  it('a timer started again with another duration is replaced: the new duration counts, the old one never fires', () => {
    const { d, fired } = driver();
    const t0 = Date.now();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Keepalive', ms: 5000 } }]);
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Keepalive', ms: 50 } }]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(49);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired.map((f) => [f.peer, f.ev.type, f.at - t0])).toEqual([['p', 'KeepaliveTimerExpires', 50]]);
    vi.advanceTimersByTime(10_000);
    expect(fired).toHaveLength(1);
    expect(d.counts().timers).toBe(0);
  });

  it('stop cancels a timer (also one re-armed before); timers of different peers and names are separate', () => {
    const { d, fired } = driver();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 50 } }]);
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 50 } }]);
    d.perform([{ peer: 'q', action: { type: 'startTimer', name: 'Hold', ms: 50 } }]);
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'ConnectRetry', ms: 80 } }]);
    expect(d.counts().timers).toBe(3);
    d.perform([{ peer: 'p', action: { type: 'stopTimer', name: 'Hold' } }]);
    expect(d.counts().timers).toBe(2);
    vi.advanceTimersByTime(10_000);
    expect(fired.map((f) => [f.peer, f.ev.type])).toEqual([['q', 'HoldTimerExpires'], ['p', 'ConnectRetryTimerExpires']]);
    expect(d.counts().timers).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shutdown clears every timer: none fires afterwards', async () => {
    const { d, fired } = driver();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 50 } }]);
    d.perform([{ peer: '', action: { type: 'startTimer', name: 'Deferral', ms: 60_000 } }]);
    await d.shutdown(0);
    expect(d.counts().timers).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(fired).toEqual([]);
  });

  // RFC 4271 §10: ConnectRetry and Keepalive jittered by a uniform factor 0.75–1.0 each time they start; Hold never
  it.each([
    ['Keepalive', 0, 750], ['Keepalive', 1, 1000], ['Keepalive', 0.5, 875],
    ['ConnectRetry', 0, 750], ['ConnectRetry', 1, 1000], ['ConnectRetry', 0.2, 800],
    ['Hold', 0, 1000], ['Hold', 0.5, 1000],
  ] as const)('%s of 1000 ms with random %s fires after %s ms', (name, r, at) => {
    const { d, fired } = driver(() => r);
    const t0 = Date.now();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name, ms: 1000 } }]);
    vi.advanceTimersByTime(at - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired.map((f) => f.at - t0)).toEqual([at]);
  });

  it('a jittered timer started again with the same duration draws a new jitter (no in-place refresh with the old one)', () => {
    const draws = [1, 0];
    const { d, fired } = driver(() => draws.shift() ?? 1);
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'ConnectRetry', ms: 1000 } }]); // armed for 1000
    vi.advanceTimersByTime(500);
    const restart = Date.now();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'ConnectRetry', ms: 1000 } }]); // armed for 750
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(749);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired.map((f) => f.at - restart)).toEqual([750]);
  });
});

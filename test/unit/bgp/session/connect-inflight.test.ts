import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type net from 'node:net';
import { SessionDriver, type DriverLog } from '../../../../bgp/session/driver.js';
import { connectNonBlocking, type ConnectOptions, type RawConnectOps, type Transport } from '../../../../bgp/session/transport.js';
import type { ConnectState } from '../../../../bgp/session/sockopt.js';
import { wireCodec } from '../../../../bgp/session/wire-codec.js';
import { PureSpeakerCore } from '../../../../bgp/session/speaker-core.js';
import type { SpeakerConfig } from '../../../../bgp/session/config.js';

// Connect attempts in flight: the driver aborts an attempt the core closed (ConnectRetry
// expiry, shutdown), so a peer behind a silent path never has more than one raw
// connect running; and the non-blocking connect loop (fake syscalls, fake clock).

const log: DriverLog = { info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined };

/** A transport to a silent peer: connects never complete; counts attempts in flight per peer (until aborted). */
function silentTransport(): { transport: Transport; inFlight: Map<string, number>; maxInFlight: Map<string, number>; calls: number } {
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const t = {
    inFlight, maxInFlight, calls: 0,
    transport: {
      connect: (o: ConnectOptions) => new Promise<net.Socket>((_res, rej) => {
        t.calls++;
        const n = (inFlight.get(o.remote) ?? 0) + 1;
        inFlight.set(o.remote, n);
        maxInFlight.set(o.remote, Math.max(n, maxInFlight.get(o.remote) ?? 0));
        o.signal?.addEventListener('abort', () => { inFlight.set(o.remote, (inFlight.get(o.remote) ?? 1) - 1); rej(new Error('aborted')); }, { once: true });
      }),
      listen: () => Promise.reject(new Error('unused')),
    },
  };
  return t;
}

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('connect attempts in flight', () => {
  it('ConnectRetry expiries against a silent peer keep at most one connect per peer in flight; shutdown aborts the last', async () => {
    const config: SpeakerConfig = {
      asn: 65001, routerId: '10.0.0.1', listen: null, originate: [], restartTime: 120,
      neighbors: ['10.0.0.2', '10.0.0.3'].map((address) => ({
        address, asn: 65002, passive: false, routeReflectorClient: false, holdTime: 90, families: ['ipv4' as const], nextHopSelf: false, gracefulRestart: false, port: 179, connectRetry: 1,
      })),
    };
    const core = new PureSpeakerCore(config);
    const t = silentTransport();
    const d = new SessionDriver({ transport: t.transport, codec: wireCodec, core, log, connectOptions: (remote) => ({ remote, port: 179, ttlSecurityHops: 1 }), random: () => 1 });
    d.perform(core.start(Date.now()));
    expect(t.calls).toBe(2);
    for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1000); // six ConnectRetry expiries: close + new connect each
    expect(t.calls).toBe(14);
    expect(Object.fromEntries(t.maxInFlight)).toEqual({ '10.0.0.2': 1, '10.0.0.3': 1 });
    expect(Object.fromEntries(t.inFlight)).toEqual({ '10.0.0.2': 1, '10.0.0.3': 1 });
    expect(d.counts().connecting).toBe(2);
    d.perform(core.shutdown(Date.now()));
    await d.shutdown(0);
    expect(Object.fromEntries(t.inFlight)).toEqual({ '10.0.0.2': 0, '10.0.0.3': 0 });
  });
});

describe('non-blocking connect loop', () => {
  function ops(states: ConnectState[], immediate = false): RawConnectOps & { polls: number; slept: number[] } {
    let now = 0;
    const o = {
      polls: 0, slept: [] as number[],
      startConnect: () => immediate,
      connectResult: (): ConnectState => { o.polls++; return states.shift() ?? 'pending'; },
      sleep: (ms: number) => { o.slept.push(ms); now += ms; return Promise.resolve(); },
      now: () => now,
    };
    return o;
  }

  it('resolves at once when connect completes immediately, without polling', async () => {
    const o = ops([], true);
    await connectNonBlocking(3, '10.0.0.2', 179, { timeoutMs: 1000 }, o);
    expect(o.polls).toBe(0);
  });

  it('polls with growing pauses until connected', async () => {
    const o = ops(['pending', 'pending', 'pending', 'connected']);
    await connectNonBlocking(3, '10.0.0.2', 179, { timeoutMs: 1000 }, o);
    expect(o.polls).toBe(4);
    expect(o.slept).toEqual([1, 2, 4]);
  });

  it('rejects with the socket error', async () => {
    await expect(connectNonBlocking(3, '10.0.0.2', 179, { timeoutMs: 1000 }, ops(['pending', { error: 'ECONNREFUSED' }]))).rejects.toThrow('ECONNREFUSED');
  });

  it('gives up at the timeout: pauses capped at 50 ms, never past the deadline', async () => {
    const o = ops([]);
    await expect(connectNonBlocking(3, '10.0.0.2', 179, { timeoutMs: 300 }, o)).rejects.toThrow('timed out');
    expect(o.slept.reduce((a, b) => a + b, 0)).toBe(300);
    expect(Math.max(...o.slept)).toBe(50);
  });

  it('stops polling once aborted', async () => {
    const ac = new AbortController();
    const o = ops([]);
    const orig = o.sleep;
    o.sleep = (ms) => { if (o.slept.length === 2) ac.abort(); return orig(ms); };
    await expect(connectNonBlocking(3, '10.0.0.2', 179, { timeoutMs: 5000, signal: ac.signal }, o)).rejects.toThrow('aborted');
    expect(o.polls).toBe(3);
  });
});

import { describe, expect, it } from 'vitest';
import { SessionDriver, type DriverCore, type DriverLog } from '../../../../bgp/session/driver.js';
import { wireCodec } from '../../../../bgp/session/wire-codec.js';
import type { SpeakerEvent } from '../../../../bgp/speaker/types.js';
import type { Transport } from '../../../../bgp/session/transport.js';

// The driver's named timers against a recording core (real timers, no sockets).

const log: DriverLog = { info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function driver(): { d: SessionDriver; fired: { peer: string; ev: SpeakerEvent; at: number }[] } {
  const fired: { peer: string; ev: SpeakerEvent; at: number }[] = [];
  const core: DriverCore = {
    incoming: () => ({ actions: [] }),
    handle: (peer, ev) => { fired.push({ peer, ev, at: Date.now() }); return []; },
  };
  const transport: Transport = { connect: () => Promise.reject(new Error('unused')), listen: () => Promise.reject(new Error('unused')) };
  return { d: new SessionDriver({ transport, codec: wireCodec, core, log, connectOptions: (remote) => ({ remote, port: 179 }) }), fired };
}

describe('session driver timers', () => {
  it('a timer started again with the same duration is re-armed (fires once, from the restart); another duration replaces it; stop cancels', async () => {
    const { d, fired } = driver();
    const t0 = Date.now();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 300 } }]);
    await sleep(150);
    const restart = Date.now();
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 300 } }]); // as at every UPDATE
    expect(d.counts().timers).toBe(1);
    await sleep(200); // past the first deadline (t0 + 300), before the re-armed one
    expect(fired).toEqual([]);
    for (let i = 0; i < 40 && fired.length === 0; i++) await sleep(50);
    expect(fired.map((f) => [f.peer, f.ev.type])).toEqual([['p', 'HoldTimerExpires']]);
    expect(fired[0]!.at - restart).toBeGreaterThanOrEqual(290);
    expect(fired[0]!.at - t0).toBeGreaterThanOrEqual(440);
    expect(d.counts().timers).toBe(0);
    // a different duration: the new one counts
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Keepalive', ms: 5000 } }]);
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Keepalive', ms: 50 } }]);
    for (let i = 0; i < 40 && fired.length === 1; i++) await sleep(25);
    expect(fired.map((f) => f.ev.type)).toEqual(['HoldTimerExpires', 'KeepaliveTimerExpires']);
    // stopped before it fires
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 50 } }]);
    d.perform([{ peer: 'p', action: { type: 'startTimer', name: 'Hold', ms: 50 } }]);
    d.perform([{ peer: 'p', action: { type: 'stopTimer', name: 'Hold' } }]);
    await sleep(150);
    expect(fired).toHaveLength(2);
    expect(d.counts().timers).toBe(0);
  });
});

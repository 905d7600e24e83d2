import { describe, expect, it } from 'vitest';
import { startDataplaneLoop, type LoopTimers } from '../../../../agent/dataplane/loop.js';

const manualTimers = (): LoopTimers & { tick(): void; cleared: boolean } => {
  let fn: (() => void) | undefined;
  const t = {
    cleared: false,
    setInterval: (f: () => void) => { fn = f; return 1; },
    clearInterval: () => { t.cleared = true; },
    tick: () => fn?.(),
  };
  return t;
};

describe('dataplane loop', () => {
  it('runs one pass at a time and coalesces kicks that arrive meanwhile into one more pass', async () => {
    let passes = 0;
    let active = 0;
    let maxActive = 0;
    const release: (() => void)[] = [];
    const pass = async (): Promise<void> => {
      passes++;
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => release.push(r));
      active--;
    };
    const timers = manualTimers();
    const loop = startDataplaneLoop(pass, { resyncMs: 1000, onError: () => undefined, timers });
    const first = loop.kick();
    const a = loop.kick();
    const b = loop.kick();
    expect(a).toBe(b);
    release.shift()?.();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(passes).toBe(2);
    release.shift()?.();
    await a;
    expect(maxActive).toBe(1);
    loop.stop();
    expect(timers.cleared).toBe(true);
  });

  it('reports a failed pass and keeps going; the timer triggers passes', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const timers = manualTimers();
    const loop = startDataplaneLoop(async () => { n++; if (n === 1) throw new Error('boom'); }, { resyncMs: 1000, onError: (e) => errors.push(e), timers });
    await loop.kick();
    timers.tick();
    await loop.kick();
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
    expect(n).toBeGreaterThanOrEqual(2);
    loop.stop();
  });
});

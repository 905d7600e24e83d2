import { describe, expect, it } from 'vitest';
import { createInterruptController, InterruptedError, onLabSignal } from '../../../../agent/lab/interrupt.js';

// A fake lab: processes are numbers; "running" holds those started and not stopped.
function fakeProcesses() {
  const running = new Set<number>();
  let next = 1;
  return {
    running,
    /** a start that spawns at once but resolves only when `release` is called (like startInNetns awaiting 'spawn') */
    slowStart() {
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      const start = async () => {
        const pid = next++;
        running.add(pid);
        await gate;
        return pid;
      };
      return { start, release: () => release() };
    },
    stop: async (pid: number) => { running.delete(pid); },
  };
}

describe('lab interrupt', () => {
  it('stops a process whose start resolves after the signal fired', async () => {
    const ctl = createInterruptController();
    const fake = fakeProcesses();
    const slow = fake.slowStart();
    const starting = ctl.interrupt.guard('agent n1', slow.start, fake.stop);
    const events: string[] = [];
    // the teardown sees only what was recorded: nothing, the start has not returned yet
    const signalled = onLabSignal('SIGTERM', ctl, async () => { events.push(`teardown running=${fake.running.size}`); return false; }, { settleMs: 2000 });
    await Promise.resolve();
    slow.release();
    await expect(starting).rejects.toBeInstanceOf(InterruptedError);
    expect(await signalled).toBe(143);
    expect(fake.running.size).toBe(0);
    // the second pass runs once the start under way has settled (and stopped its process)
    expect(events).toEqual(['teardown running=1', 'teardown running=0']);
  });

  it('starts nothing once the signal fired', async () => {
    const ctl = createInterruptController();
    const fake = fakeProcesses();
    const code = await onLabSignal('SIGINT', ctl, async () => false);
    expect(code).toBe(130);
    let called = false;
    await expect(ctl.interrupt.guard('agent n2', async () => { called = true; return 7; }, fake.stop)).rejects.toBeInstanceOf(InterruptedError);
    expect(called).toBe(false);
  });

  it('tears down again after the starts under way settled, until nothing is left', async () => {
    const ctl = createInterruptController();
    let left = 2;
    let calls = 0;
    await onLabSignal('SIGTERM', ctl, async () => { calls++; const some = left > 0; left = Math.max(0, left - 1); return some; }, { passes: 5 });
    // first pass, then passes until one finds nothing: 1 + (1 left → true) + (0 → false)
    expect(calls).toBe(3);
  });

  it('leaves a start that finished before the signal to the teardown (it is recorded)', async () => {
    const ctl = createInterruptController();
    const fake = fakeProcesses();
    const pid = await ctl.interrupt.guard('agent n3', async () => { fake.running.add(42); return 42; }, fake.stop);
    expect(pid).toBe(42);
    await onLabSignal('SIGTERM', ctl, async () => false);
    expect(fake.running.has(42)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { PolicyEnforcer, type Timers } from '../../../../policy/apply/enforcer.js';
import { PolicyApplier } from '../../../../policy/apply/applier.js';
import { ExecFailure, type Exec } from '../../../../policy/apply/exec.js';
import { renderNode } from '../../../../policy/render/chains.js';
import { resolveNode } from '../../../../policy/resolve/resolve.js';
import type { Policy } from '../../../../policy/model/types.js';
import { cluster, policy } from '../helpers.js';

/** Timers that only fire when the test says so. */
function manualTimers() {
  const due: { fn: () => void; ms: number; id: number }[] = [];
  let next = 0;
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const id = next++;
      due.push({ fn, ms, id });
      return id;
    },
    clearTimeout: (h) => {
      const i = due.findIndex((d) => d.id === h);
      if (i >= 0) due.splice(i, 1);
    },
  };
  return { timers, due, fire: (ms: number) => { const i = due.findIndex((d) => d.ms === ms); const d = due.splice(i, 1)[0]; d?.fn(); } };
}

function kernel(failWrites: (argv: string[]) => boolean) {
  const writes: string[] = [];
  const exec: Exec = {
    async run(argv, input = '') {
      if (argv[0]?.endsWith('-save') || (argv[0] === 'ipset' && argv[1] === 'save')) return { stdout: '', stderr: '' };
      if (failWrites(argv)) throw new ExecFailure(argv, 1, 'Error occurred at line: 1');
      writes.push(`${argv[0]} ${input.split('\n').length}`);
      return { stdout: '', stderr: '' };
    },
  };
  return { exec, writes };
}

describe('PolicyEnforcer', () => {
  let policies: Policy[] = [policy('x', 'deny', { podSelector: {} })];
  const desired = () => renderNode(resolveNode(cluster(), policies, 'n1'));

  it('reconciles on start, schedules the periodic resync, applies changes once', async () => {
    const { exec, writes } = kernel(() => false);
    const t = manualTimers();
    const kinds: string[] = [];
    const e = new PolicyEnforcer(new PolicyApplier(exec), desired, t.timers, { resyncMs: 60_000, onResult: (_r, k) => kinds.push(k) });
    e.start();
    await e.settled();
    expect(kinds).toEqual(['reconcile']);
    expect(e.inSync).toBe(true);
    expect(t.due.map((d) => d.ms)).toEqual([60_000]);
    policies = [...policies, policy('x', 'allow', { podSelector: {}, ingress: [{}] })];
    const before = writes.length;
    e.changed();
    e.changed(); // arrives while the first apply runs: exactly one more apply
    await e.settled();
    expect(kinds).toEqual(['reconcile', 'apply', 'apply']);
    expect(writes.length - before).toBe(2); // the policy change in v4 and v6; the second apply had nothing to do
    t.fire(60_000);
    await e.settled();
    expect(kinds.at(-1)).toBe('reconcile');
    await e.stop();
    expect(t.due).toEqual([]);
  });

  it('a failing apply is retried with backoff and the newest desired state, then converges', async () => {
    let failing = 3;
    const { exec } = kernel((argv) => argv[0] === 'iptables-restore' && failing-- > 0);
    const t = manualTimers();
    const applier = new PolicyApplier(exec);
    const e = new PolicyEnforcer(applier, desired, t.timers, { baseDelayMs: 100, maxDelayMs: 250 });
    e.start();
    await e.settled();
    expect(e.consecutiveFailures).toBe(1);
    expect(t.due.map((d) => d.ms)).toEqual([100]);
    e.changed(); // coalesces into the scheduled retry
    t.fire(100);
    await e.settled();
    expect(t.due.map((d) => d.ms)).toEqual([200]);
    t.fire(200);
    await e.settled();
    expect(t.due.map((d) => d.ms)).toEqual([250]);
    t.fire(250);
    await e.settled();
    expect(e.consecutiveFailures).toBe(0);
    expect(e.inSync).toBe(true);
    expect(applier.metrics.failures).toBe(3);
    await e.stop();
  });
});

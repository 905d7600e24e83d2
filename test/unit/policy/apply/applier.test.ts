import { describe, expect, it } from 'vitest';
import { PolicyApplier, failingLine } from '../../../../policy/apply/applier.js';
import { ExecFailure, type Exec } from '../../../../policy/apply/exec.js';
import { renderNode } from '../../../../policy/render/chains.js';
import { resolveNode } from '../../../../policy/resolve/resolve.js';
import { cluster, policy } from '../helpers.js';

/** A recording Exec: reads return empty kernels; writes can be made to fail. */
function fakeExec(failOn: (argv: string[], input: string) => boolean = () => false) {
  const calls: { argv: string[]; input: string }[] = [];
  const exec: Exec = {
    async run(argv, input = '') {
      calls.push({ argv, input });
      if (failOn(argv, input)) throw new ExecFailure(argv, 1, 'iptables-restore v1.8.9 (nf_tables): Chain X does not exist\n\nError occurred at line: 3\n');
      return { stdout: '', stderr: '' };
    },
  };
  return { exec, calls };
}

const desired = () => renderNode(resolveNode(cluster(), [policy('x', 'deny', { podSelector: {} })], 'n1'));

describe('PolicyApplier (fake exec)', () => {
  it('reads the kernel once, then applies incrementally from what it applied', async () => {
    const { exec, calls } = fakeExec();
    const a = new PolicyApplier(exec);
    const r1 = await a.apply(desired());
    expect(r1.ok).toBe(true);
    expect(calls.map((c) => c.argv[0])).toEqual(['iptables-save', 'ip6tables-save', 'ipset', 'iptables-restore', 'ip6tables-restore']);
    expect(r1.kernelWrites).toBe(2);
    calls.length = 0;
    const r2 = await a.apply(desired());
    expect(calls).toEqual([]);
    expect(r2.kernelWrites).toBe(0);
  });

  it('a failure counts, names the failing line, forgets the state, and retries with backoff', async () => {
    let failures = 2;
    const { exec, calls } = fakeExec((argv) => argv[0] === 'iptables-restore' && failures-- > 0);
    const errors: string[] = [];
    const a = new PolicyApplier(exec, { info: () => undefined, warn: () => undefined, error: (o) => errors.push(String((o as { err: string }).err)) });
    const sleeps: number[] = [];
    const r = await a.applyWithRetry(desired, { sleep: async (ms) => { sleeps.push(ms); } });
    expect(r.ok).toBe(true);
    expect(a.metrics.failures).toBe(2);
    expect(sleeps).toEqual([100, 200]);
    expect(errors[0]).toMatch(/^iptables-restore failed at: \S+/);
    // Every attempt after a failure re-read the kernel first.
    expect(calls.filter((c) => c.argv[0] === 'iptables-save')).toHaveLength(3);
  });

  it('gives up after maxAttempts, still failed', async () => {
    const { exec } = fakeExec((argv) => argv[0] === 'ip6tables-restore');
    const a = new PolicyApplier(exec);
    const r = await a.applyWithRetry(desired, { sleep: async () => undefined }, { maxAttempts: 3 });
    expect(r.ok).toBe(false);
    expect(a.metrics.failures).toBe(3);
  });

  it('failingLine picks the input line the tool names', () => {
    expect(failingLine('Error occurred at line: 2', 'a\nb\nc')).toBe('b');
    expect(failingLine('ipset v7.17: Error in line 3: Set cannot be created', 'a\nb\nc')).toBe('c');
    expect(failingLine('nothing', 'a')).toBeUndefined();
  });
});

describe('PolicyApplier: a set of the wrong type in the kernel', () => {
  it('is reported, left alone, and looked at again next time', async () => {
    const want = renderNode(resolveNode(cluster(), [policy('x', 'p', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })], 'n1'));
    const set = want.v4.sets[0]!;
    const calls: string[] = [];
    const exec: Exec = {
      async run(argv, input = '') {
        calls.push(argv[0] as string);
        if (argv[0] === 'ipset' && argv[1] === 'save') return { stdout: `create ${set.name} hash:net family inet\n`, stderr: '' };
        if (argv[0] === 'ipset') expect(input).not.toContain(`create ${set.name} `);
        return { stdout: '', stderr: '' };
      },
    };
    const warnings: string[] = [];
    const a = new PolicyApplier(exec, { info: () => undefined, warn: (o) => warnings.push(JSON.stringify(o)), error: () => undefined });
    const r = await a.apply(want);
    expect(r.ok).toBe(true);
    expect(r.plan.conflicts).toEqual([`${set.name}: kernel has hash:net family 4, want hash:ip family 4`]);
    expect(warnings).toHaveLength(1);
    calls.length = 0;
    await a.apply(want);
    expect(calls).toContain('iptables-save');
  });
});

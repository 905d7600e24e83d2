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
    expect(errors[0]).toMatch(/^IPv4: iptables-restore failed at: \S+/);
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

/**
 * A fake kernel for the apply layer: ipsets are kept (create/add/del/destroy through
 * `ipset restore`, processed line by line and stopping at the first error as the
 * real tool does; `ipset destroy NAME`), a set in `busy` cannot be destroyed (the
 * iptables-nft race: "in use by a kernel component"); iptables tools can be made to fail.
 */
function fakeKernel(opts: { failTool?: (tool: string) => string | undefined; sets?: Record<string, 4 | 6> } = {}) {
  const sets = new Map<string, 4 | 6>(Object.entries(opts.sets ?? {}));
  const busy = new Set<string>();
  const calls: { argv: string[]; input: string }[] = [];
  const exec: Exec = {
    async run(argv, input = '') {
      calls.push({ argv, input });
      const tool = argv[0] as string;
      const failure = opts.failTool?.(tool);
      if (failure !== undefined) throw new ExecFailure(argv, 1, failure);
      if (tool === 'ipset' && argv[1] === 'save') {
        return { stdout: [...sets].map(([n, f]) => `create ${n} hash:ip family ${f === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem 65536\n`).join(''), stderr: '' };
      }
      if (tool === 'ipset' && argv[1] === 'destroy') {
        if (busy.has(argv[2] as string)) throw new ExecFailure(argv, 1, 'ipset v7.17: Set cannot be destroyed: it is in use by a kernel component\n');
        sets.delete(argv[2] as string);
      }
      if (tool === 'ipset' && argv[1] === 'restore') {
        const lines = input.split('\n').filter((l) => l !== '');
        for (let i = 0; i < lines.length; i++) {
          const [op, name] = (lines[i] as string).split(' ') as [string, string];
          if (op === 'create') sets.set(name, (lines[i] as string).includes('inet6') ? 6 : 4);
          if (op === 'destroy') {
            if (busy.has(name)) throw new ExecFailure(argv, 1, `ipset v7.17: Error in line ${i + 1}: Set cannot be destroyed: it is in use by a kernel component\n`);
            sets.delete(name);
          }
        }
      }
      return { stdout: '', stderr: '' };
    },
  };
  return { exec, calls, sets, busy };
}

const recordingLog = () => {
  const log = { warn: [] as string[], error: [] as string[] };
  const logger = {
    info: () => undefined,
    warn: (o: object, m: string) => log.warn.push(`${m} ${JSON.stringify(o)}`),
    error: (o: object, m: string) => log.error.push(`${m} ${JSON.stringify(o)}`),
  };
  return { log, logger };
};

const tools = (calls: { argv: string[] }[]) => calls.map((c) => c.argv[0]);

describe('PolicyApplier: each IP family is applied on its own', () => {
  const noV6 = 'ip6tables-save v1.8.9 (legacy): Cannot initialize: Address family not supported by protocol\n';

  it('IPv6 disabled in the kernel (ip6tables: Address family not supported): IPv4 is applied, the apply is ok, IPv6 is reported skipped', async () => {
    const k = fakeKernel({ failTool: (t) => (t.startsWith('ip6tables') ? noV6 : undefined) });
    const { log, logger } = recordingLog();
    const a = new PolicyApplier(k.exec, logger);
    const r = await a.reconcile(desired());
    expect(r.ok, r.error).toBe(true);
    expect(tools(k.calls)).toContain('iptables-restore');
    expect(tools(k.calls)).not.toContain('ip6tables-restore');
    expect(r.problems.join('\n')).toMatch(/IPv6.*Address family not supported/);
    expect(log.warn.join('\n')).toMatch(/IPv6/);
    expect(log.error).toEqual([]);
    // IPv6 sets are not created either; the next incremental apply has nothing to do
    expect([...k.sets.keys()].filter((n) => n.startsWith('margay6'))).toEqual([]);
    k.calls.length = 0;
    const again = await a.apply(desired());
    expect(again.ok).toBe(true);
    expect(k.calls).toEqual([]);
  });

  it('ip6tables-save works but ip6tables-restore finds no IPv6 in the kernel: skipped the same way, the apply is ok, its stale sets go (no IPv6 rule can hold them)', async () => {
    const k = fakeKernel({ failTool: (t) => (t === 'ip6tables-restore' ? 'ip6tables-restore v1.8.9 (nf_tables): Could not fetch rule set generation id: Address family not supported by protocol\n' : undefined), sets: { 'margay6-p-old': 6 } });
    const a = new PolicyApplier(k.exec);
    const r = await a.reconcile(desired());
    expect(r.ok, r.error).toBe(true);
    expect(r.problems.join('\n')).toMatch(/IPv6 skipped.*Address family not supported/);
    expect(k.sets.has('margay6-p-old')).toBe(false);
    k.calls.length = 0;
    expect((await a.apply(desired())).ok).toBe(true);
    expect(k.calls).toEqual([]);
  });

  it('ip6tables-save fails otherwise: IPv4 is still applied; the apply fails naming IPv6 and its error', async () => {
    const k = fakeKernel({ failTool: (t) => (t === 'ip6tables-save' ? 'Another app is currently holding the xtables lock. Perhaps you want to use the -w option?\n' : undefined) });
    const { log, logger } = recordingLog();
    const r = await new PolicyApplier(k.exec, logger).reconcile(desired());
    expect(tools(k.calls)).toContain('iptables-restore');
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/IPv6.*xtables lock/);
    expect(r.error).not.toMatch(/IPv4/);
    expect(log.error.join('\n')).toMatch(/IPv4 applied/);
  });

  it('only ip6tables-restore fails: IPv4 is applied and its stale sets destroyed, the IPv6 stale sets wait for IPv6', async () => {
    const k = fakeKernel({ failTool: (t) => (t === 'ip6tables-restore' ? 'ip6tables-restore: line 3 failed\n' : undefined), sets: { 'margay4-p-old': 4, 'margay6-p-old': 6 } });
    const a = new PolicyApplier(k.exec);
    const r = await a.reconcile(desired());
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^IPv6: ip6tables-restore failed/);
    expect(k.sets.has('margay4-p-old')).toBe(false);
    expect(k.sets.has('margay6-p-old')).toBe(true);
  });
});

describe('PolicyApplier: stale sets are destroyed best effort', () => {
  it('a set the kernel cannot destroy yet ("in use by a kernel component") is a warning: the others go, the apply is ok, the destroy is retried later', async () => {
    const k = fakeKernel({ sets: { 'margay4-p-a': 4, 'margay4-p-b': 4, 'margay4-p-c': 4, 'margay6-p-d': 6 } });
    k.busy.add('margay4-p-b');
    const { log, logger } = recordingLog();
    const a = new PolicyApplier(k.exec, logger);
    const r = await a.reconcile(desired());
    expect(r.ok, r.error).toBe(true);
    expect([...k.sets.keys()].sort()).toEqual(['margay4-p-b']);
    expect(r.problems.join('\n')).toMatch(/margay4-p-b.*in use by a kernel component/);
    expect(log.error).toEqual([]);
    expect(log.warn.join('\n')).toMatch(/margay4-p-b/);
    expect(a.metrics.failures).toBe(0);
    // the next (incremental) apply tries again; once the kernel lets go, it is gone
    k.busy.clear();
    k.calls.length = 0;
    const again = await a.apply(desired());
    expect(again.ok).toBe(true);
    expect(k.calls.map((c) => c.input)).toEqual(['destroy margay4-p-b\n']);
    expect(k.sets.size).toBe(0);
    k.calls.length = 0;
    await a.apply(desired());
    expect(k.calls).toEqual([]);
  });
});

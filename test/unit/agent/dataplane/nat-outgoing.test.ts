import { describe, expect, it } from 'vitest';
import { applyNatOutgoing, execIn, type Exec } from '../../../../agent/dataplane/nat-outgoing.js';
import { planNatOutgoing } from '../../../../agent/dataplane/plan/nat-plan.js';

// A fake iptables: answers -C/-S from a tiny model of the nat table and records calls.
function fakeIptables(state: { jump: boolean; chain: string | undefined }): { exec: Exec; calls: string[] } {
  const calls: string[] = [];
  const exec: Exec = async (argv, input) => {
    calls.push(argv.join(' ') + (input !== undefined ? ` <<${input.split('\n').length} lines` : ''));
    const verb = argv.find((a) => ['-C', '-S', '-A', '-D', '-F', '-X'].includes(a));
    if (argv[0] === 'iptables-restore') {
      state.chain = ['-N MARGAY-NAT-OUTGOING', ...(input ?? '').split('\n').filter((l) => l.startsWith('-A '))].join('\n');
      return { code: 0, stdout: '', stderr: '' };
    }
    if (verb === '-C') return { code: state.jump ? 0 : 1, stdout: '', stderr: '' };
    if (verb === '-S') return state.chain !== undefined ? { code: 0, stdout: `${state.chain}\n`, stderr: '' } : { code: 1, stdout: '', stderr: 'No chain' };
    if (verb === '-A') state.jump = true;
    if (verb === '-D') state.jump = false;
    if (verb === '-X') state.chain = undefined;
    return { code: 0, stdout: '', stderr: '' };
  };
  return { exec, calls };
}

const pools = [{ cidr: '10.244.0.0/16', natOutgoing: true, ipipMode: 'Never' as const, vxlanMode: 'Never' as const }];

describe('applyNatOutgoing', () => {
  it('writes the chain and the jump once, then does nothing while nothing changes', async () => {
    const state = { jump: false, chain: undefined as string | undefined };
    const { exec, calls } = fakeIptables(state);
    expect(await applyNatOutgoing(exec, planNatOutgoing(pools, 4))).toEqual({ changed: true });
    expect(calls).toEqual([
      'iptables -w -t nat -C POSTROUTING -m comment --comment margay:nat-outgoing -j MARGAY-NAT-OUTGOING',
      'iptables -w -t nat -S MARGAY-NAT-OUTGOING',
      'iptables-restore -w --noflush <<6 lines',
      'iptables -w -t nat -A POSTROUTING -m comment --comment margay:nat-outgoing -j MARGAY-NAT-OUTGOING',
    ]);
    calls.length = 0;
    expect(await applyNatOutgoing(exec, planNatOutgoing(pools, 4))).toEqual({ changed: false });
    expect(calls.some((c) => c.startsWith('iptables-restore') || c.includes(' -A '))).toBe(false);
  });
  it('removes the jump and the chain when no pool wants NAT', async () => {
    const state = { jump: true, chain: '-N MARGAY-NAT-OUTGOING\n-A MARGAY-NAT-OUTGOING -s 10.244.0.0/16 -j MASQUERADE' };
    const { exec } = fakeIptables(state);
    expect(await applyNatOutgoing(exec, planNatOutgoing([], 4))).toEqual({ changed: true });
    expect(state).toEqual({ jump: false, chain: undefined });
    expect(await applyNatOutgoing(exec, planNatOutgoing([], 4))).toEqual({ changed: false });
  });
  it('a duplicated POSTROUTING jump: NAT on keeps exactly one, NAT off removes every copy and then the chain (one pass)', async () => {
    // a nat table model with POSTROUTING as a list: -C/-D match the first copy; -X refuses a referenced chain
    const jumpSpec = '-m comment --comment margay:nat-outgoing -j MARGAY-NAT-OUTGOING';
    const k = { post: [jumpSpec, jumpSpec, jumpSpec], chain: ['-s 10.244.0.0/16 -j MASQUERADE'] as string[] | undefined };
    const ok = { code: 0, stdout: '', stderr: '' };
    const exec: Exec = async (argv, input) => {
      if (argv[0] === 'iptables-restore') { k.chain = (input ?? '').split('\n').filter((l) => l.startsWith('-A ')).map((l) => l.split(' ').slice(2).join(' ')); return ok; }
      const [verb, chain, ...rest] = argv.slice(4);
      const rule = rest.join(' ');
      if (verb === '-C') return { ...ok, code: k.post.includes(rule) ? 0 : 1 };
      if (verb === '-D') { const i = k.post.indexOf(rule); if (i < 0) return { code: 1, stdout: '', stderr: 'Bad rule' }; k.post.splice(i, 1); return ok; }
      if (verb === '-A') { k.post.push(rule); return ok; }
      if (verb === '-S' && chain === 'POSTROUTING') return { ...ok, stdout: ['-P POSTROUTING ACCEPT', ...k.post.map((r) => `-A POSTROUTING ${r.replace('margay:nat-outgoing', '"margay:nat-outgoing"')}`)].join('\n') + '\n' };
      if (verb === '-S') return k.chain ? { ...ok, stdout: ['-N MARGAY-NAT-OUTGOING', ...k.chain.map((r) => `-A ${chain} ${r}`)].join('\n') + '\n' } : { code: 1, stdout: '', stderr: 'No chain' };
      if (verb === '-F') { k.chain = []; return ok; }
      if (verb === '-X') { if (k.post.includes(jumpSpec)) return { code: 1, stdout: '', stderr: 'CHAIN_DEL failed (Device or resource busy)' }; k.chain = undefined; return ok; }
      return { code: 1, stdout: '', stderr: `unexpected ${argv.join(' ')}` };
    };
    const on = planNatOutgoing(pools, 4);
    expect(await applyNatOutgoing(exec, on)).toEqual({ changed: true });
    expect(k.post).toEqual([jumpSpec]);
    expect(await applyNatOutgoing(exec, on)).toEqual({ changed: false });
    k.post.push('-o eth0 -j MASQUERADE', jumpSpec, jumpSpec); // copies again, beside a foreign rule
    expect(await applyNatOutgoing(exec, planNatOutgoing([], 4))).toEqual({ changed: true });
    expect(k).toEqual({ post: ['-o eth0 -j MASQUERADE'], chain: undefined });
    expect(await applyNatOutgoing(exec, planNatOutgoing([], 4))).toEqual({ changed: false });
  });

  it('a -D that keeps succeeding while -C still matches stops after a bounded number of tries', async () => {
    let deletes = 0;
    const exec: Exec = async (argv) => {
      if (argv.includes('-D')) deletes++;
      return { code: argv.includes('-C') || argv.includes('-D') ? 0 : 1, stdout: '', stderr: '' };
    };
    await expect(applyNatOutgoing(exec, planNatOutgoing([], 4))).rejects.toThrow(/still there after 16/);
    expect(deletes).toBe(16);
  });

  it('uses ip6tables for IPv6 and reports a failing tool with its message', async () => {
    const calls: string[] = [];
    const exec: Exec = async (argv) => { calls.push(argv[0] as string); return argv.includes('-C') || argv.includes('-S') ? { code: 1, stdout: '', stderr: '' } : { code: 4, stdout: '', stderr: 'Permission denied' }; };
    await expect(applyNatOutgoing(exec, planNatOutgoing([{ ...pools[0], cidr: 'fd44::/48' } as never], 6))).rejects.toThrow(/ip6tables-restore -w --noflush failed \(exit 4\): Permission denied/);
    expect(new Set(calls)).toEqual(new Set(['ip6tables', 'ip6tables-restore']));
  });
});

describe('execIn: tools by absolute path', () => {
  it('runs a tool found in PATH; a missing one answers exit 127 naming the tool and the PATH searched, without a spawn', async () => {
    expect(await execIn()(['sh', '-c', 'echo ok'])).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
    const r = await execIn()(['mg-no-such-tool', '-w']);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/^mg-no-such-tool: not found in PATH \(searched \/.*\); install it or add its directory to PATH$/);
  });
  it('is hostExec as exit codes: input reaches stdin; a failure answers its exit code and stderr, with no stdout', async () => {
    expect(await execIn()(['sh', '-c', 'cat'], 'in\n')).toEqual({ code: 0, stdout: 'in\n', stderr: '' });
    expect(await execIn()(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: '', stderr: 'err\n' });
  });
});

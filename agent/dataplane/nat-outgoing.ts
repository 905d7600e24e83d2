/**
 * Applies natOutgoing: margay's chain in the nat table rewritten whole with one
 * `iptables-restore --noflush` (atomic, touches no other chain), and the single
 * POSTROUTING jump ensured with `-C` / `-A`, extra copies deleted (or every copy
 * removed, then the chain, when no pool wants NAT; -D bounded per pass). Runs in the current network namespace, or in a named one through
 * `ip netns exec`, through policy/apply/exec.ts's hostExec (tools by absolute path,
 * PATH searched once per tool; timeout; errors); execIn turns its outcome into exit
 * codes: a missing tool answers exit 127 with ToolMissing's text.
 */
import { ExecFailure, hostExec } from '../../policy/apply/exec.js';
import { ToolMissing } from '../../policy/apply/tool-path.js';
import { jumpRule, NAT_OUTGOING_CHAIN, type NatRules, renderNatRestore } from './plan/nat-plan.js';

export type Exec = (argv: string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;

/** policy/apply/exec.ts's hostExec (tool lookup, timeout, errors) as exit codes: failure → its code (1 without one), missing tool → 127. */
export const execIn = (netns?: string): Exec => {
  const host = hostExec({ ...(netns !== undefined ? { netns } : {}), timeoutMs: 30_000 });
  return async (argv, input) => {
    try {
      return { code: 0, ...(await host.run(argv, input)) };
    } catch (err) {
      if (err instanceof ExecFailure) return { code: err.code ?? 1, stdout: '', stderr: err.stderr };
      return { code: err instanceof ToolMissing ? 127 : 1, stdout: '', stderr: err instanceof Error ? err.message : String(err) };
    }
  };
};

const tool = (family: 4 | 6, base: 'iptables' | 'iptables-restore'): string => (family === 6 ? base.replace('iptables', 'ip6tables') : base);

/** At most this many copies of the POSTROUTING jump are deleted in one pass (a -D that never takes is an error, not a spin). */
const MAX_JUMP_DELETES = 16;

export async function applyNatOutgoing(exec: Exec, nat: NatRules): Promise<{ changed: boolean }> {
  const ipt = tool(nat.family, 'iptables');
  const jump = (verb: string): string[] => [ipt, '-w', '-t', 'nat', verb, 'POSTROUTING', ...jumpRule()];
  const hasJump = (await exec(jump('-C'))).code === 0;
  if (nat.rules.length === 0) {
    // every copy (-D removes one), then the chain: -X refuses a chain still jumped to
    if (hasJump) await deleteJumps(exec, jump, Infinity);
    const hasChain = (await exec([ipt, '-w', '-t', 'nat', '-S', NAT_OUTGOING_CHAIN])).code === 0;
    if (hasChain) {
      await must(exec, [ipt, '-w', '-t', 'nat', '-F', NAT_OUTGOING_CHAIN]);
      await must(exec, [ipt, '-w', '-t', 'nat', '-X', NAT_OUTGOING_CHAIN]);
    }
    return { changed: hasJump || hasChain };
  }
  const current = await exec([ipt, '-w', '-t', 'nat', '-S', NAT_OUTGOING_CHAIN]);
  const wanted = [`-N ${NAT_OUTGOING_CHAIN}`, ...nat.rules.map((r) => `-A ${NAT_OUTGOING_CHAIN} ${r.join(' ')}`)];
  const same = current.code === 0 && normalise(current.stdout) === wanted.join('\n');
  if (!same) await must(exec, [tool(nat.family, 'iptables-restore'), '-w', '--noflush'], renderNatRestore(nat));
  if (!hasJump) await must(exec, jump('-A'));
  // exactly one jump: a second copy (an old run's, a hand-made one) masquerades nothing new but
  // would outlive NAT off by one pass per copy; counted from -S, the last copy kept in place
  const extra = hasJump ? (await jumpCopies(exec, ipt)) - 1 : 0;
  if (extra > 0) await deleteJumps(exec, jump, extra);
  return { changed: !same || !hasJump || extra > 0 };
}

/** Copies of the jump in POSTROUTING (`-S` prints the comment quoted); at least 1 (the caller's -C matched). */
async function jumpCopies(exec: Exec, ipt: string): Promise<number> {
  const r = await exec([ipt, '-w', '-t', 'nat', '-S', 'POSTROUTING']);
  const line = `-A POSTROUTING ${jumpRule().join(' ')}`;
  const n = r.code === 0 ? r.stdout.split('\n').filter((l) => l.trim().replaceAll('"', '') === line).length : 0;
  return Math.max(1, n);
}

/** `-D` up to `count` copies (all while -C matches when Infinity), MAX_JUMP_DELETES at most; still there after that: an error. */
async function deleteJumps(exec: Exec, jump: (verb: string) => string[], count: number): Promise<void> {
  const n = Math.min(count, MAX_JUMP_DELETES);
  for (let i = 0; i < n; i++) {
    await must(exec, jump('-D'));
    if (count === Infinity && (await exec(jump('-C'))).code !== 0) return;
  }
  if (count === Infinity) throw new Error(`${jump('-D').join(' ')}: the jump is still there after ${MAX_JUMP_DELETES} deletions`);
}

/** `iptables -S` prints "-s 10.0.0.0/16" for what was written as such; trim and drop blank lines. */
const normalise = (s: string): string => s.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('\n');

async function must(exec: Exec, argv: string[], input?: string): Promise<void> {
  const r = await exec(argv, input);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

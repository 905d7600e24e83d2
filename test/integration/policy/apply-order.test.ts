import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, newRunPrefix } from '../../../agent/lab/netns.js';
import { requirements } from '../../support/root.js';
import { PolicyApplier } from '../../../policy/apply/applier.js';
import { hostExec } from '../../../policy/apply/exec.js';
import { resolveNode } from '../../../policy/resolve/resolve.js';
import { renderNode } from '../../../policy/render/chains.js';
import { policyChainName, workloadChainName } from '../../../policy/render/names.js';
import type { Policy } from '../../../policy/model/types.js';
import type { Snapshot } from '../../../policy/model/snapshot.js';
import { cluster, policy } from '../../unit/policy/helpers.js';

// Ordering inside the apply transaction, against the real kernel in a throwaway
// namespace: stale chains that jump to each other, and margay's hook pushed down
// by another product's rule inserted at position 1.
const ns = `${newRunPrefix()}pord`;
const exec = hostExec({ netns: ns });
const render = (s: Snapshot, p: Policy[]) => renderNode(resolveNode(s, p, 'n1'));
const save = async (): Promise<string> => (await exec.run(['iptables-save', '-t', 'filter'])).stdout;
const forwardRules = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('-A FORWARD '));

const needs = requirements({ root: true, file: import.meta.url });

describe.skipIf(needs.skip)(`policy apply ordering against the kernel (network namespaces, iptables; ${needs.why})`, () => {
  beforeAll(async () => {
    await addNetns(ns);
  });
  afterAll(async () => {
    await deleteNetns(ns);
  });

  it('a pod and its ingress policy removed in one pass: the apply succeeds, and so does a later one', async () => {
    const snap = cluster();
    const onlyA = [policy('x', 'only-a', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: {} }] }] })];
    const applier = new PolicyApplier(exec);
    const first = await applier.apply(render(snap, onlyA));
    expect(first.ok, first.error).toBe(true);
    const chain = policyChainName('x/only-a', 'ingress');
    expect(await save()).toContain(`:${chain}`);
    const without = { ...snap, pods: snap.pods.filter((p) => !(p.namespace === 'x' && p.name === 'a')) };
    const removed = await applier.apply(render(without, []));
    expect(removed.ok, removed.error).toBe(true);
    const text = await save();
    expect(text).not.toContain(chain);
    expect(text).not.toContain(workloadChainName('x/a', 'ingress'));
    // a fresh applier (restart) reads the kernel and finds nothing to do; a new policy applies
    const again = await new PolicyApplier(exec).reconcile(render(without, []));
    expect(again.ok, again.error).toBe(true);
    expect(again.kernelWrites).toBe(0);
    const later = await applier.apply(render(without, [policy('y', 'deny', { podSelector: {} })]));
    expect(later.ok, later.error).toBe(true);
  });

  it('a foreign ACCEPT inserted at FORWARD 1 above margay\'s hook: reconcile moves the hook back to the top', async () => {
    const applier = new PolicyApplier(exec);
    const desired = render(cluster(), [policy('x', 'deny', { podSelector: {} })]);
    expect((await applier.reconcile(desired)).ok).toBe(true);
    // what kube-proxy does: KUBE-FORWARD's marked-packet ACCEPT, inserted at 1
    await exec.run(['iptables', '-I', 'FORWARD', '1', '-m', 'mark', '--mark', '0x4000/0x4000', '-j', 'ACCEPT']);
    expect(forwardRules(await save())[0]).toContain('-j ACCEPT');
    const r = await applier.reconcile(desired);
    expect(r.ok, r.error).toBe(true);
    const rules = forwardRules(await save());
    expect(rules[0]).toBe('-A FORWARD -m comment --comment "margay:hook" -j MARGAY-FORWARD');
    expect(rules.filter((l) => l.includes('margay:hook'))).toHaveLength(1);
    expect(rules.some((l) => l.includes('0x4000/0x4000') && l.endsWith('-j ACCEPT'))).toBe(true);
    const again = await applier.reconcile(desired);
    expect(again.kernelWrites).toBe(0);
  });
  it('a leftover margay hook aimed at a chain margay no longer wants: reconcile deletes it, then the chain', async () => {
    await exec.run(['iptables', '-N', 'MARGAY-OLD']);
    await exec.run(['iptables', '-I', 'FORWARD', '1', '-m', 'comment', '--comment', 'margay:hook', '-j', 'MARGAY-OLD']);
    const r = await new PolicyApplier(exec).reconcile(render(cluster(), [policy('x', 'deny', { podSelector: {} })]));
    expect(r.ok, r.error).toBe(true);
    const text = await save();
    expect(text).not.toContain('MARGAY-OLD');
    expect(forwardRules(text).filter((l) => l.includes('margay:hook'))).toEqual(['-A FORWARD -m comment --comment "margay:hook" -j MARGAY-FORWARD']);
  });

  it('a stale set the kernel will not destroy (a rule still uses it): the rest goes, the apply is ok, a later apply destroys it', async () => {
    const snap = cluster();
    const pols = [
      policy('x', 'from-y', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] }),
      policy('x', 'from-z', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'z' } } }] }] }),
    ];
    const applier = new PolicyApplier(exec);
    const first = await applier.apply(render(snap, pols));
    expect(first.ok, first.error).toBe(true);
    const sets = async (): Promise<string[]> => (await exec.run(['ipset', 'list', '-n'])).stdout.split('\n').filter((n) => n.startsWith('margay')).sort();
    const before = await sets();
    expect(before.length).toBeGreaterThanOrEqual(4);
    // someone else's rule references the first stale set, as iptables-nft does for a while after the chain went
    const busy = before[0] as string;
    const foreign = ['FORWARD', '-m', 'set', '--match-set', busy, 'src', '-j', 'ACCEPT'];
    await exec.run(['iptables', '-A', ...foreign]);
    try {
      const r = await applier.apply(render(snap, []));
      expect(r.ok, r.error).toBe(true);
      expect(await sets()).toEqual([busy]);
      expect(r.problems.join('\n')).toContain(busy);
    } finally {
      await exec.run(['iptables', '-D', ...foreign]);
    }
    const later = await applier.apply(render(snap, []));
    expect(later.ok, later.error).toBe(true);
    expect(await sets()).toEqual([]);
  });

  it('a pod with two IPv4 addresses: its source chain goes in with the pod in one transaction, and out again', async () => {
    const snap = cluster();
    const a = snap.pods.find((p) => p.namespace === 'x' && p.name === 'a');
    if (a) a.ips = ['10.0.0.1', '10.0.0.77'];
    const applier = new PolicyApplier(exec);
    const r = await applier.reconcile(render(snap, []));
    expect(r.ok, r.error).toBe(true);
    const text = await save();
    expect(text.split('\n').filter((l) => l.startsWith('-A MARGAY-FS-')).map((l) => l.replace(/ -m comment --comment "[^"]*"/, '').replace(/^-A \S+ /, ''))).toEqual(['-s 10.0.0.1/32 -j RETURN', '-s 10.0.0.77/32 -j RETURN', '-j DROP']);
    expect(text).toMatch(/-A MARGAY-FW-\S+ .* -j MARGAY-FS-/);
    const single = await applier.apply(render(cluster(), []));
    expect(single.ok, single.error).toBe(true);
    expect(await save()).not.toContain('MARGAY-FS-');
  });
});

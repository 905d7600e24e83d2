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
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, newRunPrefix } from '../../../agent/lab/netns.js';
import { needsRoot } from '../../support/root.js';
import { PolicyApplier } from '../../../policy/apply/applier.js';
import { hostExec } from '../../../policy/apply/exec.js';
import { resolveNode } from '../../../policy/resolve/resolve.js';
import { renderNode } from '../../../policy/render/chains.js';
import { policyChainName, workloadChainName } from '../../../policy/render/names.js';
import type { Policy } from '../../../policy/model/types.js';
import type { Snapshot } from '../../../policy/model/snapshot.js';
import { cluster, policy } from '../../unit/policy/helpers.js';

// Ordering inside the apply transaction, against the real kernel in a throwaway
// namespace: stale chains that jump to each other.
const ns = `${newRunPrefix()}pord`;
const exec = hostExec({ netns: ns });
const render = (s: Snapshot, p: Policy[]) => renderNode(resolveNode(s, p, 'n1'));
const save = async (): Promise<string> => (await exec.run(['iptables-save', '-t', 'filter'])).stdout;

describe.skipIf(needsRoot)('policy apply ordering against the kernel (needs root: network namespaces, iptables)', () => {
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
});

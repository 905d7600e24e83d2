import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, newRunPrefix } from '../../../agent/lab/netns.js';
import { needsRoot } from '../../support/root.js';
import { PolicyApplier } from '../../../policy/apply/applier.js';
import { hostExec } from '../../../policy/apply/exec.js';
import { resolveNode } from '../../../policy/resolve/resolve.js';
import { renderNode } from '../../../policy/render/chains.js';
import { policyChainName } from '../../../policy/render/names.js';
import type { Policy } from '../../../policy/model/types.js';
import type { Snapshot } from '../../../policy/model/snapshot.js';
import { cluster, pod, policy } from '../../unit/policy/helpers.js';

// The apply layer against the real kernel (nf_tables iptables, ipset) inside a
// throwaway network namespace: incremental writes, drift repair, foreign rules left
// alone, atomic failure keeping the old rules, restart convergence.
const ns = `${newRunPrefix()}pol`;
const exec = hostExec({ netns: ns });
const render = (s: Snapshot, p: Policy[]) => renderNode(resolveNode(s, p, 'n1'));
const save = async (): Promise<string> => (await exec.run(['iptables-save', '-t', 'filter'])).stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n');
const sets = async (): Promise<string> => (await exec.run(['ipset', 'save'])).stdout;

const basePolicies = (): Policy[] => [
  policy('x', 'deny', { podSelector: {} }),
  policy('x', 'from-db', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'db' } } }], ports: [{ port: 'serve-80-tcp' }] }] }),
  policy('y', 'egress', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/30'] } }] }] }),
];

describe.skipIf(needsRoot)('policy apply against the kernel (needs root: network namespaces, iptables)', () => {
  beforeAll(async () => {
    await addNetns(ns);
    // Somebody else's chain, rule and set, which margay must never touch.
    await exec.run(['iptables-restore', '--noflush'], '*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -s 1.2.3.4/32 -j DROP\n-A FORWARD -j DOCKER-USER\nCOMMIT\n');
    await exec.run(['ipset', 'create', 'foreign', 'hash:ip']);
  });
  afterAll(async () => {
    await deleteNetns(ns);
  });

  const snap = cluster();
  let applier: PolicyApplier;

  it('first apply creates chains, hooks and sets; a repeat writes nothing', async () => {
    applier = new PolicyApplier(exec);
    const r = await applier.apply(render(snap, basePolicies()));
    expect(r.ok, r.error).toBe(true);
    const text = await save();
    expect(text).toContain('-A FORWARD -m comment --comment "margay:hook" -j MARGAY-FORWARD');
    expect(text).toContain(`:${policyChainName('x/from-db', 'ingress')}`);
    expect(await sets()).toMatch(/add margay4-n-\S+ 10\.0\.0\.0\/30 nomatch/);
    const again = await applier.apply(render(snap, basePolicies()));
    expect(again.kernelWrites).toBe(0);
  });

  it('a pod joining a selector is one ipset write, no rule change', async () => {
    const before = await save();
    snap.pods.push(pod('z', 'db', '10.0.0.40', { node: 'n2', labels: { role: 'db' } }));
    const r = await applier.apply(render(snap, basePolicies()));
    expect(r.ok).toBe(true);
    expect(r.kernelWrites).toBe(1);
    expect(r.plan.stats.membersAdded).toBe(2); // the pod set and the named-port set
    expect(r.plan.stats.chainsWritten).toBe(0);
    expect(await save()).toBe(before);
    expect(await sets()).toMatch(/add margay4-p-\S+ 10\.0\.0\.40/);
  });

  it('a policy change rewrites only that policy chain', async () => {
    const pols = basePolicies();
    pols[1] = policy('x', 'from-db', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'db' } } }], ports: [{ port: 81 }] }] });
    const r = await applier.apply(render(snap, pols));
    expect(r.ok).toBe(true);
    expect(r.plan.stats.chainsWritten).toBe(2); // the policy's chain, in v4 and v6
    expect(r.plan.iptables.v4).toContain(`:${policyChainName('x/from-db', 'ingress')} - [0:0]`);
    expect(r.plan.iptables.v4.match(/^:/gm)).toHaveLength(1);
    expect(r.plan.stats.setsDestroyed).toBe(2); // the named-port sets are no longer used
  });

  it('reconcile after a restart repairs drift and removes stale objects, leaving foreign ones alone', async () => {
    const desired = render(snap, basePolicies());
    await applier.apply(desired);
    const good = await save();
    const chain = policyChainName('x/from-db', 'ingress');
    await exec.run(['iptables', '-D', chain, '1']);
    await exec.run(['iptables', '-N', 'MARGAY-STALE']);
    await exec.run(['ipset', 'create', 'margay4-p-stale', 'hash:ip']);
    const pset = /--match-set (margay4-p-\S+) src/.exec(good)?.[1] as string;
    await exec.run(['ipset', 'add', pset, '10.9.9.9']);
    const fresh = new PolicyApplier(exec);
    const r = await fresh.reconcile(desired);
    expect(r.ok, r.error).toBe(true);
    expect(r.plan.stats.chainsWritten).toBe(1);
    expect(r.plan.stats.chainsDeleted).toBe(1);
    expect(r.plan.stats.membersDeleted).toBe(1);
    expect(r.plan.stats.setsDestroyed).toBe(1);
    expect(await save()).toBe(good);
    const s = await sets();
    expect(s).not.toContain('margay4-p-stale');
    expect(s).not.toContain('10.9.9.9');
    expect(s).toContain('create foreign hash:ip');
    expect(good).toContain('-A DOCKER-USER -s 1.2.3.4/32 -j DROP');
    const again = await new PolicyApplier(exec).reconcile(desired);
    expect(again.kernelWrites).toBe(0);
  });

  it('a restore failing midway leaves the previous rules in force, is counted, and a retry converges', async () => {
    const good = await save();
    const goodSets = await sets();
    // A rule the kernel rejects (its set does not exist), in the middle of a
    // transaction that also creates chains and adds a policy: all must be rejected.
    const pols = [...basePolicies(), policy('x', 'new', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })];
    let fail = true;
    const desired = () => {
      const r = render(snap, pols);
      if (fail) {
        const mid = r.v4.chains[Math.floor(r.v4.chains.length / 2)];
        mid?.rules.splice(0, 0, { args: ['-m', 'set', '--match-set', 'no-such-set', 'src', '-j', 'ACCEPT'], comment: 'bad' });
      }
      return r;
    };
    const a = new PolicyApplier(exec);
    const bad = await a.apply(desired());
    expect(bad.ok).toBe(false);
    expect(a.metrics.failures).toBe(1);
    expect(a.metrics.lastError).toMatch(/iptables-restore failed at: -A MARGAY-\S+ -m comment --comment "margay:\w+ bad" -m set --match-set no-such-set/);
    expect(await save()).toBe(good);
    expect(goodSets).toBeTruthy();
    const sleeps: number[] = [];
    const r = await a.applyWithRetry(desired, { sleep: async (ms) => { sleeps.push(ms); fail = sleeps.length < 2; } }, { maxAttempts: 5 });
    expect(a.metrics.failures).toBe(3); // the first apply and two retries
    expect(sleeps).toEqual([100, 200]);
    expect(r.ok, r.error).toBe(true);
    expect(await save()).toContain(`:${policyChainName('x/new', 'ingress')}`);
  });

  it('ipBlock /0 except a /1 half: the excluded half stays out of the set across a restart reconcile', async () => {
    const pols = [...basePolicies(), policy('z', 'half', {
      podSelector: {}, policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['0.0.0.0/1'] } }, { ipBlock: { cidr: '::/0', except: ['::/1'] } }] }],
    })];
    const first = await new PolicyApplier(exec).apply(render(snap, pols));
    expect(first.ok, first.error).toBe(true);
    const restart = await new PolicyApplier(exec).reconcile(render(snap, pols));
    expect(restart.ok, restart.error).toBe(true);
    const desired = render(snap, pols);
    const setOf = (sets: { name: string; comment: string }[], id: string): string => sets.find((x) => x.comment === `ipBlock ${id}`)?.name as string;
    const inSet = (name: string, ip: string): Promise<boolean> => exec.run(['ipset', 'test', name, ip]).then(() => true, () => false);
    const v4 = setOf(desired.v4.sets, '0.0.0.0/0 except 0.0.0.0/1');
    const v6 = setOf(desired.v6.sets, '::/0 except ::/1');
    expect([await inSet(v4, '10.0.0.1'), await inSet(v4, '200.1.1.1'), await inSet(v6, '::1'), await inSet(v6, 'fd00::1')]).toEqual([false, true, false, true]);
    expect(restart.kernelWrites).toBe(0);
  });

  it('removeAll removes only margay objects', async () => {
    await new PolicyApplier(exec).removeAll();
    const text = await save();
    expect(text).not.toContain('MARGAY');
    expect(text).toContain('-A FORWARD -j DOCKER-USER');
    const s = await sets();
    expect(s).not.toContain('margay');
    expect(s).toContain('foreign');
  });
});

import { describe, expect, it } from 'vitest';
import { parseIpsetSave, parseSave } from '../../../../policy/apply/actual.js';
import { actualOf, planApply } from '../../../../policy/apply/plan.js';
import { renderNode } from '../../../../policy/render/chains.js';
import { resolveNode } from '../../../../policy/resolve/resolve.js';
import { iptablesRestoreText } from '../../../../policy/render/restore-text.js';
import { policyChainName } from '../../../../policy/render/names.js';
import { cluster, pod, policy } from '../helpers.js';

const pols = () => [
  policy('x', 'deny', { podSelector: {} }),
  policy('x', 'from-y', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] }),
];

describe('parseSave: only margay objects are read', () => {
  it('keeps MARGAY chains with their rule hashes and the hooks, skips everything else', () => {
    const text = [
      '*nat', ':MARGAY-NAT - [0:0]', '-A MARGAY-NAT -m comment --comment "margay:aaaa x" -j RETURN', 'COMMIT',
      '*filter', ':INPUT ACCEPT [0:0]', ':DOCKER - [0:0]', ':MARGAY-A - [0:0]', ':MARGAY-B - [0:0]',
      '-A FORWARD -m comment --comment "margay:hook" -j MARGAY-FORWARD',
      '-A FORWARD -j DOCKER',
      '-A FORWARD -m comment --comment "margay:hook" -j MARGAY-FORWARD',
      '-A INPUT -j ACCEPT', '-A INPUT -m comment --comment "margay:hook" -j MARGAY-INPUT', '-A DOCKER -m comment --comment "margay:zzzz fake" -j DROP',
      '-A MARGAY-A -i mgw+ -m comment --comment "margay:h1 first" -j RETURN',
      '-A MARGAY-A -j DROP', 'COMMIT',
    ].join('\n');
    const a = parseSave(text);
    expect([...a.chains.entries()]).toEqual([['MARGAY-A', ['h1', '?']], ['MARGAY-B', []]]);
    // each hook's position (1-based) among the rules of its built-in chain
    expect([...a.hooks.entries()]).toEqual([['FORWARD MARGAY-FORWARD', [1, 3]], ['INPUT MARGAY-INPUT', [2]]]);
  });
  it('parseIpsetSave keeps margay sets and normalises hash:net single addresses', () => {
    const s = parseIpsetSave([
      'create foreign hash:ip family inet', 'add foreign 1.2.3.4',
      'create margay4-n-x hash:net family inet hashsize 1024', 'add margay4-n-x 10.0.0.1', 'add margay4-n-x 10.0.0.0/8', 'add margay4-n-x 10.1.0.0/16 nomatch',
      'create margay6-p-y hash:ip family inet6', 'add margay6-p-y fd00::1',
    ].join('\n'));
    expect([...s.keys()]).toEqual(['margay4-n-x', 'margay6-p-y']);
    expect([...(s.get('margay4-n-x')?.members ?? [])]).toEqual(['10.0.0.1/32', '10.0.0.0/8', '10.1.0.0/16 nomatch']);
    expect(s.get('margay6-p-y')?.family).toBe(6);
  });
  it('round trip: the text margay writes parses back to the state it describes', () => {
    const r = renderNode(resolveNode(cluster(), pols(), 'n1'));
    const text = iptablesRestoreText(r.v4).replace(/^-I (\S+) 1 /gm, '-A $1 ');
    const parsed = parseSave(text);
    expect(parsed).toEqual(actualOf(r).v4);
  });
});

describe('planApply', () => {
  const empty = { v4: { chains: new Map(), hooks: new Map() }, v6: { chains: new Map(), hooks: new Map() }, sets: new Map() };

  it('from nothing: sets first, then every chain and the hooks', () => {
    const r = renderNode(resolveNode(cluster(), pols(), 'n1'));
    const p = planApply(r, empty);
    expect(p.ipsetBefore).toMatch(/^create margay4-p-/);
    expect(p.iptables.v4.split('\n')[0]).toBe('*filter');
    expect(p.iptables.v4).toContain('-I FORWARD 1 -m comment --comment "margay:hook" -j MARGAY-FORWARD');
    const firstHook = p.iptables.v4.indexOf('-I FORWARD');
    expect(p.iptables.v4.lastIndexOf(':MARGAY-')).toBeLessThan(firstHook);
    expect(p.staleSets).toEqual({ v4: [], v6: [] });
    expect(p.stats.chainsWritten).toBe(r.v4.chains.length + r.v6.chains.length);
  });

  it('no change: nothing to write', () => {
    const r = renderNode(resolveNode(cluster(), pols(), 'n1'));
    const p = planApply(r, actualOf(r));
    expect([p.ipsetBefore, p.iptables.v4, p.iptables.v6, ...p.staleSets.v4, ...p.staleSets.v6]).toEqual(['', '', '']);
  });

  it('a remote pod joining a selector: one member add, no chain', () => {
    const snap = cluster();
    const before = renderNode(resolveNode(snap, pols(), 'n1'));
    snap.pods.push(pod('y', 'new', '10.0.0.77', { node: 'n2' }));
    const p = planApply(renderNode(resolveNode(snap, pols(), 'n1')), actualOf(before));
    expect(p.ipsetBefore).toMatch(/^add margay4-p-\S+ 10\.0\.0\.77 -exist\n$/);
    expect(p.iptables).toEqual({ v4: '', v6: '' });
  });

  it('a removed policy: its chains deleted after the workload chains stop jumping there, then its sets destroyed', () => {
    const snap = cluster();
    const before = renderNode(resolveNode(snap, pols(), 'n1'));
    const p = planApply(renderNode(resolveNode(snap, [pols()[0]!], 'n1')), actualOf(before));
    const chain = policyChainName('x/from-y', 'ingress');
    const lines = p.iptables.v4.split('\n');
    expect(lines.indexOf(`-X ${chain}`)).toBeGreaterThan(lines.findIndex((l) => l.startsWith(':MARGAY-TW-')));
    expect(p.staleSets.v4).toEqual([expect.stringMatching(/^margay4-p-/)]);
    expect(p.staleSets.v6).toEqual([expect.stringMatching(/^margay6-p-/)]);
    expect(p.stats.chainsDeleted).toBe(2);
  });

  it('a hook preceded by a foreign rule is re-inserted at 1', () => {
    const r = renderNode(resolveNode(cluster(), pols(), 'n1'));
    const a = actualOf(r);
    a.v4.hooks.set('FORWARD MARGAY-FORWARD', [2]); // kube-proxy's ACCEPT inserted at 1 above it
    const p = planApply(r, a);
    const lines = p.iptables.v4.split('\n').filter((l) => l.includes('margay:hook'));
    expect(lines).toEqual([
      '-D FORWARD -m comment --comment "margay:hook" -j MARGAY-FORWARD',
      '-I FORWARD 1 -m comment --comment "margay:hook" -j MARGAY-FORWARD',
    ]);
    expect(p.iptables.v6).toBe('');
    // a hook already first is left alone
    expect(planApply(r, actualOf(r)).iptables.v4).toBe('');
  });

  it('pod and its policy removed together: all -F precede all -X', () => {
    // MARGAY-PI-<p> sorts before MARGAY-TW-<pod>: deleting it while the pod's stale
    // chain still jumps to it aborts the whole transaction (and every retry)
    const snap = cluster();
    const pols1 = [policy('x', 'only-a', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: {} }] }] })];
    const before = renderNode(resolveNode(snap, pols1, 'n1'));
    const after = renderNode(resolveNode({ ...snap, pods: snap.pods.filter((p) => !(p.namespace === 'x' && p.name === 'a')) }, [], 'n1'));
    const p = planApply(after, actualOf(before));
    const lines = p.iptables.v4.split('\n');
    const flushes = lines.map((l, i) => (l.startsWith('-F ') ? i : -1)).filter((i) => i >= 0);
    const deletes = lines.map((l, i) => (l.startsWith('-X ') ? i : -1)).filter((i) => i >= 0);
    expect(lines).toContain(`-X ${policyChainName('x/only-a', 'ingress')}`);
    expect(lines.some((l) => l.startsWith('-X MARGAY-TW-'))).toBe(true);
    expect(flushes).toHaveLength(deletes.length);
    expect(Math.max(...flushes)).toBeLessThan(Math.min(...deletes));
  });

  it('duplicate hooks are removed, a member flag change is a delete then an add', () => {
    const r = renderNode(resolveNode(cluster(), [policy('x', 'b', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }] })], 'n1'));
    const a = actualOf(r);
    a.v4.hooks.set('FORWARD MARGAY-FORWARD', [1, 2, 5]);
    const set = r.v4.sets[0]!;
    a.sets.set(set.name, { type: 'hash:net', family: 4, members: new Set(['10.0.0.0/8', '10.1.0.0/16']) });
    const p = planApply(r, a);
    // all copies deleted (-D deletes the first match), one inserted at the top
    expect(p.iptables.v4.match(/^-D FORWARD -m comment --comment "margay:hook" -j MARGAY-FORWARD$/gm)).toHaveLength(3);
    expect(p.iptables.v4.match(/^-I FORWARD 1 -m comment --comment "margay:hook" -j MARGAY-FORWARD$/gm)).toHaveLength(1);
    expect(p.ipsetBefore).toBe(`del ${set.name} 10.1.0.0/16 -exist\nadd ${set.name} 10.1.0.0/16 nomatch -exist\n`);
  });
  it('a margay hook aimed at a chain no longer wanted is deleted before that chain is (else -X aborts every transaction)', () => {
    const r = renderNode(resolveNode(cluster(), [], 'n1'));
    const a = actualOf(r);
    const old = parseSave(['*filter', ':MARGAY-OLD - [0:0]', '-A FORWARD -m comment --comment margay:hook -j MARGAY-OLD', '-A INPUT -m comment --comment "margay:hook" -j MARGAY-OLD', 'COMMIT'].join('\n'));
    a.v4.chains.set('MARGAY-OLD', []);
    for (const [k, v] of old.hooks) a.v4.hooks.set(k, v);
    const lines = planApply(r, a).iptables.v4.split('\n');
    const del = lines.indexOf('-D FORWARD -m comment --comment "margay:hook" -j MARGAY-OLD');
    const delInput = lines.indexOf('-D INPUT -m comment --comment "margay:hook" -j MARGAY-OLD');
    expect(del).toBeGreaterThan(0);
    expect(delInput).toBeGreaterThan(0);
    expect(del).toBeLessThan(lines.indexOf('-X MARGAY-OLD'));
    expect(delInput).toBeLessThan(lines.indexOf('-F MARGAY-OLD'));
    // the wanted hooks are left alone
    expect(lines.filter((l) => l.includes('MARGAY-FORWARD'))).toEqual([]);
  });
});

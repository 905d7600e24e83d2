import { describe, expect, it } from 'vitest';
import { resolveNode } from '../../../../policy/resolve/resolve.js';
import { renderNode } from '../../../../policy/render/chains.js';
import { ruleLine } from '../../../../policy/render/restore-text.js';
import { policyChainName, setName, workloadChainName } from '../../../../policy/render/names.js';
import type { FamilyRender } from '../../../../policy/render/model.js';
import { cluster, pod, policy } from '../helpers.js';

const chain = (f: FamilyRender, name: string) => f.chains.find((c) => c.name === name);

describe('render', () => {
  it('names are short, deterministic and distinct', () => {
    const names = [policyChainName('some-namespace-with-a-long-name/and-a-long-policy-name', 'ingress'), workloadChainName('ns/pod', 'egress')];
    for (const n of names) expect(n.length).toBeLessThanOrEqual(28);
    expect(setName('pods', 'x', 6).length).toBeLessThanOrEqual(31);
    expect(policyChainName('x/p', 'ingress')).toBe(policyChainName('x/p', 'ingress'));
    expect(policyChainName('x/p', 'ingress')).not.toBe(policyChainName('x/p', 'egress'));
    expect(policyChainName('x/p', 'ingress')).not.toBe(policyChainName('x/q', 'ingress'));
  });

  it('ipBlock 0.0.0.0/0 except → hash:net with two /1s and a nomatch entry', () => {
    const ir = resolveNode(cluster(), [policy('x', 'b', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/24'] } }] }] })], 'n1');
    const sets = renderNode(ir).v4.sets;
    expect(sets).toHaveLength(1);
    expect(sets[0]?.type).toBe('hash:net');
    expect(sets[0]?.members).toEqual(['0.0.0.0/1', '10.0.0.0/24 nomatch', '128.0.0.0/1']);
  });

  it('a rule whose only peers are of the other family renders nothing in this family (never allow-all)', () => {
    const ir = resolveNode(cluster(), [policy('x', 'v6only', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/64' } }] }] })], 'n1');
    const r = renderNode(ir);
    expect(chain(r.v4, policyChainName('x/v6only', 'ingress'))?.rules).toEqual([]);
    expect(chain(r.v6, policyChainName('x/v6only', 'ingress'))?.rules.map((x) => x.args.slice(0, 2))).toEqual([['-s', 'fd00::/64']]);
  });

  it('every rule carries a comment; policy rules name their policy and rule index', () => {
    const ir = resolveNode(cluster(), [policy('x', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { protocol: 'SCTP', port: 80 }] }] })], 'n1');
    const r = renderNode(ir);
    for (const c of r.v4.chains) for (const rule of c.rules) expect(ruleLine(c.name, rule)).toMatch(/--comment "margay:[0-9A-Za-z]{12} \S/);
    const pc = chain(r.v4, policyChainName('x/p', 'ingress'));
    expect(pc?.rules.map((x) => x.comment)).toEqual(['x/p ingress[0]', 'x/p ingress[0]']);
    expect(pc?.rules[1]?.args).toEqual(['-p', 'sctp', '-m', 'sctp', '--dport', '80', '-j', 'MARK', '--set-xmark', '0x40000/0x40000']);
  });

  it('MARGAY-INPUT drops INVALID from workloads right after the established accept, like MARGAY-FORWARD', () => {
    const r = renderNode(resolveNode(cluster(), [], 'n1'));
    for (const f of [r.v4, r.v6]) {
      const rules = chain(f, 'MARGAY-INPUT')?.rules.map((x) => x.args.join(' ')) ?? [];
      expect(rules[0]).toBe('-i mgw+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
      expect(rules[1]).toBe('-i mgw+ -m conntrack --ctstate INVALID -j DROP');
      expect(rules.filter((x) => x.includes('INVALID'))).toHaveLength(1);
    }
  });

  it('two pods with one interface name: neither gets a path through either chain (drop in every dispatch)', () => {
    const snap = cluster();
    const open = policy('x', 'open', { podSelector: {}, ingress: [{}] }); // x/a allows everything
    for (const p of snap.pods) if (p.name === 'a' && (p.namespace === 'x' || p.namespace === 'z')) p.interface = 'mgw0000000000a';
    const many = { ...snap, pods: [...snap.pods, ...Array.from({ length: 20 }, (_, i) => pod('w', `p${i}`, `10.1.0.${i + 1}`))] };
    for (const s of [snap, many]) {
      const r = renderNode(resolveNode(s, [open], 'n1'));
      for (const f of [r.v4, r.v6]) {
        const entries = f.chains.filter((c) => /^MARGAY-(TO|FROM|HOST)-WL/.test(c.name)).flatMap((c) => c.rules).filter((x) => x.args.includes('mgw0000000000a'));
        expect(entries.length).toBeGreaterThanOrEqual(3);
        for (const e of entries) expect(e.args.slice(-2)).toEqual(['-j', 'DROP']);
      }
    }
  });

  it('dispatch: one entry per local pod, then drop unknown workload interfaces', () => {
    const r = renderNode(resolveNode(cluster(), [], 'n1'));
    const to = chain(r.v4, 'MARGAY-TO-WL');
    expect(to?.rules).toHaveLength(6);
    expect(to?.rules.at(-1)?.args).toEqual(['-o', 'mgw+', '-j', 'DROP']);
    expect(chain(r.v4, 'MARGAY-FROM-WL')?.rules.at(-1)?.args).toEqual(['-i', 'mgw+', '-j', 'DROP']);
  });

  it('isolated workload chain: clear mark, each policy then a return-if-marked, then DROP', () => {
    const ir = resolveNode(cluster(), [policy('x', 'p1', { podSelector: {} }), policy('x', 'p2', { podSelector: {}, ingress: [{}] })], 'n1');
    const c = chain(renderNode(ir).v4, workloadChainName('x/a', 'ingress'));
    expect(c?.rules.map((x) => x.args.join(' '))).toEqual([
      '-j MARK --set-xmark 0x0/0x40000',
      `-j ${policyChainName('x/p1', 'ingress')}`,
      '-m mark --mark 0x40000/0x40000 -j RETURN',
      `-j ${policyChainName('x/p2', 'ingress')}`,
      '-m mark --mark 0x40000/0x40000 -j RETURN',
      '-j DROP',
    ]);
  });

  it('a pod joining a selector changes set members only, never a chain', () => {
    const pols = [policy('x', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'db' } } }] }] })];
    const snap = cluster();
    const before = renderNode(resolveNode(snap, pols, 'n1'));
    snap.pods.push(pod('y', 'new', '10.0.0.50', { node: 'n2', labels: { role: 'db' } }));
    const after = renderNode(resolveNode(snap, pols, 'n1'));
    expect(after.v4.chains).toEqual(before.v4.chains);
    expect(before.v4.sets[0]?.members).toEqual([]);
    expect(after.v4.sets[0]?.members).toEqual(['10.0.0.50']);
  });
});

describe('render: two-level dispatch', () => {
  it('above the threshold, buckets by the interface digit; every pod reachable exactly once; every chain ends in the drop', () => {
    const snap = cluster();
    for (let i = 0; i < 30; i++) snap.pods.push(pod('x', `p${i}`, `10.1.0.${i}`, { node: 'n1' }));
    const r = renderNode(resolveNode(snap, [], 'n1')).v4;
    const main = chain(r, 'MARGAY-TO-WL');
    const buckets = r.chains.filter((c) => c.name.startsWith('MARGAY-TO-WL-'));
    expect(buckets.length).toBeGreaterThan(1);
    for (const c of [main, ...buckets]) expect(c?.rules.at(-1)?.args).toEqual(['-o', 'mgw+', '-j', 'DROP']);
    const entries = buckets.flatMap((b) => b.rules.slice(0, -1).map((x) => x.args[1] as string));
    expect(entries).toHaveLength(35);
    expect(new Set(entries).size).toBe(35);
    for (const b of buckets) {
      const digit = b.name.slice(-1);
      expect(main?.rules.some((x) => x.args.join(' ') === `-o mgw${digit}+ -g ${b.name}`)).toBe(true);
      expect(b.rules.slice(0, -1).every((x) => (x.args[1] as string).startsWith(`mgw${digit}`))).toBe(true);
    }
    expect(r.chains.indexOf(buckets[0]!)).toBeLessThan(r.chains.indexOf(main!));
  });
});

describe('render: anti-spoofing', () => {
  it("a pod's egress chain first drops sources other than its own address, per family", () => {
    const snap = cluster();
    snap.pods[0] = pod('x', 'a', '10.0.0.1', { ips: ['10.0.0.1', 'fd00::1'], node: 'n1' });
    const r = renderNode(resolveNode(snap, [], 'n1'));
    expect(chain(r.v4, workloadChainName('x/a', 'egress'))?.rules[0]?.args).toEqual(['!', '-s', '10.0.0.1', '-j', 'DROP']);
    expect(chain(r.v6, workloadChainName('x/a', 'egress'))?.rules[0]?.args).toEqual(['!', '-s', 'fd00::1', '-j', 'DROP']);
    // x/c has no IPv6 address: nothing IPv6 leaves it; ingress chains have no source check.
    expect(chain(r.v6, workloadChainName('x/c', 'egress'))?.rules[0]?.args).toEqual(['-j', 'DROP']);
    expect(chain(r.v4, workloadChainName('x/a', 'ingress'))?.rules.map((x) => x.args)).toEqual([['-j', 'RETURN']]);
  });
});

/**
 * A tiny walker over rendered chains for a packet's source address only (the
 * anti-spoofing part): understands `[!] -s ADDR`, `-j`/`-g` to DROP, ACCEPT, RETURN or
 * another chain; any other match throws, so it never guesses.
 */
function walkSource(f: FamilyRender, name: string, src: string, depth = 0): 'DROP' | 'ACCEPT' | 'RETURN' {
  const c = chain(f, name);
  if (!c || depth > 8) throw new Error(`no chain ${name}`);
  for (const r of c.rules) {
    let neg = false;
    let matched = true;
    let target: string | undefined;
    let goto = false;
    for (let i = 0; i < r.args.length; i++) {
      const t = r.args[i];
      if (t === '!') neg = true;
      else if (t === '-s') {
        const a = r.args[++i];
        if ((a === src || a === `${src}/32` || a === `${src}/128`) === neg) matched = false;
        neg = false;
      } else if (t === '-j' || t === '-g') {
        target = r.args[++i];
        goto = t === '-g';
      } else throw new Error(`walkSource does not understand ${r.args.join(' ')}`);
    }
    if (!matched || target === undefined) continue;
    if (target === 'DROP' || target === 'ACCEPT' || target === 'RETURN') return target;
    const sub = walkSource(f, target, src, depth + 1);
    if (sub !== 'RETURN' || goto) return sub;
  }
  return 'RETURN';
}

describe('render: anti-spoofing with several addresses of one family', () => {
  it('a pod with two IPv4 addresses: either own address passes, any other source is dropped', () => {
    const snap = cluster();
    snap.pods[0] = pod('x', 'a', '10.0.0.1', { ips: ['10.0.0.1', '10.0.0.77'], node: 'n1' });
    const r = renderNode(resolveNode(snap, [], 'n1'));
    const fw = workloadChainName('x/a', 'egress');
    expect(walkSource(r.v4, fw, '10.0.0.1')).toBe('RETURN');
    expect(walkSource(r.v4, fw, '10.0.0.77')).toBe('RETURN');
    expect(walkSource(r.v4, fw, '10.0.0.2')).toBe('DROP'); // x/b's address: forged
    // every chain jumped to exists before the chain that jumps (one transaction), names fit iptables
    const names = r.v4.chains.map((c) => c.name);
    for (const c of r.v4.chains) {
      expect(c.name.length).toBeLessThanOrEqual(28);
      for (const rule of c.rules) {
        const t = rule.args[rule.args.indexOf('-j') + 1] ?? rule.args[rule.args.indexOf('-g') + 1];
        if (t?.startsWith('MARGAY-')) expect(names.indexOf(t)).toBeLessThan(names.indexOf(c.name));
      }
    }
    // a pod with one address keeps the single rule; IPv6 (none) still drops everything
    expect(chain(r.v4, workloadChainName('x/c', 'egress'))?.rules[0]?.args).toEqual(['!', '-s', '10.0.0.3', '-j', 'DROP']);
    expect(walkSource(r.v6, fw, 'fd00::1')).toBe('DROP');
  });
});

describe('render: node → pod (OUTPUT)', () => {
  it('known pods RETURN (always reachable from their node), unknown workload interfaces are dropped; hooked from OUTPUT', () => {
    const r = renderNode(resolveNode(cluster(), [policy('x', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })], 'n1')).v4;
    const host = chain(r, 'MARGAY-HOST-WL');
    expect(host?.rules.slice(0, -1).every((x) => x.args[2] === '-j' && x.args[3] === 'RETURN')).toBe(true);
    expect(host?.rules).toHaveLength(6);
    expect(host?.rules.at(-1)?.args).toEqual(['-o', 'mgw+', '-j', 'DROP']);
    expect(chain(r, 'MARGAY-OUTPUT')?.rules.map((x) => x.args)).toEqual([['-o', 'mgw+', '-j', 'MARGAY-HOST-WL']]);
    expect(r.hooks).toContainEqual({ chain: 'OUTPUT', target: 'MARGAY-OUTPUT' });
  });
});

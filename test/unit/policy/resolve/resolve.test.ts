import { describe, expect, it } from 'vitest';
import { resolveNode } from '../../../../policy/resolve/resolve.js';
import { workloadInterfaceName } from '../../../../policy/resolve/interface-name.js';
import { cluster, pod, policy } from '../helpers.js';

describe('resolveNode', () => {
  it('local pods only, each with both directions; unselected pods are not isolated', () => {
    const ir = resolveNode(cluster(), [], 'n1');
    expect(ir.workloads.map((w) => w.key)).toEqual(['x/a', 'x/c', 'y/b', 'z/a', 'z/c']);
    expect(ir.workloads.every((w) => w.ingress === null && w.egress === null)).toBe(true);
    expect(ir.workloads[0]?.iface).toBe(workloadInterfaceName('x', 'a'));
    expect(ir.policies).toEqual([]);
  });

  it('two local pods with the same interface name: both fail closed and the clash is reported', () => {
    const snap = cluster();
    for (const p of snap.pods) if (p.node === 'n1' && (p.name === 'a' && (p.namespace === 'x' || p.namespace === 'z'))) p.interface = 'mgw0000000000a';
    const ir = resolveNode(snap, [], 'n1');
    const clash = ir.workloads.filter((w) => w.iface === 'mgw0000000000a');
    expect(clash.map((w) => w.key)).toEqual(['x/a', 'z/a']);
    expect(clash.map((w) => w.ifaceConflict)).toEqual([['z/a'], ['x/a']]);
    expect(ir.workloads.filter((w) => w.ifaceConflict !== undefined)).toHaveLength(2);
    expect(ir.problems).toEqual(['interface mgw0000000000a is claimed by x/a, z/a: both pods dropped']);
    expect(resolveNode(cluster(), [], 'n1').problems ?? []).toEqual([]);
  });

  it('a policy selects by podSelector within its namespace only; Ingress-only by default', () => {
    const ir = resolveNode(cluster(), [policy('x', 'deny', { podSelector: { matchLabels: { pod: 'a' } } })], null);
    const sel = ir.workloads.filter((w) => w.ingress !== null).map((w) => w.key);
    expect(sel).toEqual(['x/a']);
    expect(ir.workloads.find((w) => w.key === 'x/a')?.egress).toBeNull();
    expect(ir.policies).toEqual([{ id: 'x/deny/ingress', policy: 'x/deny', direction: 'ingress', rules: [] }]);
  });

  it('union of policies: a pod lists every selecting policy, sorted', () => {
    const ir = resolveNode(cluster(), [policy('x', 'p2', { podSelector: {} }), policy('x', 'p1', { podSelector: { matchLabels: { pod: 'a' } } })], null);
    expect(ir.workloads.find((w) => w.key === 'x/a')?.ingress).toEqual(['x/p1/ingress', 'x/p2/ingress']);
    expect(ir.workloads.find((w) => w.key === 'x/b')?.ingress).toEqual(['x/p2/ingress']);
  });

  it('peers: podSelector alone is the policy namespace; namespaceSelector alone all pods there; both ANDed', () => {
    const p = policy('x', 'peers', {
      podSelector: {},
      ingress: [{ from: [
        { podSelector: { matchLabels: { pod: 'b' } } },
        { namespaceSelector: { matchLabels: { ns: 'y' } } },
        { namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x', 'y'] }] }, podSelector: { matchLabels: { pod: 'c' } } },
      ] }],
    });
    const ir = resolveNode(cluster(), [p], null);
    const peers = ir.policies[0]?.rules[0]?.peers;
    expect(peers).not.toBe('all');
    const ips = (peers as { kind: string; ips?: string[] }[]).map((x) => x.ips);
    expect(ips).toEqual([['10.0.0.2'], ['10.0.0.4', '10.0.0.5', '10.0.0.6'], ['10.0.0.9']]);
  });

  it('named ports resolve per destination pod, including pods mapping the name to different numbers', () => {
    const snap = cluster();
    snap.pods.push(pod('x', 'd', '10.0.0.10', { ports: [{ name: 'serve-80-tcp', port: 8080, protocol: 'TCP' }] }));
    const ir = resolveNode(snap, [policy('x', 'named', { podSelector: {}, ingress: [{ ports: [{ port: 'serve-80-tcp' }] }] })], null);
    const port = (ir.policies[0]?.rules[0]?.ports as { kind: string; members: { ip: string; port: number }[] }[])[0];
    expect(port?.kind).toBe('named');
    expect(port?.members.find((m) => m.ip === '10.0.0.10')).toEqual({ ip: '10.0.0.10', port: 8080 });
    expect(port?.members.find((m) => m.ip === '10.0.0.1')).toEqual({ ip: '10.0.0.1', port: 80 });
    expect(port?.members).toHaveLength(10);
  });

  it('host-network, finished and IP-less pods are not peers; terminating pods still are', () => {
    const snap = cluster();
    snap.pods.push(
      pod('x', 'host', '192.168.0.1', { hostNetwork: true }),
      pod('x', 'done', '10.0.0.20', { phase: 'Succeeded' }),
      pod('x', 'pending', '10.0.0.21', { ips: [], phase: 'Pending' }),
      pod('x', 'leaving', '10.0.0.22', { terminating: true }),
    );
    const ir = resolveNode(snap, [policy('x', 'all-x', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })], null);
    const ips = (ir.policies[0]?.rules[0]?.peers as { ips: string[] }[])[0]?.ips;
    expect(ips).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.22', '10.0.0.3']);
    const keys = ir.workloads.map((w) => w.key);
    expect(keys).toContain('x/pending');
    expect(keys).toContain('x/leaving');
    expect(keys).not.toContain('x/host');
    expect(keys).not.toContain('x/done');
  });

  it('ipBlock CIDRs are canonical (host bits cleared) and dual-stack pods contribute both IPs', () => {
    const snap = cluster();
    snap.pods[0] = pod('x', 'a', '10.0.0.1', { ips: ['10.0.0.1', 'fd00::1'] });
    const ir = resolveNode(snap, [policy('x', 'b', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.1.2.3/8', except: ['10.1.0.0/16'] } }, { podSelector: { matchLabels: { pod: 'a' } } }] }] })], null);
    expect(ir.policies[0]?.rules[0]?.peers).toEqual([
      { kind: 'cidr', cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] },
      { kind: 'pods', id: 'ns=x pods={pod=a}', ips: ['10.0.0.1', 'fd00::1'] },
    ]);
  });
});

describe('resolveNode: rules, ports and directions', () => {
  it('absent/empty from and ports become all; each port kind resolves', () => {
    const ir = resolveNode(cluster(), [policy('x', 'p', {
      podSelector: {},
      ingress: [{}, { from: [], ports: [] }, { ports: [{ protocol: 'UDP' }, { port: 80, endPort: 90, protocol: 'SCTP' }, { port: 81 }] }],
    })], null);
    expect(ir.policies[0]?.rules).toEqual([
      { index: 0, peers: 'all', ports: 'all' },
      { index: 1, peers: 'all', ports: 'all' },
      { index: 2, peers: 'all', ports: [{ protocol: 'UDP', kind: 'any' }, { protocol: 'SCTP', kind: 'range', from: 80, to: 90 }, { protocol: 'TCP', kind: 'range', from: 81, to: 81 }] }],
    );
  });

  it('policyTypes decide the directions: [Egress] puts the policy in egress only, its ingress rules ignored', () => {
    const ir = resolveNode(cluster(), [policy('x', 'e', { podSelector: {}, policyTypes: ['Egress'], ingress: [{}], egress: [] })], null);
    const xa = ir.workloads.find((w) => w.key === 'x/a');
    expect([xa?.ingress, xa?.egress]).toEqual([null, ['x/e/egress']]);
    expect(ir.policies).toEqual([{ id: 'x/e/egress', policy: 'x/e', direction: 'egress', rules: [] }]);
  });

  it('egress: [] without policyTypes is Ingress only: egress stays open, ingress isolated', () => {
    const ir = resolveNode(cluster(), [policy('x', 'ie', { podSelector: {}, ingress: [{}], egress: [] })], null);
    const xa = ir.workloads.find((w) => w.key === 'x/a');
    expect([xa?.ingress, xa?.egress]).toEqual([['x/ie/ingress'], null]);
    expect(ir.policies.map((p) => p.id)).toEqual(['x/ie/ingress']);
  });

  it('a policy selecting nothing adds nothing; policies of other namespaces never select', () => {
    const ir = resolveNode(cluster(), [policy('x', 'none', { podSelector: { matchLabels: { pod: 'nobody' } } }), policy('w', 'other-ns', { podSelector: {} })], null);
    expect(ir.policies).toEqual([]);
    expect(ir.workloads.every((w) => w.ingress === null)).toBe(true);
  });

  it('a namespaceSelector peer reaches pods of a namespace missing from the snapshot through kubernetes.io/metadata.name', () => {
    const snap = cluster();
    snap.pods.push(pod('ghost', 'g', '10.0.0.77', { node: 'n2' }));
    const ir = resolveNode(snap, [policy('x', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ghost' } } }, { namespaceSelector: { matchLabels: { ns: 'ghost' } } }] }] })], null);
    const peers = ir.policies[0]?.rules[0]?.peers as { ips: string[] }[];
    expect(peers.map((p) => p.ips)).toEqual([['10.0.0.77'], []]);
  });
});

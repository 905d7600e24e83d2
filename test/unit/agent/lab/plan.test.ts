import { describe, expect, it } from 'vitest';
import { hostVethName, MAX_NODES, planLab, planPod, podAddress } from '../../../../agent/lab/plan.js';

describe('lab address plan', () => {
  it('puts L2 nodes on one /24 from .11 up, each with an IPv6 address, behind bridge br0', () => {
    const p = planLab('mgab12-', 'l2', 3);
    expect(p.fabric).toMatchObject({ kind: 'l2', ns: 'mgab12-fabric' });
    expect(p.fabric.subnets.map((s) => s.bridge)).toEqual(['br0']);
    expect(p.nodes.map((n) => [n.name, n.ns, n.address, n.address6, n.subnet.v4])).toEqual([
      ['n1', 'mgab12-n1', '172.30.0.11', 'fd30::11', '172.30.0.0/24'],
      ['n2', 'mgab12-n2', '172.30.0.12', 'fd30::12', '172.30.0.0/24'],
      ['n3', 'mgab12-n3', '172.30.0.13', 'fd30::13', '172.30.0.0/24'],
    ]);
  });

  it('alternates routed nodes between two subnets, host parts unique across both', () => {
    const p = planLab('mgab12-', 'routed', 4);
    expect(p.fabric.subnets.map((s) => [s.bridge, s.gateway])).toEqual([['br-a', '172.30.1.1'], ['br-b', '172.30.2.1']]);
    expect(p.nodes.map((n) => n.address)).toEqual(['172.30.1.11', '172.30.2.12', '172.30.1.13', '172.30.2.14']);
    expect(p.nodes.map((n) => n.address6)).toEqual(['fd30:1::11', 'fd30:2::12', 'fd30:1::13', 'fd30:2::14']);
  });

  it.each([0, -1, 1.5, MAX_NODES + 1])('rejects %s nodes', (n) => {
    expect(() => planLab('mgab12-', 'l2', n)).toThrow(/1 to 64 nodes/);
  });

  it.each(['ab12-', 'mgab12', 'mg-', 'MGAB-', 'mgabcdefghij-'])('rejects prefix %j (must be mg + id + -)', (prefix) => {
    expect(() => planLab(prefix, 'l2', 1)).toThrow(/prefix/);
  });

  it('keeps every node interface name within 15 characters at the maximum size', () => {
    for (const n of planLab('mgabcdefgh-', 'routed', MAX_NODES).nodes) {
      expect(n.fabricPort.length).toBeLessThanOrEqual(15);
      expect(n.uplink).toBe('eth0');
    }
  });
});

describe('pod names', () => {
  it('names the pod namespace after lab, node and pod', () => {
    expect(planPod('mgab12-', 'n2', 'web')).toEqual({ name: 'web', node: 'n2', ns: 'mgab12-n2-web', hostVeth: 'p-web' });
  });

  it('shortens long host veth names with a hash: ≤ 15 chars, deterministic, distinct', () => {
    const a = hostVethName('frontend-canary-1');
    const b = hostVethName('frontend-canary-2');
    expect(a.length).toBeLessThanOrEqual(15);
    expect(a).toMatch(/^p-fronte-[0-9a-f]{6}$/);
    expect(hostVethName('frontend-canary-1')).toBe(a);
    expect(b).not.toBe(a);
    expect(hostVethName('abcdefghijklm')).toBe('p-abcdefghijklm');
  });

  it.each(['', 'Web', 'a_b', '-a', 'a'.repeat(33)])('rejects pod name %j', (pod) => {
    expect(() => planPod('mgab12-', 'n1', pod)).toThrow(/pod name/);
  });

  it('gives conventional pod addresses inside the pools', () => {
    expect(podAddress(1, 1)).toEqual({ ipv4: '10.244.1.2', ipv6: 'fd44:0:1::2' });
    expect(podAddress(12, 20)).toEqual({ ipv4: '10.244.12.21', ipv6: 'fd44:0:c::15' });
    expect(() => podAddress(0, 1)).toThrow();
    expect(() => podAddress(1, 254)).toThrow();
  });
});

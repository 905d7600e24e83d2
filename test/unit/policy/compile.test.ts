import { describe, expect, it } from 'vitest';
import { compile, snapshotFromObjects } from '../../../policy/compile.js';

const snap = snapshotFromObjects(
  [
    { metadata: { namespace: 'x', name: 'a', labels: { app: 'a' } }, spec: { nodeName: 'n1' }, status: { podIP: '10.0.0.1' } },
    { metadata: { namespace: 'x', name: 'b', labels: { app: 'b' } }, spec: { nodeName: 'n2' }, status: { podIP: '10.0.0.2' } },
  ],
  [{ metadata: { name: 'x' } }],
);
const np = (spec: unknown) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'x', name: 'p' }, spec });

/** The rules (as text) of the only local pod's chain with this prefix. */
function podChain(c: ReturnType<typeof compile>, prefix: 'MARGAY-FW-' | 'MARGAY-TW-'): string[] {
  const chains = c.rendered.v4.chains.filter((ch) => ch.name.startsWith(prefix));
  expect(chains).toHaveLength(1);
  return chains[0]?.rules.map((r) => r.args.join(' ')) ?? [];
}

describe('compile: policyTypes defaulting end to end', () => {
  it('egress: [] without policyTypes leaves the pod egress open (only ingress is isolated)', () => {
    const c = compile(snap, [np({ podSelector: {}, ingress: [{}], egress: [] })], 'n1');
    expect(c.rejected).toEqual([]);
    const fw = podChain(c, 'MARGAY-FW-');
    expect(fw.some((r) => r.includes('MARGAY-PE-'))).toBe(false);
    expect(fw.at(-1)).toBe('-j RETURN');
    expect(podChain(c, 'MARGAY-TW-').some((r) => r.includes('MARGAY-PI-'))).toBe(true);
  });

  it('policyTypes [Egress] with egress: [] isolates egress and allows nothing', () => {
    const c = compile(snap, [np({ podSelector: {}, policyTypes: ['Egress'], egress: [] })], 'n1');
    const fw = podChain(c, 'MARGAY-FW-');
    expect(fw.at(-1)).toBe('-j DROP');
    expect(c.ir.policies).toEqual([{ id: 'x/p/egress', policy: 'x/p', direction: 'egress', rules: [] }]);
    expect(podChain(c, 'MARGAY-TW-').at(-1)).toBe('-j RETURN');
  });
});

describe('compile: string ports are port names', () => {
  it('port: "80" rejects the policy with its field path; the other policies still compile', () => {
    const bad = { ...np({ podSelector: {}, ingress: [{ ports: [{ port: '80' }] }] }), metadata: { namespace: 'x', name: 'quoted' } };
    const c = compile(snap, [bad, np({ podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })], 'n1');
    expect(c.rejected.map((r) => [r.name, r.errors.map((e) => e.path)])).toEqual([['x/quoted', ['spec.ingress[0].ports[0].port']]]);
    expect(c.policies.map((p) => p.name)).toEqual(['p']);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NodeCompiler } from '../../../policy/incremental.js';
import { compile } from '../../../policy/compile.js';
import type { PodInfo } from '../../../policy/model/snapshot.js';
import { cluster, pod } from './helpers.js';

const np = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec });
const policies = [
  np('x', 'deny', { podSelector: {} }),
  np('x', 'db', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'db' } } }], ports: [{ port: 'serve-80-tcp' }] }] }),
  np('y', 'web', { podSelector: {}, egress: [{ to: [{ podSelector: { matchExpressions: [{ key: 'role', operator: 'In', values: ['web', 'db'] }] } }] }] }),
  np('z', 'named', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 'metrics', protocol: 'TCP' }] }] }),
];

const remotePod = fc.record({
  ns: fc.constantFrom('x', 'y', 'z'),
  i: fc.integer({ min: 0, max: 5 }),
  role: fc.constantFrom(undefined, 'db', 'web'),
  metrics: fc.option(fc.integer({ min: 9000, max: 9002 })),
  v6: fc.boolean(),
  phase: fc.constantFrom('Running', 'Running', 'Succeeded'),
}).map((r): PodInfo => pod(r.ns, `r${r.i}`, `10.9.${r.ns.charCodeAt(0)}.${r.i}`, {
  node: 'n2',
  labels: r.role ? { role: r.role } : {},
  ips: r.v6 ? [`10.9.${r.ns.charCodeAt(0)}.${r.i}`, `fd09::${r.i}`] : [`10.9.${r.ns.charCodeAt(0)}.${r.i}`],
  phase: r.phase,
  ports: [{ name: 'serve-80-tcp', port: 80, protocol: 'TCP' }, ...(r.metrics ? [{ name: 'metrics', port: r.metrics, protocol: 'TCP' as const }] : [])],
}));

describe('NodeCompiler', () => {
  it('incremental updates for remote pods equal a full compile (property)', () => {
    fc.assert(fc.property(fc.array(fc.oneof(remotePod.map((p) => ({ op: 'upsert' as const, p })), remotePod.map((p) => ({ op: 'remove' as const, p }))), { maxLength: 25 }), (ops) => {
      const nc = new NodeCompiler('n1', cluster(), policies);
      const snap = cluster();
      for (const o of ops) {
        if (o.op === 'upsert') {
          nc.upsertPod(o.p);
          snap.pods = [...snap.pods.filter((p) => !(p.namespace === o.p.namespace && p.name === o.p.name)), o.p];
        } else {
          nc.removePod(o.p.namespace, o.p.name);
          snap.pods = snap.pods.filter((p) => !(p.namespace === o.p.namespace && p.name === o.p.name));
        }
        expect(nc.rendered).toEqual(compile(snap, policies, 'n1').rendered);
      }
    }), { numRuns: 60 });
  });

  it('a remote pod joining selectors changes only the affected sets (same objects elsewhere)', () => {
    const nc = new NodeCompiler('n1', cluster(), policies);
    const before = nc.rendered;
    const after = nc.upsertPod(pod('z', 'newdb', '10.9.9.9', { node: 'n2', labels: { role: 'db' } }));
    expect(after.v4.chains).toBe(before.v4.chains);
    expect(after.v6).toBe(before.v6);
    const changed = after.v4.sets.filter((s, i) => s !== before.v4.sets[i]);
    expect(changed.map((s) => s.type).sort()).toEqual(['hash:ip', 'hash:ip,port']); // x/db's peer and serve-80-tcp
    expect(changed.every((s) => s.members.some((m) => m.startsWith('10.9.9.9')))).toBe(true);
  });

  it('a local pod recompiles (new workload chains)', () => {
    const nc = new NodeCompiler('n1', cluster(), policies);
    const n = nc.rendered.v4.chains.length;
    nc.upsertPod(pod('x', 'local', '10.0.0.99', { node: 'n1' }));
    expect(nc.rendered.v4.chains.length).toBe(n + 2);
    expect(nc.ir.workloads.map((w) => w.key)).toContain('x/local');
  });
});

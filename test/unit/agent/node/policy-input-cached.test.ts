import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ObjectCache, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import type { Handle } from '../../../../agent/ipam/types.js';
import { policyInputOf } from '../../../../agent/node/desired.js';
import { compile } from '../../../../policy/compile.js';

const hostIf = (cid: string, ifName: string): string => `if-${cid}-${ifName}`;

/** the same snapshot with every object copied: nothing in it was read before (the uncached path) */
const fresh = (s: Snapshot): Snapshot => ({ revision: s.revision, objects: new Map([...s.objects].map(([k, m]) => [k, new Map([...m].map(([key, o]) => [key, structuredClone(o)]))])) });

const pod = (name: string, node: string, labels: Record<string, string>, ip?: string): Resource => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: name.length % 2 ? 'x' : 'y', labels }, spec: { nodeName: node },
  ...(ip ? { status: { podIP: ip } } : {}),
});
const handle = (i: number, name: string, node: string): Handle => ({
  handle: `k8s-pod-network.cid${i}.eth0`, addresses: [{ family: 4, address: `10.0.0.${i + 1}`, block: '10.0.0.0/24', pool: 'p' }],
  attrs: { node, pod: { namespace: name.length % 2 ? 'x' : 'y', name }, containerId: `cid${i}` },
});
const NS: Resource[] = ['x', 'y'].map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: { team: n } } }));
const POLICY: Resource = {
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x' },
  spec: { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } }] }] },
} as Resource;

const podsArb = fc.uniqueArray(fc.record({
  name: fc.constantFrom('a', 'bb', 'c', 'dd', 'e', 'ff'),
  node: fc.constantFrom('n1', 'n2'),
  app: fc.constantFrom('a', 'b'),
  ip: fc.option(fc.constantFrom('10.9.0.1', '10.9.0.2'), { nil: undefined }),
  handle: fc.boolean(),
}), { selector: (p) => p.name, maxLength: 6 });

describe('policyInputOf through the per-object caches', () => {
  it('gives what the uncached path gives, pass after pass, and re-reads a changed pod (a new object)', () => {
    fc.assert(fc.property(podsArb, fc.nat({ max: 5 }), (spec, changed) => {
      const c = new ObjectCache();
      for (const n of NS) c.set(n);
      c.set(POLICY);
      for (const p of spec) c.set(pod(p.name, p.node, { app: p.app }, p.ip));
      const handles = spec.flatMap((p, i) => (p.handle ? [handle(i, p.name, p.node)] : []));
      const s1 = c.snapshot();
      const a = policyInputOf(s1, handles, 'n1', hostIf);
      expect(policyInputOf(s1, handles, 'n1', hostIf)).toEqual(a); // cache hits
      expect(a).toEqual(policyInputOf(fresh(s1), handles, 'n1', hostIf));
      const target = spec[changed % Math.max(spec.length, 1)];
      if (!target) return;
      // the pod changes labels and address: a new object under the same key
      c.set(pod(target.name, target.node, { app: target.app === 'a' ? 'b' : 'a', extra: 'y' }, '10.9.9.9'));
      const s2 = c.snapshot();
      const b = policyInputOf(s2, handles, 'n1', hostIf);
      const seen = b.snapshot.pods.find((p) => p.name === target.name);
      expect(seen?.labels).toEqual({ app: target.app === 'a' ? 'b' : 'a', extra: 'y' });
      expect(b).toEqual(policyInputOf(fresh(s2), handles, 'n1', hostIf));
      // what the compiler makes of it is the same as from freshly read objects
      expect(compile(b.snapshot, b.policies, 'n1').rendered).toEqual(compile(policyInputOf(fresh(s2), handles, 'n1', hostIf).snapshot, b.policies, 'n1').rendered);
    }), { numRuns: 100 });
  });
});

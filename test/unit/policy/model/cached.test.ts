import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { namespaceFromObject, namespaceFromObjectCached, podFromObject, podFromObjectCached } from '../../../../policy/model/snapshot.js';
import { validatePolicy, validatePolicyCached } from '../../../../policy/model/validate.js';
import { resolveNode } from '../../../../policy/resolve/resolve.js';
import { renderNode } from '../../../../policy/render/chains.js';
import { compile } from '../../../../policy/compile.js';
import type { Policy } from '../../../../policy/model/types.js';

const fx = join(import.meta.dirname, '..', 'fixtures');
const docs = (file: string): unknown[] => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as unknown).filter((d) => d !== null);
const pods = docs(join(fx, 'pods.yaml'));
const namespaces = docs(join(fx, 'namespaces.yaml'));
const policies = readdirSync(join(fx, 'policies')).flatMap((f) => docs(join(fx, 'policies', f)));

/** a pod object: labels, addresses, ports, node, phase and the interface annotation vary */
const podArb = fc.record({
  metadata: fc.record({
    name: fc.string({ minLength: 1, maxLength: 8 }),
    namespace: fc.constantFrom('x', 'y', ''),
    labels: fc.dictionary(fc.constantFrom('app', 'tier', 'pod'), fc.constantFrom('a', 'b', 'web')),
    annotations: fc.option(fc.record({ 'margay.io/interface': fc.constantFrom('mgw0abc', 'eth0', 'bad name') }), { nil: undefined }),
    deletionTimestamp: fc.option(fc.constant('2026-11-21T00:00:00Z'), { nil: undefined }),
  }),
  spec: fc.record({
    nodeName: fc.constantFrom('n1', 'n2', ''),
    hostNetwork: fc.boolean(),
    containers: fc.array(fc.record({ name: fc.constant('c'), ports: fc.array(fc.record({ name: fc.constantFrom('http', '', 'dns'), containerPort: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom('TCP', 'UDP', 'SCTP') }), { maxLength: 3 }) }), { maxLength: 2 }),
  }),
  status: fc.record({ phase: fc.constantFrom('Running', 'Pending', 'Succeeded'), podIPs: fc.array(fc.record({ ip: fc.oneof(fc.ipV4(), fc.constant('fd00::1'), fc.constant('bogus')) }), { maxLength: 2 }) }),
});

describe('podFromObjectCached / namespaceFromObjectCached: podFromObject per object identity', () => {
  it('equals podFromObject for any pod, and serves the same value for the same object', () => {
    fc.assert(fc.property(podArb, (o) => {
      const first = podFromObjectCached(o);
      expect(first).toEqual(podFromObject(o));
      expect(podFromObjectCached(o)).toBe(first);
    }), { numRuns: 200 });
  });

  it('a changed pod (a new object, as a datastore stores it) is parsed again: never a stale result', () => {
    fc.assert(fc.property(podArb, podArb, (a, b) => {
      podFromObjectCached(a);
      const next = { ...a, metadata: b.metadata, spec: b.spec, status: b.status };
      expect(podFromObjectCached(next)).toEqual(podFromObject(b));
    }), { numRuns: 100 });
  });

  it('the fixtures read the same through the cache, namespaces too; non-objects are not cached', () => {
    expect(pods.map(podFromObjectCached)).toEqual(pods.map((p) => podFromObject(p)));
    expect(namespaces.map(namespaceFromObjectCached)).toEqual(namespaces.map((n) => namespaceFromObject(n)));
    const ns = namespaces[0] as object;
    expect(namespaceFromObjectCached(ns)).toBe(namespaceFromObjectCached(ns));
    expect(namespaceFromObjectCached({ ...ns, metadata: { name: 'other' } }).name).toBe('other');
    expect(podFromObjectCached(null)).toEqual(podFromObject(null));
    expect(namespaceFromObjectCached('x')).toEqual(namespaceFromObject('x'));
  });
});

describe('validatePolicyCached: validatePolicy per object identity', () => {
  it('equals validatePolicy for the fixtures and for arbitrary values; the same object gets the same result', () => {
    for (const p of policies) {
      expect(validatePolicyCached(p)).toEqual(validatePolicy(p));
      expect(validatePolicyCached(p)).toBe(validatePolicyCached(p));
    }
    fc.assert(fc.property(fc.anything(), (v) => {
      expect(validatePolicyCached(v)).toEqual(validatePolicy(v));
    }), { numRuns: 200 });
  });

  it('a changed policy object is validated again', () => {
    const p = policies.find((x) => validatePolicy(x).ok) as { spec: Record<string, unknown> };
    expect(validatePolicyCached(p).ok).toBe(true);
    const broken = { ...p, spec: { ...p.spec, policyTypes: ['Sideways'] } };
    expect(validatePolicyCached(broken).ok).toBe(false);
  });

  it('compiling from cached values twice (shared between passes) renders what compile() renders', () => {
    const snapshot = { pods: pods.map(podFromObjectCached), namespaces: namespaces.map(namespaceFromObjectCached) };
    const valid = (): Policy[] => policies.map(validatePolicyCached).flatMap((v) => (v.ok ? [v.policy] : []));
    for (const node of ['node-1', 'node-2', null]) {
      const want = compile({ pods: pods.map((p) => podFromObject(p)), namespaces: namespaces.map((n) => namespaceFromObject(n)) }, policies, node);
      for (let i = 0; i < 2; i++) {
        const ir = resolveNode(snapshot, valid(), node);
        expect(ir).toEqual(want.ir);
        expect(renderNode(ir)).toEqual(want.rendered);
      }
    }
  });
});

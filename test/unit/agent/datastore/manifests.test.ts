import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../../agent/datastore/manifests.js';
import type { ObjectValidator } from '../../../../agent/datastore/validate.js';
import { validateObject } from '../../../../crds/schemas.js';

describe('parseManifest', () => {
  it('reads every document of a multi-document file and unrolls Lists', () => {
    const text = `
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: v1
kind: List
items:
  - apiVersion: margay.io/v1
    kind: IPPool
    metadata: {name: pool-a}
    spec: {cidr: 10.244.0.0/16}
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: deny, namespace: x}
    spec: {podSelector: {}}
---
`;
    const r = parseManifest(text);
    expect(r.rejected).toEqual([]);
    expect(r.resources.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/x', 'IPPool/pool-a', 'NetworkPolicy/deny']);
  });

  it('defaults the namespace of a namespaced object to "default", as kubectl does', () => {
    const r = parseManifest('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n');
    expect(r.resources[0]?.metadata.namespace).toBe('default');
  });

  it('reads `namespace: ""` as no namespace: "default" for a namespaced kind, none for a cluster-scoped one (schema-checked too)', () => {
    const schema: ObjectValidator = (obj) => {
      const v = validateObject(obj);
      return v.ok ? { ok: true, object: v.object } : { ok: false, errors: v.errors };
    };
    const text = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ""}
spec: {podSelector: {}}
---
apiVersion: margay.io/v1
kind: IPPool
metadata: {name: pool, namespace: ""}
spec: {cidr: 10.244.0.0/16}
`;
    const r = parseManifest(text, schema);
    expect(r.rejected).toEqual([]);
    expect(r.resources.map((o) => `${o.kind} ${JSON.stringify(o.metadata.namespace)}`)).toEqual(['NetworkPolicy "default"', 'IPPool undefined']);
    expect(r.resources[1]!.metadata).not.toHaveProperty('namespace');
  });

  it('rejects a bad object with its field path and keeps the others', () => {
    const text = `apiVersion: v1
kind: Namespace
metadata: {name: good}
---
apiVersion: v2
kind: Namespace
metadata: {name: Bad_Name}
---
kind: Deployment
apiVersion: apps/v1
metadata: {name: d}
`;
    const r = parseManifest(text);
    expect(r.resources.map((o) => o.metadata.name)).toEqual(['good']);
    expect(r.rejected).toHaveLength(2);
    expect(r.rejected[0]?.object).toContain('document 2');
    expect(r.rejected[0]?.errors.map((e) => e.path).sort()).toEqual(['apiVersion', 'metadata.name']);
    expect(r.rejected[1]?.errors[0]?.message).toContain('"Deployment" is not a kind margay reads');
  });

  it('reports YAML syntax errors per document without losing the good ones', () => {
    const r = parseManifest('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [unclosed\n');
    expect(r.resources).toHaveLength(1);
    expect(r.rejected[0]?.errors[0]?.message).toMatch(/^YAML:/);
  });

  it('runs the schema validator and reports its field paths', () => {
    const validate: ObjectValidator = (o) =>
      (o as { spec?: { cidr?: string } }).spec?.cidr === 'nope' ? { ok: false, errors: [{ path: 'spec.cidr', message: 'must be a CIDR' }] } : { ok: true };
    const r = parseManifest('apiVersion: margay.io/v1\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: nope}\n', validate);
    expect(r.resources).toEqual([]);
    // with its identity, so a reader can keep the last good version of an edited object
    expect(r.rejected[0]).toEqual({ object: 'IPPool p (document 1)', errors: [{ path: 'spec.cidr', message: 'must be a CIDR' }], id: 'IPPool/p' });
    const ns = parseManifest('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d, namespace: x}\nspec: {cidr: nope}\n', validate);
    expect(ns.rejected[0]?.id).toBe('NetworkPolicy/x/d');
  });

  it('refuses a namespace on a cluster-scoped kind', () => {
    const r = parseManifest('apiVersion: margay.io/v1\nkind: BGPPeer\nmetadata: {name: p, namespace: x}\n');
    expect(r.rejected[0]?.errors[0]?.path).toBe('metadata.namespace');
    expect(r.rejected[0]?.id).toBeUndefined(); // no sound identity: nothing to keep
  });
});

describe('parseManifest: syntax errors', () => {
  it('flags a document that does not parse, and only then', () => {
    const good = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n';
    expect(parseManifest(good).syntaxError).toBe(false);
    expect(parseManifest('').syntaxError).toBe(false);
    const broken = parseManifest(`${good}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: y`);
    expect(broken.syntaxError).toBe(true);
    expect(broken.rejected[0]!.errors[0]!.message).toMatch(/^YAML: /);
  });
});

describe('parseManifest: typed lists', () => {
  it('unrolls an XxxList (as kubectl does), each item checked as usual', () => {
    const text = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicyList
items:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: deny, namespace: x}
    spec: {podSelector: {}}
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: Bad_Name, namespace: x}
    spec: {podSelector: {}}
`;
    const r = parseManifest(text);
    expect(r.resources.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['NetworkPolicy/deny']);
    expect(r.rejected.map((x) => x.errors[0]!.path)).toEqual(['metadata.name']);
  });
});

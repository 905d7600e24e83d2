import { beforeAll, describe, expect, it } from 'vitest';
import { rootTypeName, unknownFields, type TypeLookup } from '../../../crds/unknown-fields.js';
import { loadKubernetesTypes } from '../../../crds/client-node-types.js';
import { validateObject } from '../../../crds/schemas.js';

const TABLE: Record<string, { baseName: string; type: string }[]> = {
  Root: [{ baseName: 'spec', type: 'Spec' }, { baseName: 'labels', type: '{ [key: string]: string; }' }, { baseName: 'm', type: '{ [key: string]: Leaf; }' }],
  Spec: [{ baseName: 'items', type: 'Array<Leaf>' }, { baseName: 'port', type: 'IntOrString' }],
  Leaf: [{ baseName: 'a', type: 'string' }],
};
const lookup: TypeLookup = (n) => TABLE[n];

describe('unknownFields', () => {
  it('walks objects, arrays and maps, naming each unknown field by path', () => {
    const value = {
      spec: { items: [{ a: 'x' }, { a: 'y', b: 1 }], port: { anything: true }, extra: 1 },
      labels: { free: 'form' },
      m: { 'k/1': { a: 'z', c: 2 } },
      top: 0,
    };
    expect(unknownFields(value, 'Root', lookup)).toEqual([
      { path: 'spec.items[1].b', message: 'unknown field' },
      { path: 'spec.extra', message: 'unknown field' },
      { path: 'm["k/1"].c', message: 'unknown field' },
      { path: 'top', message: 'unknown field' },
    ]);
  });

  it('names root types after the API version', () => {
    expect(rootTypeName('v1', 'Pod')).toBe('V1Pod');
    expect(rootTypeName('networking.k8s.io/v1', 'NetworkPolicy')).toBe('V1NetworkPolicy');
    expect(rootTypeName('apps/v1', 'DaemonSet')).toBe('V1DaemonSet');
  });
});

describe('validateObject with the Kubernetes type table (strict field validation)', () => {
  let types: TypeLookup;
  beforeAll(async () => {
    types = await loadKubernetesTypes();
  });

  it('reports misspelt NetworkPolicy and Pod fields, accepts correct ones', () => {
    const np = {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'a', namespace: 'b' },
      spec: { podSelector: { matchLabels: { app: 'x' } }, ingres: [], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', exept: [] } }], ports: [{ port: 'http', endPort: 90 }] }] },
    };
    const r = validateObject(np, { types });
    expect(r.ok ? [] : r.errors).toEqual([
      { path: 'spec.egress[0].to[0].ipBlock.exept', message: 'unknown field' },
      { path: 'spec.ingres', message: 'unknown field' },
    ]);
    expect(validateObject(np).ok).toBe(true); // without the table: API schema only
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] }, status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }] } };
    expect(validateObject(pod, { types })).toMatchObject({ ok: true });
  });
});

import { describe, expect, it } from 'vitest';
import { loadCrds, validateObject } from '../../../crds/schemas.js';
import { planNodeBgp } from '../../../agent/node-config/node-config.js';
import { ObjectCache } from '../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../agent/datastore/resources.js';

// The API server applies CRD schema defaults to every object it stores, node.NAME
// included: a schema default on a field node.NAME can override would make that
// object silently reset the cluster's value. validateObject applies the same defaults.
const objects = [
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1', annotations: {} }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } },
  { apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 65001, logSeverityScreen: 'Debug' } },
  { apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name: 'node.w1' }, spec: { listenPort: 1790 } },
];

describe('BGPConfiguration schema defaults', () => {
  it('a node.NAME object, after schema defaulting, keeps the cluster AS, log level and mesh setting of "default"', () => {
    const cache = new ObjectCache();
    for (const o of objects) {
      const r = validateObject(o);
      expect(r.ok).toBe(true);
      if (r.ok) cache.set(r.object as unknown as Resource);
    }
    const plan = planNodeBgp(cache.snapshot(), 'w1');
    expect(plan.local?.asn).toBe(65001);
    expect(plan.local?.listenPort).toBe(1790);
    const clusterOnly = planNodeBgp(withoutNodeConfig(cache), 'w1').local;
    expect(clusterOnly?.logLevel).toBeDefined();
    expect(plan.local?.logLevel).toBe(clusterOnly?.logLevel);
  });

  it('the CRD has no schema default on the fields node.NAME can override or inherit', () => {
    const crd = loadCrds().find((c) => c.spec.names.kind === 'BGPConfiguration')!;
    const spec = (crd.spec.versions[0] as unknown as { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, Record<string, unknown>> } } } } })
      .schema.openAPIV3Schema.properties.spec.properties;
    for (const f of ['asNumber', 'listenPort', 'logSeverityScreen', 'nodeToNodeMeshEnabled']) expect(spec[f], f).not.toHaveProperty('default');
  });
});

function withoutNodeConfig(cache: ObjectCache) {
  const c = new ObjectCache();
  const s = cache.snapshot();
  for (const objs of s.objects.values()) for (const o of objs.values()) if (o.metadata.name !== 'node.w1') c.set(o);
  return c.snapshot();
}

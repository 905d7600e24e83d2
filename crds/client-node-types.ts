/**
 * The type table for crds/unknown-fields.ts, from @kubernetes/client-node's
 * generated models. Loaded on demand (the package takes most of a second to load).
 */
import type { AttributeType, TypeLookup } from './unknown-fields.js';

type ModelClass = { getAttributeTypeMap?: () => AttributeType[] };

export async function loadKubernetesTypes(): Promise<TypeLookup> {
  const k8s = (await import('@kubernetes/client-node')) as unknown as Record<string, ModelClass | undefined>;
  return (name) => {
    const m = k8s[name];
    return typeof m?.getAttributeTypeMap === 'function' ? m.getAttributeTypeMap() : undefined;
  };
}

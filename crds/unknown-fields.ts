/**
 * Strict field validation for Kubernetes' own kinds, as `kubectl apply` does it:
 * a field the API type does not have is an error ("spec.ingres: unknown field").
 * The kubernetes-models validators do not check this, so the field lists come from
 * a type table — in practice @kubernetes/client-node's generated models
 * (`V1NetworkPolicySpec.getAttributeTypeMap()`), handed in by the caller so that
 * this module stays pure and light. Pure.
 */
import { joinPath, type FieldError } from './errors.js';

export interface AttributeType {
  /** the JSON field name */
  baseName: string;
  /** "V1PodSpec", "Array<V1Container>", "{ [key: string]: string; }", "string", ... */
  type: string;
}

/** The fields of a named API type, or undefined for a type with no field list. */
export type TypeLookup = (typeName: string) => readonly AttributeType[] | undefined;

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

/** The model type name of a top-level object: core/v1 Pod → V1Pod, apps/v1 DaemonSet → V1DaemonSet. */
export function rootTypeName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop() ?? '';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

export function unknownFields(value: unknown, typeName: string, lookup: TypeLookup, pointer = ''): FieldError[] {
  const arr = ARRAY.exec(typeName);
  if (arr) {
    if (!Array.isArray(value)) return [];
    return value.flatMap((v, i) => unknownFields(v, arr[1]!, lookup, `${pointer}/${i}`));
  }
  const map = MAP.exec(typeName);
  if (map) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
    return Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, lookup, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  }
  const fields = lookup(typeName);
  if (!fields || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const byName = new Map(fields.map((f) => [f.baseName, f.type]));
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(value)) {
    const t = byName.get(k);
    if (t === undefined) out.push({ path: joinPath(pointer, k), message: 'unknown field' });
    else out.push(...unknownFields(v, t, lookup, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  }
  return out;
}

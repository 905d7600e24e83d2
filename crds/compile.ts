/**
 * CRD documents → ajv validators. The CRD's openAPIV3Schema is used as is, with the
 * meaning the API server gives it:
 * - unknown fields are errors where the API server would prune them (every object
 *   with `properties` and neither `additionalProperties` nor
 *   x-kubernetes-preserve-unknown-fields), as `kubectl apply` strict field
 *   validation reports them;
 * - `default`s are applied (to the caller's copy) before validation, like the API server;
 * - `x-kubernetes-validations` run through crds/cel-rules.ts; list types
 *   `set` / `map` reject duplicates; other x-kubernetes-* are annotations.
 * Pure: takes parsed documents, returns functions.
 */
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { compileRule, type CelValidation } from './cel-rules.js';
import { parseCIDR } from './net.js';

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JsonSchema };
}

export interface CrdDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: 'Cluster' | 'Namespaced';
    names: { kind: string; plural: string; singular?: string; listKind?: string };
    versions: CrdVersion[];
  };
}

export type JsonSchema = { [keyword: string]: unknown };

export interface KindValidator {
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  validate: ValidateFunction;
}

/** The metadata every object needs: a DNS-1123 subdomain name and string maps (other fields pass). */
export const METADATA_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      maxLength: 253,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
    },
    namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

export function newAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, useDefaults: true, strictTypes: false });
  addFormats(ajv);
  ajv.addFormat('cidr', { type: 'string', validate: (s: string) => parseCIDR(s) !== undefined });
  for (const k of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource',
    'x-kubernetes-list-map-keys', 'x-kubernetes-map-type']) {
    ajv.addKeyword({ keyword: k });
  }
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    type: undefined,
    schemaType: 'array',
    post: true,
    errors: true,
    compile(rules: CelValidation[]) {
      const checks = rules.map((r) => ({ ok: compileRule(r), message: r.message ?? `failed rule: ${r.rule}` }));
      const fn = (data: unknown): boolean => {
        const failed = checks.filter((c) => !c.ok(data));
        (fn as { errors?: Partial<ErrorObject>[] }).errors = failed.map((c) => ({
          keyword: 'x-kubernetes-validations',
          message: c.message,
          params: {},
        }));
        return failed.length === 0;
      };
      return fn;
    },
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    schemaType: 'string',
    type: 'array',
    errors: true,
    compile(listType: string, parent: AnySchemaObject) {
      const keys = (parent['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
      const fn = (data: unknown[]): boolean => {
        if (listType !== 'set' && listType !== 'map') return true;
        const ids = data.map((item) => JSON.stringify(listType === 'set' ? item : keys.map((k) => (item as Record<string, unknown>)[k])));
        const dup = ids.findIndex((id, i) => ids.indexOf(id) !== i);
        (fn as { errors?: Partial<ErrorObject>[] }).errors = dup < 0 ? [] : [{
          keyword: 'x-kubernetes-list-type',
          message: `Duplicate value: ${ids[dup]}`,
          params: {},
        }];
        return dup < 0;
      };
      return fn;
    },
  });
  return ajv;
}

/** Adds `additionalProperties: false` wherever the API server would prune unknown fields. */
export function strictUnknownFields(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, JsonSchema>).map(([p, s]) => [p, strictUnknownFields(s)]));
    } else if ((k === 'items' || k === 'additionalProperties') && v && typeof v === 'object') {
      out[k] = strictUnknownFields(v as JsonSchema);
    } else {
      out[k] = v;
    }
  }
  if (out.properties !== undefined && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

/** The ajv schema for one served version of a CRD: its schema, strict, with apiVersion/kind/metadata pinned. */
export function objectSchema(crd: CrdDocument, version: CrdVersion): JsonSchema {
  const root = version.schema?.openAPIV3Schema;
  if (!root) throw new Error(`CRD ${crd.metadata.name} version ${version.name} has no openAPIV3Schema`);
  const strict = strictUnknownFields(root);
  const props = { ...(strict.properties as Record<string, JsonSchema>) };
  props.apiVersion = { type: 'string', const: `${crd.spec.group}/${version.name}` };
  props.kind = { type: 'string', const: crd.spec.names.kind };
  props.metadata = METADATA_SCHEMA;
  const required = new Set([...(strict.required as string[] | undefined ?? []), 'apiVersion', 'kind', 'metadata']);
  return { ...strict, properties: props, required: [...required] };
}

export function compileCrds(ajv: Ajv, crds: CrdDocument[]): KindValidator[] {
  const out: KindValidator[] = [];
  for (const crd of crds) {
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      out.push({
        kind: crd.spec.names.kind,
        apiVersion: `${crd.spec.group}/${v.name}`,
        namespaced: crd.spec.scope === 'Namespaced',
        validate: ajv.compile(objectSchema(crd, v)),
      });
    }
  }
  return out;
}

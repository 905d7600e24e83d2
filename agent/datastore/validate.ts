import { parseSelector, SelectorError } from '../ipam/selector.js';
import { describeObject, kindInfo, type Resource } from './resources.js';

export interface FieldError {
  path: string;
  message: string;
}

/** `object`, when given, is the validated object with schema defaults applied. */
export type ValidationResult = { ok: true; object?: unknown } | { ok: false; errors: FieldError[] };

/** Validates one object against its kind's schema. */
export type ObjectValidator = (obj: unknown) => ValidationResult;

/** The selector fields of margay's kinds (Calico selector expressions, agent/ipam/selector.ts). */
const SELECTOR_FIELDS: Readonly<Record<string, readonly string[]>> = {
  IPPool: ['nodeSelector'],
  BGPPeer: ['nodeSelector', 'peerSelector'],
};

/**
 * What margay checks beyond the CRD schemas, as Calico's validation does on admission
 * (CEL cannot parse a selector): every selector field parses. (A BGPPeer with both
 * peerSelector and asNumber is the CRD's own rule, so the API server refuses it too.)
 * Fields of the wrong type are left to the schema. Pure.
 */
export function checkSemantics(obj: unknown): FieldError[] {
  const o = (typeof obj === 'object' && obj !== null ? obj : {}) as { apiVersion?: unknown; kind?: unknown; spec?: unknown };
  if (o.apiVersion !== 'margay.io/v1' || typeof o.kind !== 'string') return [];
  const spec = (typeof o.spec === 'object' && o.spec !== null ? o.spec : {}) as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const field of SELECTOR_FIELDS[o.kind] ?? []) {
    const text = spec[field];
    if (typeof text !== 'string') continue;
    try {
      parseSelector(text);
    } catch (e) {
      const reason = e instanceof SelectorError ? e.reason : String(e);
      errors.push({ path: `spec.${field}`, message: `Invalid value: ${JSON.stringify(text)}: not a valid selector: ${reason}` });
    }
  }
  return errors;
}

/**
 * `validate` (a schema check), then checkSemantics on the object it returns: the
 * validator both datastores and `margay validate` use, so that an object with a bad
 * selector is rejected like one failing its schema (an invalid edit keeps the last
 * good version in the file datastore).
 */
export function withSemanticChecks(validate: ObjectValidator): ObjectValidator {
  return (obj) => {
    const r = validate(obj);
    if (!r.ok) return { ok: false, errors: [...r.errors, ...checkSemantics(obj)] };
    const errors = checkSemantics(r.object ?? obj);
    return errors.length === 0 ? r : { ok: false, errors };
  };
}

/**
 * The checks every object gets before its schema: an object with a kind margay
 * reads, the matching apiVersion, and a metadata.name (and namespace for
 * namespaced kinds, defaulted to "default" as kubectl does).
 */
export function checkEnvelope(obj: unknown): { ok: true; resource: Resource } | { ok: false; object: string; errors: FieldError[] } {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return { ok: false, object: '(not an object)', errors: [{ path: '', message: 'a manifest document must be a mapping' }] };
  }
  const o = obj as Record<string, unknown>;
  const meta = (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : undefined) as Record<string, unknown> | undefined;
  const name = typeof meta?.name === 'string' ? meta.name : undefined;
  // `namespace: ""` is the same as no namespace (the API server reads it so)
  const namespace = typeof meta?.namespace === 'string' && meta.namespace !== '' ? meta.namespace : undefined;
  const kind = typeof o.kind === 'string' ? o.kind : undefined;
  const label = describeObject(kind, { name, namespace });
  const errors: FieldError[] = [];
  const info = kind === undefined ? undefined : kindInfo(kind);
  if (kind === undefined) errors.push({ path: 'kind', message: 'is required' });
  else if (!info) errors.push({ path: 'kind', message: `"${kind}" is not a kind margay reads` });
  if (info && o.apiVersion !== info.apiVersion) {
    errors.push({ path: 'apiVersion', message: `must be "${info.apiVersion}" for ${info.kind}, got ${JSON.stringify(o.apiVersion)}` });
  }
  if (!meta) errors.push({ path: 'metadata', message: 'is required' });
  else if (name === undefined || name === '') errors.push({ path: 'metadata.name', message: 'is required' });
  else if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    errors.push({ path: 'metadata.name', message: `"${name}" is not a valid name (lowercase letters, digits, '-' and '.')` });
  }
  if (info && !info.namespaced && namespace !== undefined) {
    errors.push({ path: 'metadata.namespace', message: `${info.kind} is cluster-scoped and takes no namespace` });
  }
  if (errors.length > 0) return { ok: false, object: label, errors };
  const resource = { ...o } as Resource;
  if (info?.namespaced && namespace === undefined) resource.metadata = { ...resource.metadata, namespace: 'default' };
  else if (meta?.namespace === '') {
    const { namespace: _empty, ...rest } = resource.metadata;
    resource.metadata = rest;
  }
  return { ok: true, resource };
}

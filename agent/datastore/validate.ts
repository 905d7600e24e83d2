import { describeObject, kindInfo, type Resource } from './resources.js';

export interface FieldError {
  path: string;
  message: string;
}

/** `object`, when given, is the validated object with schema defaults applied. */
export type ValidationResult = { ok: true; object?: unknown } | { ok: false; errors: FieldError[] };

/** Validates one object against its kind's schema. */
export type ObjectValidator = (obj: unknown) => ValidationResult;

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

/**
 * The one source of truth for object schemas: the CRD YAML files in this folder
 * (also shipped, byte for byte, in the Helm chart's crds/). `validateObject` checks
 * any object margay reads — its own kinds against the CRD schemas, NetworkPolicy,
 * Node, Namespace and Pod against the Kubernetes API schemas — and returns field
 * errors or the object with the CRD defaults applied (a copy; the input is not
 * touched). The CRD files are read once, on first use. The directory is this
 * module's own (crds/ when run from source; ../../crds from dist/crds), or
 * $MARGAY_CRDS_DIR.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { compileCrds, newAjv, METADATA_SCHEMA, type CrdDocument, type KindValidator } from './compile.js';
import { CORE_KINDS } from './core-kinds.js';
import { sortErrors, toFieldError, valueAtPointer, type AjvLikeError, type FieldError } from './errors.js';
import { rootTypeName, unknownFields, type TypeLookup } from './unknown-fields.js';

export type { FieldError } from './errors.js';
export type { CrdDocument } from './compile.js';
export type { TypeLookup } from './unknown-fields.js';

export interface ValidateOptions {
  /**
   * A type table for Kubernetes' own kinds (crds/client-node-types.ts): with it,
   * fields NetworkPolicy/Node/Namespace/Pod do not have are errors, as in kubectl's
   * strict field validation. margay's own kinds always get that from their CRDs.
   */
  types?: TypeLookup;
}

export type ValidationResult =
  | { ok: true; kind: string; object: Record<string, unknown> }
  | { ok: false; kind?: string; errors: FieldError[] };

/** The directory holding the CRD YAML files. */
export function crdDir(): string {
  if (process.env.MARGAY_CRDS_DIR) return process.env.MARGAY_CRDS_DIR;
  const here = dirname(fileURLToPath(import.meta.url));
  const hasCrds = (d: string) => existsSync(d) && readdirSync(d).some((f) => /^margay\.io_.*\.yaml$/.test(f));
  const fromDist = join(here, '..', '..', 'crds');
  return hasCrds(here) ? here : fromDist;
}

/** The CRD files (sorted), e.g. margay.io_ippools.yaml. */
export function crdFiles(dir = crdDir()): string[] {
  return readdirSync(dir).filter((f) => /^margay\.io_.*\.yaml$/.test(f)).sort().map((f) => join(dir, f));
}

export function loadCrds(dir = crdDir()): CrdDocument[] {
  return crdFiles(dir).map((file) => {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    if (docs.length !== 1) throw new Error(`${file}: expected exactly one CRD document, found ${docs.length}`);
    const doc = docs[0]!;
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    return doc.toJS() as CrdDocument;
  });
}

let validators: KindValidator[] | undefined;
let metadataCheck: ((m: unknown) => boolean) & { errors?: unknown } | undefined;

function margayValidators(): KindValidator[] {
  if (!validators) {
    const ajv = newAjv();
    validators = compileCrds(ajv, loadCrds());
    metadataCheck = ajv.compile(METADATA_SCHEMA);
  }
  return validators;
}

/** Every kind validateObject knows, as "apiVersion kind". */
export function knownKinds(): { apiVersion: string; kind: string; namespaced: boolean }[] {
  return [...margayValidators(), ...CORE_KINDS].map(({ apiVersion, kind, namespaced }) => ({ apiVersion, kind, namespaced }));
}

function fieldErrors(errs: AjvLikeError[], root: unknown): FieldError[] {
  return sortErrors(errs.map((e) => toFieldError(e, (p) => valueAtPointer(root, p))));
}

export function validateObject(obj: unknown, opts: ValidateOptions = {}): ValidationResult {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    return { ok: false, errors: [{ path: '', message: 'must be an object with apiVersion, kind and metadata' }] };
  }
  const o = obj as Record<string, unknown>;
  const { kind, apiVersion } = o;
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
    const errors: FieldError[] = [];
    if (typeof apiVersion !== 'string') errors.push({ path: 'apiVersion', message: 'Required value' });
    if (typeof kind !== 'string') errors.push({ path: 'kind', message: 'Required value' });
    return { ok: false, errors };
  }
  const mine = margayValidators().filter((v) => v.kind === kind);
  const core = CORE_KINDS.filter((c) => c.kind === kind);
  const copy = structuredClone(o);
  const byVersion = mine.find((v) => v.apiVersion === apiVersion);
  if (byVersion) {
    if (byVersion.validate(copy)) return { ok: true, kind, object: copy };
    return { ok: false, kind, errors: fieldErrors((byVersion.validate.errors ?? []) as AjvLikeError[], o) };
  }
  const c = core.find((x) => x.apiVersion === apiVersion);
  if (c) {
    const errs = c.check(copy);
    // The Kubernetes OpenAPI does not require metadata.name; the API server does.
    if (!metadataCheck!(copy.metadata ?? {})) {
      errs.push(...(((metadataCheck as { errors?: AjvLikeError[] }).errors ?? []).map((e) => ({ ...e, instancePath: `/metadata${e.instancePath}` }))));
    }
    if (copy.metadata === undefined) errs.push({ instancePath: '', keyword: 'required', params: { missingProperty: 'metadata' } });
    const unknown = opts.types ? unknownFields(o, rootTypeName(apiVersion, kind), opts.types) : [];
    if (errs.length === 0 && unknown.length === 0) return { ok: true, kind, object: copy };
    return { ok: false, kind, errors: sortErrors([...fieldErrors(errs, o), ...unknown]) };
  }
  const versions = [...mine, ...core].map((v) => v.apiVersion);
  if (versions.length > 0) {
    return { ok: false, kind, errors: [{ path: 'apiVersion', message: `Unsupported value: "${apiVersion}": ${kind} is served as ${versions.join(', ')}` }] };
  }
  const all = knownKinds().map((k) => k.kind).join(', ');
  return { ok: false, kind, errors: [{ path: 'kind', message: `Unsupported value: "${kind}": margay validates ${all}` }] };
}

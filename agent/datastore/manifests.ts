import { parseAllDocuments } from 'yaml';
import { checkEnvelope, type FieldError, type ObjectValidator } from './validate.js';
import { describeObject, objectKey, type Resource } from './resources.js';

export interface ParsedRejection {
  object: string;
  errors: FieldError[];
  /**
   * `kind/namespace/name` of an object whose envelope is sound but which failed the
   * schema: a reader may keep that object's last good version (an invalid edit).
   */
  id?: string;
}

/** The identity of an object across reads: `kind/namespace/name`. */
export function objectId(r: Pick<Resource, 'kind' | 'metadata'>): string {
  return `${r.kind}/${objectKey(r.metadata)}`;
}

export interface ParsedManifest {
  resources: Resource[];
  rejected: ParsedRejection[];
  /** A document had YAML syntax errors: the text is likely half-written or mistyped. */
  syntaxError: boolean;
}

/**
 * Parses a multi-document YAML (or JSON) manifest into the objects margay reads.
 * List documents (`kind: List`, `NetworkPolicyList`…) are unrolled. Each object is checked (envelope, then the
 * schema validator); an invalid one is reported with its field paths (and its
 * identity when it has one, `id`) and left out, the others are kept. A document with YAML syntax errors is reported and flags
 * `syntaxError`, so a reader can keep the file's last good state instead (a
 * half-written file must not withdraw its objects). Pure: text in, values out.
 */
export function parseManifest(text: string, validate?: ObjectValidator): ParsedManifest {
  const out: ParsedManifest = { resources: [], rejected: [], syntaxError: false };
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, index) => {
    const where = `document ${index + 1}`;
    if (doc.errors.length > 0) {
      out.syntaxError = true;
      out.rejected.push({ object: where, errors: doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]}` })) });
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // empty document
    const items = listItems(value) ?? [value];
    for (const item of items) addObject(out, item, where, validate);
  });
  return out;
}

/**
 * The items of a list document — `kind: List` or any `XxxList` (NetworkPolicyList,
 * IPPoolList…) with an `items` array, as kubectl accepts — or undefined for an
 * object. `margay validate` uses the same test, so both accept the same files.
 */
export function listItems(v: unknown): unknown[] | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { kind?: unknown; items?: unknown };
  return typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items) ? (o.items as unknown[]) : undefined;
}

function addObject(out: ParsedManifest, item: unknown, where: string, validate?: ObjectValidator): void {
  const env = checkEnvelope(item);
  if (!env.ok) {
    out.rejected.push({ object: `${env.object} (${where})`, errors: env.errors });
    return;
  }
  const r = validate ? validate(env.resource) : { ok: true as const };
  if (!r.ok) {
    out.rejected.push({ object: `${describeObject(env.resource.kind, env.resource.metadata)} (${where})`, errors: r.errors, id: objectId(env.resource) });
    return;
  }
  out.resources.push(r.object !== undefined ? (r.object as Resource) : env.resource);
}

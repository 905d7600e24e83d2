/**
 * `margay validate`: manifests (files, directories, or "-" for stdin; multi-document
 * YAML or JSON; `kind: List` expanded) checked against margay's CRD schemas and the
 * Kubernetes API schemas, through crds/schemas.ts — the same validation the agent
 * applies to what it reads, with its selector checks (agent/datastore/validate.ts
 * checkSemantics) — and, for a NetworkPolicy that fits the API schema,
 * the policy compiler's semantic checks (policy/model/validate.ts: ipBlock except
 * inside cidr, port ranges, selector operators, ...). Produces one finding per field
 * error, each naming the file, line, document, object and field path.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { validateObject, type FieldError, type TypeLookup, type ValidationResult } from '../../crds/schemas.js';
import { validatePolicy } from '../../policy/model/validate.js';
import { listItems } from '../datastore/manifests.js';
import { checkSemantics } from '../datastore/validate.js';

export interface Finding {
  file: string;
  /** 1-based document number within the file */
  document: number;
  /** 1-based line where the document (or List item) starts */
  line: number;
  /** "IPPool default-ipv4", "NetworkPolicy prod/deny-all", or "(unknown object)" */
  object: string;
  path: string;
  message: string;
}

export interface ValidateReport {
  files: number;
  objects: number;
  invalidObjects: number;
  findings: Finding[];
}

const MANIFEST = /\.(ya?ml|json)$/i;

/** Expands directories (recursively, sorted) to their .yaml/.yml/.json files. */
export function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    if (statSync(p).isDirectory()) {
      const entries = readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
      out.push(...expandPaths(entries.filter((e) => e.isDirectory() || MANIFEST.test(e.name)).map((e) => join(p, e.name))));
    } else {
      out.push(p);
    }
  }
  return out;
}

function describe(obj: unknown): string {
  if (obj === null || typeof obj !== 'object') return '(not an object)';
  const o = obj as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const kind = typeof o.kind === 'string' ? o.kind : '(no kind)';
  const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '(no name)';
  const ns = typeof o.metadata?.namespace === 'string' ? `${o.metadata.namespace}/` : '';
  return `${kind} ${ns}${name}`;
}

interface Item {
  value: unknown;
  line: number;
  prefix: string;
}

/** A List (kind: List or *List with items) becomes its items; anything else is itself. */
function itemsOf(value: unknown, line: number): Item[] {
  const items = listItems(value);
  return items ? items.map((v, i) => ({ value: v, line, prefix: `items[${i}]` })) : [{ value, line, prefix: '' }];
}

/** Schema validation, then the agent's selector checks for margay kinds and the policy compiler's own checks for a NetworkPolicy. */
export function checkObject(value: unknown, types?: TypeLookup): ValidationResult {
  const r = validateObject(withoutEmptyNamespace(value), types ? { types } : {});
  const semantic = checkSemantics(value);
  if (semantic.length > 0) return { ok: false, ...(r.kind !== undefined ? { kind: r.kind } : {}), errors: [...(r.ok ? [] : r.errors), ...semantic] };
  if (!r.ok || r.kind !== 'NetworkPolicy') return r;
  const p = validatePolicy(r.object);
  return p.ok ? r : { ok: false, kind: r.kind, errors: p.errors };
}

/** `metadata.namespace: ""` means no namespace, as in the agent (agent/datastore/validate.ts). */
function withoutEmptyNamespace(value: unknown): unknown {
  const o = value as { metadata?: { namespace?: unknown } } | null;
  if (!o || typeof o !== 'object' || typeof o.metadata !== 'object' || o.metadata === null || o.metadata.namespace !== '') return value;
  const { namespace: _empty, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/** Validates the text of one file. */
export function validateText(file: string, text: string, types?: TypeLookup): { objects: number; invalidObjects: number; findings: Finding[] } {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  const findings: Finding[] = [];
  let objects = 0;
  let invalidObjects = 0;
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const document = i + 1;
    const start = lc.linePos(doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0).line;
    if (doc.errors.length > 0) {
      objects++;
      invalidObjects++;
      for (const err of doc.errors) {
        const line = lc.linePos(err.pos[0]).line;
        findings.push({ file, document, line, object: '(unparsable YAML)', path: '', message: err.message.split('\n')[0] ?? err.message });
      }
      return;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) return; // an empty document ("---" at the end)
    for (const item of itemsOf(value, start)) {
      objects++;
      const r = checkObject(item.value, types);
      if (r.ok) continue;
      invalidObjects++;
      const object = describe(item.value);
      for (const e of r.errors as FieldError[]) {
        const path = item.prefix && e.path ? `${item.prefix}.${e.path}` : item.prefix || e.path;
        findings.push({ file, document, line: item.line, object, path, message: e.message });
      }
    }
  });
  return { objects, invalidObjects, findings };
}

export function validateFiles(paths: string[], readStdin: () => string, types?: TypeLookup): ValidateReport {
  const files = expandPaths(paths);
  const report: ValidateReport = { files: files.length, objects: 0, invalidObjects: 0, findings: [] };
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
    } catch (err) {
      report.findings.push({ file, document: 0, line: 0, object: '(file)', path: '', message: (err as Error).message });
      continue;
    }
    const r = validateText(file === '-' ? '(stdin)' : file, text, types);
    report.objects += r.objects;
    report.invalidObjects += r.invalidObjects;
    report.findings.push(...r.findings);
  }
  return report;
}

/** "examples/x.yaml:3: document 1, IPPool pool-a: spec.blockSize: Invalid value: ..." */
export function formatFinding(f: Finding): string {
  const where = f.line > 0 ? `${f.file}:${f.line}` : f.file;
  const doc = f.document > 0 ? `document ${f.document}, ` : '';
  return `${where}: ${doc}${f.object}: ${f.path ? `${f.path}: ` : ''}${f.message}`;
}

export function summary(r: ValidateReport): string {
  const errs = r.findings.length;
  const files = `${r.files} file${r.files === 1 ? '' : 's'}`;
  if (errs === 0) return `ok: ${r.objects} object${r.objects === 1 ? '' : 's'} in ${files} valid`;
  return `invalid: ${errs} error${errs === 1 ? '' : 's'} in ${r.invalidObjects} of ${r.objects} object${r.objects === 1 ? '' : 's'} (${files})`;
}

/**
 * Turning ajv errors into field errors people can act on: a dotted field path
 * (spec.peers[0].asNumber, spec.block["10.0.0.0/26"]) and a message in the style of
 * the Kubernetes API server ("Required value", "Unsupported value: ..."). Pure.
 */

export interface FieldError {
  /** dotted path from the object root; "" for the object itself */
  path: string;
  message: string;
}

/** The subset of ajv's ErrorObject this module reads (ajv and kubernetes-models both produce it). */
export interface AjvLikeError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

export function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function joinPath(base: string, key: string): string {
  return pointerToPath(`${base}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

export function toFieldError(e: AjvLikeError, valueAt: (pointer: string) => unknown): FieldError {
  const p = e.params;
  const here = pointerToPath(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return { path: joinPath(e.instancePath, String(p.missingProperty)), message: 'Required value' };
    case 'additionalProperties':
      return { path: joinPath(e.instancePath, String(p.additionalProperty)), message: 'unknown field' };
    case 'enum':
      return {
        path: here,
        message: `Unsupported value: ${show(valueAt(e.instancePath))}: supported values: ${(p.allowedValues as unknown[]).map(show).join(', ')}`,
      };
    case 'const':
      return { path: here, message: `Unsupported value: ${show(valueAt(e.instancePath))}: must be ${show(p.allowedValue)}` };
    case 'type':
      return { path: here, message: `Invalid value: ${show(valueAt(e.instancePath))}: must be ${String(p.type)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path: here, message: `Invalid value: ${show(valueAt(e.instancePath))}: ${e.message ?? e.keyword}` };
    case 'format':
      return { path: here, message: `Invalid value: ${show(valueAt(e.instancePath))}: must be a valid ${String(p.format)}` };
    case 'pattern':
      return { path: here, message: `Invalid value: ${show(valueAt(e.instancePath))}: must match ${String(p.pattern)}` };
    default:
      return { path: here, message: e.message ?? e.keyword };
  }
}

/** Reads the value a JSON pointer names (for quoting the offending value in a message). */
export function valueAtPointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Stable order: by path, then message; duplicates dropped. */
export function sortErrors(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors
    .filter((e) => {
      const k = `${e.path}\0${e.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

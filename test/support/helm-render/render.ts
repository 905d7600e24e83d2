/**
 * Renders a Helm chart for tests, like `helm template` (no helm binary exists on
 * these machines): builds the Go renderer in this folder once (cached under
 * os.tmpdir(), keyed by a hash of main.go), checks the merged values against the
 * chart's values.schema.json with ajv first (as helm does), then renders.
 * Values are given as objects (written to a temporary values file) and/or --set strings.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { pointerToPath, toFieldError, valueAtPointer, type AjvLikeError, type FieldError } from '../../../crds/errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const HERE = dirname(fileURLToPath(import.meta.url));

export interface RenderOptions {
  values?: Record<string, unknown>[];
  set?: string[];
  name?: string;
  namespace?: string;
  /** the cluster version (.Capabilities.KubeVersion), default v1.31.0 */
  kubeVersion?: string;
}

export interface RenderedObject {
  source: string;
  obj: Record<string, unknown>;
}

export interface Rendered {
  manifests: { source: string; content: string }[];
  objects: RenderedObject[];
  crds: { source: string; content: string }[];
  notes: string;
}

export class ValuesSchemaError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(`values don't meet the specifications of the schema:\n${errors.map((e) => `- ${e.path}: ${e.message}`).join('\n')}`);
    this.name = 'ValuesSchemaError';
  }
}

export class RenderError extends Error {}

/** Builds (or reuses) the renderer binary and returns its path. */
export function helmRenderBinary(): string {
  const source = readFileSync(join(HERE, 'main.go'));
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `margay-helm-render-${hash}`);
  const bin = join(dir, 'helm-render');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, 'build-'));
  try {
    execFileSync('go', ['build', '-o', join(tmp, 'helm-render'), '.'], {
      cwd: HERE,
      env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '', GOCACHE: join(dir, 'gocache') },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    renameSync(join(tmp, 'helm-render'), bin); // atomic: parallel test files may race here
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

function runRenderer(args: string[]): string {
  const r = spawnSync(helmRenderBinary(), args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new RenderError((r.stderr || r.error?.message || 'helm-render failed').trim());
  return r.stdout;
}

/** Checks values (already merged) against the chart's values.schema.json, helm-style. */
export function checkValuesSchema(chartDir: string, values: unknown): FieldError[] {
  const schemaPath = join(chartDir, 'values.schema.json');
  if (!existsSync(schemaPath)) return [];
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);
  if (validate(values)) return [];
  const errors = (validate.errors ?? []) as (AjvLikeError & { schemaPath: string; parentSchema?: { description?: string } })[];
  // A failed anyOf/not is reported once, with the description of the schema that
  // failed, instead of one message per branch.
  const combined = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'not');
  const insideCombined = (e: (typeof errors)[number]) =>
    combined.some((c) => c !== e && e.instancePath === c.instancePath && e.schemaPath.startsWith(c.schemaPath.replace(/\/(anyOf|not)$/, '/')));
  return errors
    .filter((e) => !insideCombined(e))
    .map((e) => {
      const described = (e.keyword === 'anyOf' || e.keyword === 'not') && e.parentSchema?.description;
      if (described) {
        const v = valueAtPointer(values, e.instancePath);
        const quoted = v !== null && typeof v === 'object' ? '' : `Invalid value: ${JSON.stringify(v)}: `;
        return { path: pointerToPath(e.instancePath), message: `${quoted}${described}` };
      }
      return toFieldError(e, (ptr) => valueAtPointer(values, ptr));
    });
}

export function renderChart(chartDir: string, opts: RenderOptions = {}): Rendered {
  const work = mkdtempSync(join(tmpdir(), 'margay-render-'));
  try {
    const args = [chartDir, '--name', opts.name ?? 'margay', '--namespace', opts.namespace ?? 'kube-system'];
    (opts.values ?? []).forEach((v, i) => {
      const f = join(work, `values-${i}.json`);
      writeFileSync(f, JSON.stringify(v));
      args.push('-f', f);
    });
    for (const s of opts.set ?? []) args.push('--set', s);
    if (opts.kubeVersion) args.push('--kube-version', opts.kubeVersion);
    const merged = JSON.parse(runRenderer([...args, '--values-only'])) as unknown;
    const schemaErrors = checkValuesSchema(chartDir, merged);
    if (schemaErrors.length > 0) throw new ValuesSchemaError(schemaErrors);
    const out = JSON.parse(runRenderer(args)) as Omit<Rendered, 'objects'>;
    const objects: RenderedObject[] = [];
    for (const m of out.manifests) {
      for (const doc of parseAllDocuments(m.content)) {
        if (doc.errors.length > 0) throw new RenderError(`${m.source}: rendered invalid YAML: ${doc.errors[0]!.message}`);
        const obj = doc.toJS() as unknown;
        if (obj === null || obj === undefined) continue;
        objects.push({ source: m.source, obj: obj as Record<string, unknown> });
      }
    }
    return { ...out, objects };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

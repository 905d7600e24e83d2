import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../support/cli.js';

const CHART = join(REPO_ROOT, 'charts', 'margay');
const read = (...p: string[]) => readFileSync(join(REPO_ROOT, ...p), 'utf8');

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; $ref?: string };

/** Every value path the schema defines: leaves, free-form maps and lists, and list-item fields as `list[].field`. */
function valuePaths(schema: Schema & { definitions?: Record<string, Schema> }): string[] {
  const resolve = (n: Schema): Schema => (n.$ref ? schema.definitions![n.$ref.split('/').pop()!]! : n);
  const out: string[] = [];
  const walk = (raw: Schema, path: string): void => {
    const n = resolve(raw);
    if (n.type === 'object' && n.properties) {
      for (const [k, v] of Object.entries(n.properties)) walk(v, path ? `${path}.${k}` : k);
    } else if (n.type === 'array' && n.items && resolve(n.items).properties) {
      out.push(path);
      walk(n.items, `${path}[]`);
    } else {
      out.push(path);
    }
  };
  walk(schema, '');
  return out;
}

describe('chart files', () => {
  it('ships the repository CRDs byte for byte', () => {
    const repo = readdirSync(join(REPO_ROOT, 'crds')).filter((f) => f.endsWith('.yaml')).sort();
    const chart = readdirSync(join(CHART, 'crds')).sort();
    expect(repo.length).toBe(6);
    expect(chart).toEqual(repo);
    for (const f of repo) expect(read('charts', 'margay', 'crds', f), f).toBe(read('crds', f));
  });

  it('README documents every value in values.schema.json, and values.yaml sets only schema values', () => {
    const schema = JSON.parse(read('charts', 'margay', 'values.schema.json'));
    const paths = valuePaths(schema);
    expect(paths.length).toBeGreaterThan(40);
    const full = read('charts', 'margay', 'README.md');
    const start = full.indexOf('## Values');
    const readme = full.slice(start, full.indexOf('\n## ', start + 1));
    const documented = new Set([...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));
    expect(paths.filter((p) => !documented.has(p))).toEqual([]);
    expect([...documented].filter((p) => !paths.includes(p!))).toEqual([]);
    const values = parse(read('charts', 'margay', 'values.yaml')) as Record<string, unknown>;
    expect(Object.keys(values).filter((k) => !(k in schema.properties))).toEqual([]);
  });

  it('Chart.yaml is apiVersion v2 with the version of package.json', () => {
    const chart = parse(read('charts', 'margay', 'Chart.yaml'));
    const pkg = JSON.parse(read('package.json'));
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'margay', type: 'application', appVersion: pkg.version });
  });

  it('the Dockerfile builds the image the chart references, with the tools the agent drives', () => {
    const dockerfile = read('Dockerfile');
    const values = parse(read('charts', 'margay', 'values.yaml'));
    expect(dockerfile).toContain(`${values.image.repository}:<version>`);
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    // Node stages, and the Go stage that builds the static margay-cni plugin
    for (const f of froms) expect(f).toMatch(/^(node:24-[a-z]+-slim|golang:1\.\d+-bookworm)$/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    for (const pkg of ['iproute2', 'iptables', 'ipset']) expect(runtime).toMatch(new RegExp(`apt-get install [^\\n]*\\b${pkg}\\b`));
    expect(runtime).toContain('ENTRYPOINT ["node", "/app/dist/agent/cli/margay.js"]');
    const pkgJson = JSON.parse(read('package.json'));
    expect(`dist/${pkgJson.bin.margay.replace(/^dist\//, '')}`).toBe('dist/agent/cli/margay.js');
    // what the install-cni script copies out of the image must be in the image
    const script = read('charts', 'margay', 'templates', 'configmap.yaml');
    expect(script).toContain('APP="${MARGAY_APP_DIR:-/app}"');
    // the static Go plugin, built from agent/cni/go in its own stage, at the path the script copies
    expect(script).toContain('cp "$APP/dist/bin/margay-cni" "$BIN/.margay-cni.new"');
    const goStage = dockerfile.match(/^FROM golang:\S+ AS (\w+)$/m)![1]!;
    expect(dockerfile).toMatch(/^COPY agent\/cni\/go\/ \.\/$/m);
    expect(runtime).toMatch(new RegExp(`^COPY --from=${goStage} /out/margay-cni /app/dist/bin/margay-cni$`, 'm'));
    expect(dockerfile).toMatch(/CGO_ENABLED=0 .*go build .*-o \/out\/margay-cni/);
    // the chained CNI plugins (portmap, bandwidth) the conflist names: Debian's, from a
    // Debian-based stage, next to margay-cni where the install script looks for them
    const pluginStage = dockerfile.match(/^FROM (\S+) AS (\w+)\n(?:(?!FROM ).*\n)*?RUN apt-get update[^\n]*\n[^\n]*apt-get install [^\n]*\bcontainernetworking-plugins\b/m);
    expect(pluginStage, 'a stage installing containernetworking-plugins').not.toBeNull();
    expect(pluginStage![1]).toMatch(/bookworm/);
    for (const p of ['portmap', 'bandwidth']) {
      expect(runtime).toMatch(new RegExp(`^COPY --from=${pluginStage![2]} /usr/lib/cni/${p} /app/dist/bin/${p}$`, 'm'));
      expect(script).toContain('"$APP/dist/bin/$p"');
    }
    // every source folder the build needs is copied in
    for (const dir of ['agent', 'bgp', 'policy', 'crds']) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} ${dir}$`, 'm'));
  });
});

import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { margay, REPO_ROOT } from '../../../support/cli.js';

// Runs the built CLI: `npx tsc -p tsconfig.json` first.
const FIX = join(REPO_ROOT, 'test', 'unit', 'agent', 'cli', 'fixtures', 'validate');
const rel = (p: string) => relative(REPO_ROOT, p);
const run = (args: string[], input?: string) => margay(['validate', ...args], { ...(input === undefined ? {} : { input }), env: { MARGAY_LOG_LEVEL: 'error' } });

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe('margay validate', () => {
  it('accepts every example YAML in the repository', () => {
    const examples = yamlFilesUnder(join(REPO_ROOT, 'examples'));
    expect(examples.length).toBeGreaterThan(5);
    const r = margay(['validate', ...examples.map(rel)], { env: { MARGAY_LOG_LEVEL: 'error' } });
    expect(r.stdout).toMatch(new RegExp(`^ok: \\d+ objects in ${examples.length} files valid$`, 'm'));
    expect(r.status).toBe(0);
  });

  it('walks directories for .yaml/.yml/.json, expands Lists and skips empty documents', () => {
    const r = run([rel(join(FIX, 'good'))]);
    expect(r.stdout).toBe('ok: 4 objects in 2 files valid\n');
    expect(r.status).toBe(0);
  });

  it('names file, line, document, object and field path for every error, then a summary; exit 1', () => {
    const f = rel(join(FIX, 'bad', 'mixed.yaml'));
    const r = run([f]);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      `${f}:8: document 2, IPPool broken: spec: blockSize must be 20-32 for an IPv4 pool and 116-128 for an IPv6 pool`,
      `${f}:8: document 2, IPPool broken: spec: cidr is smaller than one block: its prefix length must not exceed blockSize (26 for IPv4, 122 for IPv6 when absent)`,
      `${f}:8: document 2, IPPool broken: spec.blockSize: Invalid value: -4: must be >= 0`,
      `${f}:8: document 2, IPPool broken: spec.ipipMode: Unsupported value: "Sometimes": supported values: "Always", "CrossSubnet", "Never"`,
      `${f}:17: document 3, BGPPeer far-away: spec.asNumber: Invalid value: 4294967296: must be <= 4294967295`,
      `${f}:25: document 4, NetworkPolicy prod/typo: spec.policyTypes[0]: Unsupported value: "Ingres": supported values: "Egress", "Ingress"`,
      'invalid: 6 errors in 3 of 4 objects (1 file)',
      '',
    ]);
  });

  it('adds the policy compiler\'s semantic checks for a NetworkPolicy that fits the API schema', () => {
    const f = rel(join(FIX, 'bad', 'policy-semantics.yaml'));
    const r = run([f]);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      `${f}:2: document 1, NetworkPolicy prod/odd: spec.podSelector.matchExpressions[0].values: must be specified when operator is In`,
      `${f}:2: document 1, NetworkPolicy prod/odd: spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset of cidr 10.0.0.0/16`,
      'invalid: 2 errors in 1 of 1 object (1 file)',
      '',
    ]);
  });

  it('reports unknown (misspelt) fields, for Kubernetes kinds and margay kinds alike', () => {
    const f = rel(join(FIX, 'bad', 'typos.yaml'));
    const r = run([f]);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      `${f}:1: document 1, NetworkPolicy prod/allow-web: spec.ingres: unknown field`,
      `${f}:12: document 2, IPPool pool: spec.natOutgoin: unknown field`,
      'invalid: 2 errors in 2 of 2 objects (1 file)',
      '',
    ]);
  });

  it('reports unparsable YAML with its line, and keeps going with the other files', () => {
    const bad = rel(join(FIX, 'bad', 'unparsable.yaml'));
    const good = rel(join(FIX, 'good', 'pools.yaml'));
    const r = run([bad, good]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${bad.replace(/\./g, '\\.')}:\\d+: document 1, \\(unparsable YAML\\): `, 'm'));
    expect(r.stdout).toMatch(/^invalid: \d+ errors? in 1 of 4 objects \(2 files\)$/m);
  });

  it('reads stdin for "-" and prints a JSON report with --json', () => {
    const doc = 'apiVersion: margay.io/v1\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {listenPort: 0}\n';
    const r = run(['--json', '-'], doc);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, files: 1, objects: 1, invalidObjects: 1 });
    expect(report.findings).toEqual([{
      file: '(stdin)', document: 1, line: 1, object: 'BGPConfiguration default', path: 'spec.listenPort', message: 'Invalid value: 0: must be >= 1',
    }]);
  });

  it('is a usage error (exit 2) with no files, or a file that does not exist', () => {
    expect(run([]).status).toBe(2);
    const r = run(['no/such/file.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no/such/file.yaml');
  });
});

describe('validate and the agent accept the same lists', () => {
  const policy = (name: string) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'x' }, spec: { podSelector: {} } });
  const cases: [string, string, number][] = [
    ['kind: List', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [policy('a')] }), 1],
    ['a NetworkPolicyList', JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicyList', items: [policy('a'), policy('b')] }), 2],
    ['a List item that is invalid', JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicyList', items: [policy('a'), { ...policy('B_') }] }), 1],
  ];
  it.each(cases)('%s: same valid-object count from validateText and parseManifest (with the agent validator)', async (_label, text, valid) => {
    const { validateText } = await import('../../../../agent/cli/validate.js');
    const { parseManifest } = await import('../../../../agent/datastore/manifests.js');
    const { validator } = await import('../../../../agent/node/main.js');
    const cli = validateText('l.yaml', text);
    const agent = parseManifest(text, validator);
    expect(agent.resources).toHaveLength(valid);
    expect(cli.objects - cli.invalidObjects).toBe(valid);
    expect(agent.rejected).toHaveLength(cli.invalidObjects);
  });
});

describe('validate reads `namespace: ""` as the agent does', () => {
  it('accepts it on a namespaced and a cluster-scoped kind', async () => {
    const { validateText } = await import('../../../../agent/cli/validate.js');
    const text = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ""}\nspec: {podSelector: {}}\n---\napiVersion: margay.io/v1\nkind: IPPool\nmetadata: {name: pool, namespace: ""}\nspec: {cidr: 10.244.0.0/16}\n';
    const r = validateText('x.yaml', text);
    expect(r.findings).toEqual([]);
    expect(r.objects).toBe(2);
  });
});

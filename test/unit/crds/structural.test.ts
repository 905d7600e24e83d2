import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { crdFiles, loadCrds } from '../../../crds/schemas.js';
import { CEL_RULES } from '../../../crds/cel-rules.js';
import { checkCrd } from './structural-rules.js';
import { newAjv, strictUnknownFields, type JsonSchema } from '../../../crds/compile.js';

/** Every schema node with a default, and whether the default validates against its node (the API server requires it). */
function badDefaults(root: unknown, path = ''): string[] {
  const out: string[] = [];
  const walk = (n: unknown, p: string): void => {
    if (Array.isArray(n)) return n.forEach((x, i) => walk(x, `${p}[${i}]`));
    if (!n || typeof n !== 'object') return;
    const node = n as JsonSchema;
    if ('default' in node && typeof node.type === 'string') {
      const { default: _d, ...withoutDefault } = node;
      const validate = newAjv().compile(strictUnknownFields(withoutDefault));
      if (!validate(structuredClone(node.default))) out.push(`${p}: default ${JSON.stringify(node.default)} is invalid: ${validate.errors?.[0]?.message}`);
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'default') walk(v, `${p}.${k}`);
  };
  walk(root, path);
  return out;
}

const KINDS = ['BGPConfiguration', 'BGPPeer', 'BlockAffinity', 'IPAMBlock', 'IPAMHandle', 'IPPool'];

describe('CRD files', () => {
  const files = crdFiles();

  it('has one file per kind, one document each, all margay.io/v1 and cluster-scoped', () => {
    expect(files.length).toBe(KINDS.length);
    const crds = loadCrds();
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual(KINDS);
    for (const c of crds) {
      expect(c.spec.group).toBe('margay.io');
      expect(c.spec.scope).toBe('Cluster');
      expect(c.spec.versions.map((v) => v.name)).toEqual(['v1']);
    }
  });

  it.each(files)('%s satisfies the apiextensions v1 structural-schema rules', (file) => {
    expect(checkCrd(parse(readFileSync(file, 'utf8')))).toEqual([]);
  });

  it('every default is valid against its own schema, and there are defaults to check', () => {
    const crds = loadCrds();
    expect(badDefaults(crds)).toEqual([]);
    const count = JSON.stringify(crds).match(/"default":/g)?.length ?? 0;
    expect(count).toBeGreaterThan(5);
    const broken = structuredClone(crds.find((c) => c.spec.names.kind === 'IPPool')!) as Json;
    broken.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.ipipMode.default = 'Sometimes';
    broken.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.natOutgoing.default = 'yes';
    expect(badDefaults(broken).length).toBe(2);
  });

  it('every CEL rule in the CRDs has a predicate, and every predicate is used', () => {
    const used = new Set<string>();
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (n && typeof n === 'object') {
        for (const [k, v] of Object.entries(n)) {
          if (k === 'x-kubernetes-validations') for (const r of v as { rule: string }[]) used.add(r.rule);
          walk(v);
        }
      }
    };
    walk(loadCrds());
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((r) => !(r in CEL_RULES))).toEqual([]);
    expect(Object.keys(CEL_RULES).filter((r) => !used.has(r))).toEqual([]);
  });

  it('IPPool prints CIDR, IPIP, VXLAN and NAT columns and has a status subresource', () => {
    const pool = loadCrds().find((c) => c.spec.names.kind === 'IPPool')!;
    const v = pool.spec.versions[0] as unknown as { additionalPrinterColumns: { name: string; jsonPath: string }[]; subresources: object };
    expect(v.additionalPrinterColumns.map((c) => [c.name, c.jsonPath]).slice(0, 4)).toEqual([
      ['CIDR', '.spec.cidr'], ['IPIP', '.spec.ipipMode'], ['VXLAN', '.spec.vxlanMode'], ['NAT', '.spec.natOutgoing'],
    ]);
    expect(v.subresources).toHaveProperty('status');
  });
});

// Mutating parsed YAML in place: the test needs untyped access.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('the structural-schema checker catches violations', () => {
  const base = (): Json => parse(readFileSync(crdFiles().find((f) => f.endsWith('ippools.yaml'))!, 'utf8'));
  const spec = (crd: Json): Json => crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;

  const cases: [string, (c: Json) => void, RegExp][] = [
    ['a field without type', (c) => { delete spec(c).properties.cidr.type; }, /properties\.cidr: type must be set/],
    ['properties with additionalProperties', (c) => { spec(c).additionalProperties = { type: 'string' }; }, /mutually exclusive/],
    ['additionalProperties: false', (c) => { spec(c).properties.extra = { type: 'object', additionalProperties: false }; }, /must not be false/],
    ['type inside anyOf', (c) => { spec(c).anyOf = [{ type: 'object' }]; }, /type is not allowed inside/],
    ['a field only inside oneOf', (c) => { spec(c).oneOf = [{ properties: { ghost: { type: 'string' } } }]; }, /ghost: must also be specified outside/],
    ['metadata restrictions beyond name', (c) => { c.spec.versions[0].schema.openAPIV3Schema.properties.metadata = { type: 'object', properties: { labels: { type: 'object' } } }; }, /only name and generateName/],
    ['list-type on a string', (c) => { spec(c).properties.cidr['x-kubernetes-list-type'] = 'set'; }, /only for arrays/],
    ['an unknown format', (c) => { spec(c).properties.cidr.format = 'cidr-ish'; }, /format cidr-ish/],
    ['uniqueItems', (c) => { spec(c).properties.tags = { type: 'array', items: { type: 'string' }, uniqueItems: true }; }, /uniqueItems/],
    ['a wrong CRD name', (c) => { c.metadata.name = 'pools.margay.io'; }, /metadata.name must be ippools.margay.io/],
    ['two storage versions', (c) => { c.spec.versions.push({ ...c.spec.versions[0], name: 'v2' }); }, /exactly one version/],
    ['a printer column with a bad path', (c) => { c.spec.versions[0].additionalPrinterColumns[0].jsonPath = 'spec.cidr'; }, /jsonPath must start/],
    ['$ref', (c) => { spec(c).properties.cidr = { $ref: '#/x' }; }, /\$ref is forbidden/],
  ];
  it.each(cases)('rejects %s', (_name, mutate, want) => {
    const crd = base();
    expect(checkCrd(crd)).toEqual([]);
    mutate(crd);
    const v = checkCrd(crd);
    expect(v.join('\n')).toMatch(want);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CEL_RULES } from '../../../crds/cel-rules.js';
import { validateObject } from '../../../crds/schemas.js';

// IPPool spec.cidr and spec.blockSize cannot change (as Calico's IPPool): IPAM blocks
// were carved from them, and blocks of two sizes over one range would hand out one
// address twice. The API server enforces it with CEL transition rules (oldSelf);
// margay's own validator checks single objects (creates), where such rules never run.
interface Validation { rule: string; message?: string }
const crd = parse(readFileSync(join(import.meta.dirname, '../../../crds/margay.io_ippools.yaml'), 'utf8')) as {
  spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { 'x-kubernetes-validations': Validation[] } } } } }[] };
};
const specRules = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'];
const transition = specRules.filter((r) => r.rule.includes('oldSelf'));
const check = (rule: Validation, spec: object, old: object): boolean => (CEL_RULES[rule.rule] as (s: unknown, o?: unknown) => boolean)(spec, old);
const failing = (spec: object, old: object): string[] => transition.filter((r) => !check(r, spec, old)).map((r) => r.message ?? r.rule);

describe('IPPool: cidr and blockSize are immutable', () => {
  it('has transition rules on spec, each with a message', () => {
    expect(transition.length).toBe(2);
    for (const r of transition) expect(r.message).toMatch(/cannot be changed/);
  });

  it('rejects a changed cidr or blockSize, counting an absent blockSize as its family default', () => {
    const v4 = { cidr: '10.0.0.0/24', ipipMode: 'Never', vxlanMode: 'Never' };
    expect(failing({ ...v4, cidr: '10.1.0.0/24' }, v4)).toEqual([expect.stringMatching(/^cidr cannot be changed/)]);
    expect(failing({ ...v4, blockSize: 28 }, { ...v4, blockSize: 26 })).toEqual([expect.stringMatching(/^blockSize cannot be changed/)]);
    expect(failing({ ...v4, blockSize: 28 }, v4)).toHaveLength(1);
    expect(failing(v4, { ...v4, blockSize: 28 })).toHaveLength(1);
    // the same size written out, or other fields changed: fine
    expect(failing({ ...v4, blockSize: 26 }, v4)).toEqual([]);
    expect(failing({ ...v4, natOutgoing: true, disabled: true, nodeSelector: "zone == 'a'" }, v4)).toEqual([]);
    const v6 = { cidr: 'fd00::/64', ipipMode: 'Never', vxlanMode: 'Never' };
    expect(failing({ ...v6, blockSize: 122 }, v6)).toEqual([]);
    expect(failing({ ...v6, blockSize: 120 }, v6)).toHaveLength(1);
  });

  it('never blocks a create (no old object): validateObject accepts any valid pool', () => {
    for (const r of transition) expect(check(r, { cidr: '10.0.0.0/24', blockSize: 28 }, undefined as unknown as object)).toBe(true);
    const r = validateObject({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/24', blockSize: 28 } });
    expect(r.ok).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { checkSemantics, withSemanticChecks } from '../../../../agent/datastore/validate.js';
import { parseManifest } from '../../../../agent/datastore/manifests.js';
import { schemaValidator } from '../../../../agent/datastore/index.js';
import { validator as agentValidator } from '../../../../agent/node/main.js';

const meta = { name: 'x' };
const pool = (spec: Record<string, unknown>) => ({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: meta, spec });
const peer = (spec: Record<string, unknown>) => ({ apiVersion: 'margay.io/v1', kind: 'BGPPeer', metadata: meta, spec });
const errorsOf = (obj: unknown) => checkSemantics(obj).map((e) => `${e.path}: ${e.message}`);

describe('checkSemantics: what the CRD schemas cannot say', () => {
  it.each([
    [pool({ cidr: '10.0.0.0/16', nodeSelector: "zone = 'a'" }), 'spec.nodeSelector'],
    [peer({ nodeSelector: 'has(', peerIP: '10.1.1.1', asNumber: 65000 }), 'spec.nodeSelector'],
    [peer({ peerSelector: "rack starts 'r'" }), 'spec.peerSelector'],
  ])('rejects a selector that does not parse, naming its field (%#)', (obj, path) => {
    const errs = errorsOf(obj);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(new RegExp(`^${path.replace('.', '\\.')}: Invalid value: ".*": not a valid selector: .+`));
  });

  it('reports every bad selector of one object', () => {
    expect(errorsOf(peer({ nodeSelector: 'x ==', peerSelector: 'y ==' })).map((e) => e.split(':')[0])).toEqual(['spec.nodeSelector', 'spec.peerSelector']);
  });

  it.each([
    pool({ cidr: '10.0.0.0/16', nodeSelector: "zone == 'a' && rack starts with 'r'" }),
    pool({ cidr: '10.0.0.0/16' }),
    peer({ nodeSelector: 'global()', peerIP: '10.1.1.1', asNumber: 65000 }),
    peer({ peerSelector: "has(route-reflector) && rack ends with '1'" }),
    peer({ nodeSelector: 42 }), // not a string: the schema's type check reports it
    { apiVersion: 'v1', kind: 'Node', metadata: meta, spec: { nodeSelector: 'not ours' } },
  ])('accepts %j', (obj) => {
    expect(errorsOf(obj)).toEqual([]);
  });

  it('leaves a BGPPeer with both peerSelector and asNumber to the CRD rule (the API server refuses it too)', () => {
    expect(errorsOf(peer({ peerSelector: "rr == 'true'", asNumber: 65000 }))).toEqual([]);
  });
});

describe('the validators the datastores use reject such objects', () => {
  it('withSemanticChecks: schema errors and selector errors together; the schema\'s defaulted object when all is well', () => {
    const schema = withSemanticChecks((obj) => ((obj as { spec: { cidr?: unknown } }).spec.cidr === undefined
      ? { ok: false, errors: [{ path: 'spec.cidr', message: 'Required value' }] }
      : { ok: true, object: { ...(obj as object), defaulted: true } }));
    expect(schema(pool({ nodeSelector: 'has(' }))).toEqual({ ok: false, errors: [
      { path: 'spec.cidr', message: 'Required value' },
      { path: 'spec.nodeSelector', message: 'Invalid value: "has(": not a valid selector: expected a label, found the end' },
    ] });
    expect(schema(pool({ cidr: '10.0.0.0/16', nodeSelector: "zone = 'a'" })).ok).toBe(false);
    expect(schema(pool({ cidr: '10.0.0.0/16' }))).toEqual({ ok: true, object: { ...pool({ cidr: '10.0.0.0/16' }), defaulted: true } });
  });

  it.each([['agent/datastore schemaValidator', schemaValidator], ['the running agent\'s validator', agentValidator]])('%s rejects a bad selector and peerSelector with asNumber', (_name, v) => {
    const paths = (obj: unknown) => { const r = v(obj); return r.ok ? [] : r.errors.map((e) => e.path); };
    expect(paths(peer({ nodeSelector: "zone = 'a'", peerIP: '10.1.1.1', asNumber: 65000 }))).toEqual(['spec.nodeSelector']);
    expect(paths(peer({ peerSelector: 'global()', asNumber: 65000 }))).toEqual(['spec']); // the CRD's rule
    expect(paths(peer({ nodeSelector: "rack starts with 'r'", peerIP: '10.1.1.1', asNumber: 65000 }))).toEqual([]);
    expect(paths(pool({ cidr: '10.0.0.0/16', nodeSelector: "zone in {'a' 'b'}" }))).toEqual(['spec.nodeSelector']);
  });

  it('parseManifest with the schema validator (the file datastore) leaves the object out and says why', () => {
    const r = parseManifest(`apiVersion: margay.io/v1
kind: IPPool
metadata: {name: p}
spec: {cidr: 10.0.0.0/16, nodeSelector: "zone = 'a'"}
---
apiVersion: margay.io/v1
kind: IPPool
metadata: {name: q}
spec: {cidr: 10.1.0.0/16, nodeSelector: "zone starts with 'a'"}
`, schemaValidator);
    expect(r.resources.map((o) => o.metadata.name)).toEqual(['q']);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]?.object).toMatch(/^IPPool p/);
    expect(r.rejected[0]?.errors.map((e) => e.path)).toEqual(['spec.nodeSelector']);
  });
});

describe('margay validate reports them (validateText)', () => {
  it('names the field path and the parse error, and the peerSelector + asNumber combination', async () => {
    const { validateText } = await import('../../../../agent/cli/validate.js');
    const r = validateText('m.yaml', `apiVersion: margay.io/v1
kind: BGPPeer
metadata: {name: tor}
spec: {nodeSelector: "zone = 'a'", peerIP: 10.1.1.1, asNumber: 65000}
---
apiVersion: margay.io/v1
kind: BGPPeer
metadata: {name: rr}
spec: {peerSelector: "has(rr)", asNumber: 65000}
---
apiVersion: margay.io/v1
kind: IPPool
metadata: {name: ok}
spec: {cidr: 10.0.0.0/16, nodeSelector: "rack ends with '1' || global()"}
`);
    expect(r.objects).toBe(3);
    expect(r.invalidObjects).toBe(2);
    expect(r.findings.map((f) => `${f.line} ${f.object} ${f.path}: ${f.message}`)).toEqual([
      `1 BGPPeer tor spec.nodeSelector: Invalid value: "zone = 'a'": not a valid selector: unexpected "=" at 5`,
      "6 BGPPeer rr spec: asNumber must not be set with peerSelector (the selected nodes' own AS numbers are used)",
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { validatePolicy } from '../../../../policy/model/validate.js';

const np = (spec: unknown, meta: Record<string, unknown> = { name: 'p', namespace: 'x' }) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta, spec });

function errorsOf(spec: unknown): string[] {
  const v = validatePolicy(np(spec));
  return v.ok ? [] : v.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('validatePolicy: normalisation', () => {
  it('policyTypes default: Ingress only without egress section', () => {
    const v = validatePolicy(np({ podSelector: {} }));
    expect(v.ok && [v.policy.ingressIsolating, v.policy.egressIsolating]).toEqual([true, false]);
  });
  it('policyTypes default: Ingress and Egress when egress has at least one rule', () => {
    const v = validatePolicy(np({ podSelector: {}, egress: [{}] }));
    expect(v.ok && [v.policy.ingressIsolating, v.policy.egressIsolating]).toEqual([true, true]);
  });
  it('policyTypes default: an empty egress list is Ingress only (API defaulting needs len(egress) != 0)', () => {
    const v = validatePolicy(np({ podSelector: {}, egress: [] }));
    expect(v.ok && [v.policy.ingressIsolating, v.policy.egressIsolating]).toEqual([true, false]);
  });
  it('explicit policyTypes [Egress] isolates egress with an empty or absent egress list', () => {
    for (const spec of [{ podSelector: {}, policyTypes: ['Egress'], egress: [] }, { podSelector: {}, policyTypes: ['Egress'] }]) {
      const v = validatePolicy(np(spec));
      expect(v.ok && [v.policy.ingressIsolating, v.policy.egressIsolating, v.policy.egress]).toEqual([false, true, []]);
    }
  });
  it('a repeated policyTypes entry is a no-op, as the API server accepts it (rejecting it dropped the policy: selected pods stayed open)', () => {
    const cases: [string[], boolean, boolean][] = [[['Ingress', 'Ingress'], true, false], [['Egress', 'Egress'], false, true]];
    for (const [types, ing, eg] of cases) {
      const v = validatePolicy(np({ podSelector: {}, policyTypes: types }));
      expect(v.ok ? [v.policy.ingressIsolating, v.policy.egressIsolating] : v.errors, JSON.stringify(types)).toEqual([ing, eg]);
    }
    expect(errorsOf({ podSelector: {}, policyTypes: ['Ingress', 'Ingress', 'Egress'] })).toEqual(['spec.policyTypes: may not have more than 2 entries']);
  });
  it('explicit policyTypes [Egress] does not isolate ingress even with ingress rules', () => {
    const v = validatePolicy(np({ podSelector: {}, policyTypes: ['Egress'], ingress: [{}] }));
    expect(v.ok && [v.policy.ingressIsolating, v.policy.egressIsolating]).toEqual([false, true]);
  });
  it('TCP is the default protocol; empty and absent from/ports mean all', () => {
    const v = validatePolicy(np({ podSelector: {}, ingress: [{ from: [], ports: [{ port: 80 }] }, {}] }));
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.policy.ingress[0]).toEqual({ peers: 'all', ports: [{ protocol: 'TCP', kind: 'number', port: 80, endPort: 80 }] });
    expect(v.policy.ingress[1]).toEqual({ peers: 'all', ports: 'all' });
  });
  it('an empty ingress list isolates and allows nothing', () => {
    const v = validatePolicy(np({ podSelector: {}, ingress: [] }));
    expect(v.ok && v.policy.ingress).toEqual([]);
  });
  it('protocol only, named port, endPort range, both selectors in one peer', () => {
    const v = validatePolicy(np({
      podSelector: { matchLabels: { pod: 'a' } },
      ingress: [{
        from: [{ podSelector: {}, namespaceSelector: { matchLabels: { ns: 'y' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
        ports: [{ protocol: 'UDP' }, { port: 'serve-80-tcp' }, { protocol: 'SCTP', port: 80, endPort: 90 }],
      }],
    }));
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.policy.ingress[0]?.peers).toEqual([
      { kind: 'pods', podSelector: { matchLabels: {}, matchExpressions: [] }, namespaceSelector: { matchLabels: { ns: 'y' }, matchExpressions: [] } },
      { kind: 'ipBlock', cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] },
    ]);
    expect(v.policy.ingress[0]?.ports).toEqual([
      { protocol: 'UDP', kind: 'any' }, { protocol: 'TCP', kind: 'named', name: 'serve-80-tcp' }, { protocol: 'SCTP', kind: 'number', port: 80, endPort: 90 },
    ]);
  });
  it('a string port is a port name: names with digits and hyphens pass, a number passes as a number', () => {
    const v = validatePolicy(np({ podSelector: {}, ingress: [{ ports: [{ port: 'h2c' }, { port: '8080-tcp', protocol: 'UDP' }, { port: 80 }] }] }));
    expect(v.ok && v.policy.ingress[0]?.ports).toEqual([
      { protocol: 'TCP', kind: 'named', name: 'h2c' }, { protocol: 'UDP', kind: 'named', name: '8080-tcp' }, { protocol: 'TCP', kind: 'number', port: 80, endPort: 80 },
    ]);
  });
  it('namespace defaults to "default"', () => {
    const v = validatePolicy(np({ podSelector: {} }, { name: 'p' }));
    expect(v.ok && v.policy.namespace).toBe('default');
  });
});

describe('validatePolicy: errors name the field path', () => {
  const rows: [string, unknown, string][] = [
    ['bad CIDR', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.300/8' } }] }] }, 'spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR'],
    ['CIDR without prefix', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.1' } }] }] }, 'spec.egress[0].to[0].ipBlock.cidr: invalid CIDR'],
    ['except outside cidr', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] } }] }] }, 'spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset'],
    ['except equal to cidr', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }] }] }, 'spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset'],
    ['except of another family', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['fd00::/64'] } }] }] }, 'spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset'],
    ['endPort < port', { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort: must be greater than or equal to port'],
    ['endPort with named port', { podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort: may not be specified when port is a named port'],
    ['endPort without port', { podSelector: {}, ingress: [{ ports: [{ endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort: may not be specified when port is not specified'],
    ['unknown protocol', { podSelector: {}, egress: [{ ports: [{ protocol: 'ICMP' }] }] }, 'spec.egress[0].ports[0].protocol: unsupported protocol "ICMP"'],
    ['port out of range', { podSelector: {}, ingress: [{ ports: [{ port: 70000 }] }] }, 'spec.ingress[0].ports[0].port: must be between 1 and 65535'],
    ['bad port name', { podSelector: {}, ingress: [{ ports: [{ port: 'Bad_Name' }] }] }, 'spec.ingress[0].ports[0].port: invalid port name'],
    ['numeric string port (a string port is an IANA_SVC_NAME)', { podSelector: {}, ingress: [{ ports: [{ port: '80' }] }] }, 'spec.ingress[0].ports[0].port: invalid port name "80"'],
    ['numeric string port in egress, with endPort', { podSelector: {}, egress: [{ ports: [{ protocol: 'UDP', port: '53', endPort: 60 }] }] }, 'spec.egress[0].ports[0].port: invalid port name "53"'],
    ['port name with a double hyphen', { podSelector: {}, ingress: [{ ports: [{ port: 'a--b' }] }] }, 'spec.ingress[0].ports[0].port: invalid port name'],
    ['port name longer than 15', { podSelector: {}, ingress: [{ ports: [{ port: 'abcdefghijklmnop' }] }] }, 'spec.ingress[0].ports[0].port: invalid port name'],
    ['port neither number nor string', { podSelector: {}, ingress: [{ ports: [{ port: true }] }] }, 'spec.ingress[0].ports[0].port: must be between 1 and 65535'],
    ['bad selector operator', { podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['1'] }] } }, 'spec.podSelector.matchExpressions[0].operator: unsupported operator "Equals"'],
    ['In without values', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }] }] }, 'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values: must be specified'],
    ['Exists with values', { podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }, 'spec.podSelector.matchExpressions[0].values: may not be specified'],
    ['ipBlock with a selector', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }, 'spec.ingress[0].from[0]: may not specify more than 1 peer type'],
    ['empty peer', { podSelector: {}, ingress: [{ from: [{}] }] }, 'spec.ingress[0].from[0]: must specify a peer'],
    ['bad policyType', { podSelector: {}, policyTypes: ['Sideways'] }, 'spec.policyTypes[0]: unsupported value "Sideways"'],
    ['ports not a list (schema)', { podSelector: {}, ingress: [{ ports: 'all' }] }, 'spec.ingress[0].ports: must be a list'],
  ];
  it.each(rows)('%s', (_name, spec, want) => {
    const errs = errorsOf(spec);
    expect(errs.some((e) => e.startsWith(want)), `errors: ${JSON.stringify(errs)}`).toBe(true);
  });
  it('a missing spec and name are reported', () => {
    const v = validatePolicy({ metadata: {} });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.errors.map((e) => e.path)).toEqual(['metadata.name', 'spec']);
  });
});

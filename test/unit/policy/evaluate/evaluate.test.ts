import { describe, expect, it } from 'vitest';
import { evaluate, type Flow } from '../../../../policy/evaluate/evaluate.js';
import type { Policy } from '../../../../policy/model/types.js';
import { cluster, policy } from '../helpers.js';

const snap = cluster();
const ipOf = (key: string): string => snap.pods.find((p) => `${p.namespace}/${p.name}` === key)?.ips[0] as string;
const flow = (from: string, to: string, port = 80, protocol: Flow['protocol'] = 'TCP'): Flow => ({
  from: from.includes('/') ? { pod: from, ip: ipOf(from) } : { ip: from },
  to: to.includes('/') ? { pod: to, ip: ipOf(to) } : { ip: to },
  port, protocol,
});

const denyIngressX = policy('x', 'deny-in', { podSelector: {} });
const denyEgressX = policy('x', 'deny-out', { podSelector: {}, policyTypes: ['Egress'] });
const allowFromYb = policy('x', 'from-y-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }] });
const allowNamed81 = policy('x', 'named', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] });
const allowRange = policy('x', 'range', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 79, endPort: 80, protocol: 'UDP' }] }] });
const ipBlockExcept = policy('x', 'block', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/24', except: ['10.0.0.4/30'] } }] }] });
const egressToZ = policy('x', 'to-z', { podSelector: {}, egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'z' } } }], ports: [{ port: 81 }] }] });

const rows: [string, Policy[], Flow, boolean][] = [
  ['no policy: allowed', [], flow('y/a', 'x/a'), true],
  ['default deny ingress blocks other pods', [denyIngressX], flow('y/a', 'x/a'), false],
  ['default deny ingress blocks even the same namespace', [denyIngressX], flow('x/b', 'x/a'), false],
  ['default deny ingress does not restrict egress', [denyIngressX], flow('x/a', 'y/a'), true],
  ['default deny egress blocks x → y', [denyEgressX], flow('x/a', 'y/a'), false],
  ['default deny egress leaves ingress open', [denyEgressX], flow('y/a', 'x/a'), true],
  ['egress: [] without policyTypes does not isolate egress', [policy('x', 'empty-egress', { podSelector: {}, egress: [] })], flow('x/a', 'y/a'), true],
  ['egress: [] without policyTypes still isolates ingress', [policy('x', 'empty-egress', { podSelector: {}, egress: [] })], flow('y/a', 'x/a'), false],
  ['ns+pod selector (AND): y/b allowed', [allowFromYb], flow('y/b', 'x/a'), true],
  ['ns+pod selector (AND): y/a denied', [allowFromYb], flow('y/a', 'x/a'), false],
  ['ns+pod selector (AND): x/b denied (wrong namespace)', [allowFromYb], flow('x/b', 'x/a'), false],
  ['policy selecting x/a leaves x/b open', [allowFromYb], flow('y/a', 'x/b'), true],
  ['named port matches its number on the destination', [allowNamed81], flow('y/a', 'x/a', 81), true],
  ['named port: other port denied', [allowNamed81], flow('y/a', 'x/a', 80), false],
  ['named port: protocol must match too', [allowNamed81], flow('y/a', 'x/a', 81, 'UDP'), false],
  ['endPort range: inside', [allowRange], flow('y/a', 'x/a', 80, 'UDP'), true],
  ['endPort range: TCP not allowed', [allowRange], flow('y/a', 'x/a', 80, 'TCP'), false],
  ['ipBlock: inside cidr', [ipBlockExcept], flow('z/c', 'x/a'), true],
  ['ipBlock: except 10.0.0.4/30 covers y/c (10.0.0.6)', [ipBlockExcept], flow('y/c', 'x/a'), false],
  ['ipBlock: in except', [ipBlockExcept], flow('y/a', 'x/a'), false],
  ['ipBlock: outside cidr', [ipBlockExcept], flow('10.9.0.1', 'x/a'), false],
  ['union: deny-all + allow y/b → y/b allowed', [denyIngressX, allowFromYb], flow('y/b', 'x/a'), true],
  ['egress to namespace z on 81', [egressToZ], flow('x/a', 'z/b', 81), true],
  ['egress to namespace z on 80 denied', [egressToZ], flow('x/a', 'z/b', 80), false],
  ['egress to y denied', [egressToZ], flow('x/a', 'y/b', 81), false],
  ['both directions must allow', [egressToZ, policy('z', 'deny', { podSelector: {} })], flow('x/a', 'z/b', 81), false],
  ['outside IP to an unselected pod', [], flow('8.8.8.8', 'x/a'), true],
];

describe('evaluate (oracle)', () => {
  it.each(rows)('%s', (_n, policies, f, want) => {
    expect(evaluate(snap, policies, f).allowed).toBe(want);
  });

  it('explains which rules decided', () => {
    const v = evaluate(snap, [denyIngressX, allowFromYb], flow('y/b', 'x/a'));
    expect(v.ingress.isolated).toBe(true);
    expect(v.ingress.policies).toEqual(['x/deny-in', 'x/from-y-b']);
    expect(v.ingress.allowedBy).toEqual([{ policy: 'x/from-y-b', rule: 0 }]);
    expect(v.egress.isolated).toBe(false);
    const d = evaluate(snap, [denyIngressX], flow('y/b', 'x/a'));
    expect(d.ingress.reason).toMatch(/isolated by x\/deny-in/);
  });
});

describe('evaluate: a pod talking to itself', () => {
  it('is allowed even under default deny both ways', () => {
    const v = evaluate(snap, [policy('x', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })], flow('x/a', 'x/a'));
    expect(v.allowed).toBe(true);
    expect(v.ingress.reason).toMatch(/itself/);
  });
});

/**
 * Cyclonus-style generated cases: combinations of target selector, peer, port and
 * direction, picked so that every value of every dimension appears and pairs vary
 * (index i takes dimension values i mod n with coprime n). The truth table of
 * each comes from the oracle only.
 */
import type { Case } from './cases.js';

const TARGETS = ['{}', '{matchLabels: {pod: a}}', '{matchExpressions: [{key: pod, operator: NotIn, values: [b]}]}'];
const PEERS = [
  '[]',
  '[{podSelector: {matchLabels: {pod: b}}}]',
  '[{namespaceSelector: {matchLabels: {ns: y}}}]',
  '[{namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y, z]}]}, podSelector: {matchExpressions: [{key: pod, operator: Exists}]}}]',
  '[{ipBlock: {cidr: 10.244.1.0/24, except: [10.244.1.4/32]}}]',
  '[{namespaceSelector: {}}, {ipBlock: {cidr: "fd44:0:2::/64"}}]',
  '[{podSelector: {matchExpressions: [{key: pod, operator: DoesNotExist}]}}]',
];
const PORTS = ['[]', '[{port: 80}]', '[{port: serve-81-udp, protocol: UDP}]', '[{protocol: UDP}]', '[{port: 80, endPort: 81}]', '[{protocol: SCTP, port: 80}, {port: 81}]'];
const DIRECTIONS = ['ingress', 'egress', 'both'] as const;
const NAMESPACES = ['x', 'y'];

export function generatedCases(count: number): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const target = TARGETS[i % TARGETS.length] as string;
    const peer = PEERS[i % PEERS.length] as string;
    const ports = PORTS[i % PORTS.length] as string;
    const dir = DIRECTIONS[i % DIRECTIONS.length] as (typeof DIRECTIONS)[number];
    const ns = NAMESPACES[Math.floor(i / 7) % NAMESPACES.length] as string;
    const rule = (key: 'from' | 'to') => `[{${key}: ${peer}, ports: ${ports}}]`;
    const types = dir === 'both' ? '[Ingress, Egress]' : dir === 'ingress' ? '[Ingress]' : '[Egress]';
    const spec = [
      `podSelector: ${target}`,
      `policyTypes: ${types}`,
      ...(dir !== 'egress' ? [`ingress: ${rule('from')}`] : []),
      ...(dir !== 'ingress' ? [`egress: ${rule('to')}`] : []),
    ].map((l) => `  ${l}`).join('\n');
    out.push({
      name: `generated #${i}: ${ns} ${dir} target=${target} peers=${peer} ports=${ports}`,
      yaml: `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: gen-${i}, namespace: ${ns}}\nspec:\n${spec}\n`,
    });
  }
  return out;
}

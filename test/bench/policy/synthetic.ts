/**
 * A deterministic synthetic cluster for the policy benchmark: 200 namespaces,
 * 5,000 pods (25 per namespace), 2,000 policies (10 per namespace, a mix of
 * default deny, pod/namespace selectors with every operator, ipBlocks with except,
 * numeric, named and ranged ports, egress), 50 nodes of 100 pods each (one pod of
 * every block of 50 lands on each node, so a node's pods vary in namespace and
 * tier). 50 "canary" policies, in the first 50 namespaces holding a pod of
 * `node-0`, each have a distinct peer that a pod labelled track=canary in a prod
 * namespace matches.
 */
import type { NamespaceInfo, PodInfo, Snapshot } from '../../../policy/model/snapshot.js';

export const NODE = 'node-0';
const ENVS = ['prod', 'staging', 'dev'];
const TIERS = ['web', 'api', 'db'];

export function nsName(i: number): string {
  return `ns-${String(i).padStart(3, '0')}`;
}

export function nodeOf(idx: number): string {
  return `node-${(idx + Math.floor(idx / 50)) % 50}`;
}

export function podIp(idx: number): string {
  return `10.${16 + (idx >> 8)}.${idx & 255}.2`;
}

function ports(tier: string): PodInfo['ports'] {
  const p: PodInfo['ports'] = [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }];
  if (tier === 'api') p.push({ name: 'grpc', port: 50051, protocol: 'TCP' });
  if (tier === 'db') p.push({ name: 'pg', port: 5432, protocol: 'TCP' });
  return p;
}

export function syntheticPod(idx: number, labels: Record<string, string> = {}, ns?: string): PodInfo {
  const n = Math.floor(idx / 25);
  const j = idx % 25;
  const tier = TIERS[j % 3] as string;
  return {
    namespace: ns ?? nsName(n), name: `p-${String(j).padStart(2, '0')}-${idx}`,
    labels: { app: `a${j % 5}`, tier, version: `v${j % 2}`, ...labels },
    ips: [podIp(idx)], node: nodeOf(idx), hostNetwork: false, phase: 'Running', terminating: false,
    ports: ports(tier),
  };
}

export function syntheticSnapshot(): Snapshot {
  const namespaces: NamespaceInfo[] = Array.from({ length: 200 }, (_, i) => ({
    name: nsName(i), labels: { team: `t${i % 20}`, env: ENVS[i % 3] as string, 'kubernetes.io/metadata.name': nsName(i) },
  }));
  const pods = Array.from({ length: 5000 }, (_, idx) => syntheticPod(idx));
  return { pods, namespaces };
}

const np = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec });

export function syntheticPolicies(): object[] {
  const out: object[] = [];
  const withLocal = [...new Set(Array.from({ length: 5000 }, (_, idx) => idx).filter((idx) => nodeOf(idx) === NODE).map((idx) => Math.floor(idx / 25)))].sort((a, b) => a - b);
  const canary = new Set(withLocal.slice(0, 50));
  for (let i = 0; i < 200; i++) {
    const ns = nsName(i);
    out.push(
      np(ns, 'default-deny', { podSelector: {} }),
      np(ns, 'web-from-same-app', { podSelector: { matchLabels: { tier: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: `a${i % 5}` } } }], ports: [{ port: 8080 }] }] }),
      np(ns, 'api-from-team-web', { podSelector: { matchLabels: { tier: 'api' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: `t${(i + 1) % 20}` } }, podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 'grpc' }] }] }),
      np(ns, 'db-from-api', { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web', 'db'] }] } }], ports: [{ port: 'pg' }] }] }),
      np(ns, 'lb-range', { podSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: [`10.${16 + (i % 20)}.0.0/16`] } }, { ipBlock: { cidr: '192.168.0.0/16' } }], ports: [{ port: 8080, endPort: 8090 }] }] }),
      np(ns, 'web-egress', { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }] }, { to: [{ namespaceSelector: { matchLabels: { env: 'prod' } }, podSelector: { matchLabels: { tier: 'api' } } }], ports: [{ port: 'grpc' }, { port: 443 }] }] }),
      np(ns, 'metrics', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 't0' } } }], ports: [{ port: 'metrics' }] }] }),
      np(ns, 'versioned', { podSelector: { matchLabels: { app: `a${i % 5}` } }, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, podSelector: { matchExpressions: [{ key: 'version', operator: 'In', values: ['v1'] }, { key: 'legacy', operator: 'DoesNotExist' }] } }] }] }),
      np(ns, 'egress-world', { podSelector: { matchLabels: { tier: 'api' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32', '10.0.0.0/8'] } }] }] }),
      canary.has(i)
        ? np(ns, 'canary', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', `canary-${i}`] }] }, podSelector: { matchLabels: { track: 'canary' } } }], ports: [{ port: 8080 }] }] })
        : np(ns, 'same-ns', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] }),
    );
  }
  return out;
}

import type { PodInfo, Snapshot } from '../../../policy/model/snapshot.js';
import { validatePolicy } from '../../../policy/model/validate.js';
import type { Policy } from '../../../policy/model/types.js';

/** A pod in the x/y/z × a/b/c style, with the standard named ports. */
export function pod(ns: string, name: string, ip: string, extra: Partial<PodInfo> = {}): PodInfo {
  return {
    namespace: ns, name, labels: { pod: name }, ips: [ip], node: 'n1', hostNetwork: false, phase: 'Running', terminating: false,
    ports: [
      { name: 'serve-80-tcp', port: 80, protocol: 'TCP' }, { name: 'serve-81-tcp', port: 81, protocol: 'TCP' },
      { name: 'serve-80-udp', port: 80, protocol: 'UDP' }, { name: 'serve-81-udp', port: 81, protocol: 'UDP' },
    ],
    ...extra,
  };
}

export function cluster(): Snapshot {
  const pods: PodInfo[] = [];
  let i = 1;
  for (const ns of ['x', 'y', 'z']) for (const p of ['a', 'b', 'c']) pods.push(pod(ns, p, `10.0.0.${i++}`, { node: i % 2 === 0 ? 'n1' : 'n2' }));
  return { pods, namespaces: ['x', 'y', 'z'].map((n) => ({ name: n, labels: { ns: n, 'kubernetes.io/metadata.name': n } })) };
}

/** Builds a valid policy from a spec, failing loudly if it is not valid. */
export function policy(namespace: string, name: string, spec: Record<string, unknown>): Policy {
  const v = validatePolicy({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec });
  if (!v.ok) throw new Error(`invalid test policy: ${JSON.stringify(v.errors)}`);
  return v.policy;
}

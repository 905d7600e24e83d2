/**
 * End-to-end NetworkPolicy cases on the x/y/z × a/b/c model, after the upstream
 * Kubernetes e2e suite (test/e2e/network/netpol) and Cyclonus' generated cases.
 * Each is YAML exactly as a user would apply it; the expected truth table comes
 * from the evaluate() oracle, and some cases also carry a hand-written expectation
 * (`expect`: which (from, to, port, protocol) connect) as an independent check.
 */
export interface Flow { from: string; to: string; port: number; protocol: string }
export interface Case {
  name: string;
  yaml: string;
  expect?: (f: Flow) => boolean;
  /** The hand-written table holds for IPv4 only (an IPv4 ipBlock). */
  v4Only?: boolean;
}

const np = (ns: string, name: string, spec: string): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec.replace(/^/gm, '  ')}\n---\n`;

const self = (f: Flow): boolean => f.from === f.to;
const inNs = (pod: string, ns: string): boolean => pod.startsWith(`${ns}/`);

export const CASES: Case[] = [
  { name: 'no policies: everything connects', yaml: '', expect: () => true },
  { name: 'default deny ingress in x', yaml: np('x', 'deny', 'podSelector: {}'), expect: (f) => self(f) || !inNs(f.to, 'x') },
  { name: 'default deny egress in x', yaml: np('x', 'deny', 'podSelector: {}\npolicyTypes: [Egress]'), expect: (f) => self(f) || !inNs(f.from, 'x') },
  { name: 'default deny both ways in x', yaml: np('x', 'deny', 'podSelector: {}\npolicyTypes: [Ingress, Egress]'), expect: (f) => self(f) || (!inNs(f.from, 'x') && !inNs(f.to, 'x')) },
  { name: 'deny all + allow all ingress (union)', yaml: np('x', 'deny', 'podSelector: {}') + np('x', 'allow', 'podSelector: {}\ningress: [{}]'), expect: () => true },
  // policyTypes defaults to [Ingress, Egress] when an egress section exists: the
  // empty `to` opens all egress, and the absent ingress section denies all ingress.
  { name: 'egress section only: empty to allows all egress, ingress isolated by default', yaml: np('x', 'allow', 'podSelector: {}\negress: [{to: []}]'), expect: (f) => self(f) || !inNs(f.to, 'x') },
  { name: 'allow from the same namespace only', yaml: np('x', 'same-ns', 'podSelector: {}\ningress: [{from: [{podSelector: {}}]}]'), expect: (f) => self(f) || !inNs(f.to, 'x') || inNs(f.from, 'x') },
  { name: 'allow from namespace y (namespaceSelector)', yaml: np('x', 'from-y', 'podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]'), expect: (f) => self(f) || f.to !== 'x/a' || inNs(f.from, 'y') },
  { name: 'namespace AND pod selector in one peer', yaml: np('x', 'and', 'podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}}]}]'), expect: (f) => self(f) || f.to !== 'x/a' || f.from === 'y/b' },
  { name: 'namespace OR pod selector in two peers', yaml: np('x', 'or', 'podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}, {podSelector: {matchLabels: {pod: b}}}]}]'), expect: (f) => self(f) || f.to !== 'x/a' || inNs(f.from, 'y') || f.from === 'x/b' },
  { name: 'pod b from any namespace', yaml: np('x', 'any-b', 'podSelector: {}\ningress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}]}]') },
  { name: 'matchExpressions In', yaml: np('x', 'in', 'podSelector: {matchExpressions: [{key: pod, operator: In, values: [a, b]}]}\ningress: [{from: [{namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [z]}]}}]}]') },
  { name: 'matchExpressions NotIn', yaml: np('x', 'notin', 'podSelector: {}\ningress: [{from: [{namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [y]}]}}]}]'), expect: (f) => self(f) || !inNs(f.to, 'x') || !inNs(f.from, 'y') },
  { name: 'matchExpressions Exists', yaml: np('y', 'exists', 'podSelector: {matchExpressions: [{key: pod, operator: Exists}]}\ningress: [{from: [{namespaceSelector: {matchExpressions: [{key: env, operator: Exists}]}}]}]') + 'apiVersion: v1\nkind: Namespace\nmetadata: {name: z, labels: {env: qa}}\n' },
  { name: 'matchExpressions DoesNotExist (with a relabelled namespace)', yaml: np('x', 'dne', 'podSelector: {}\ningress: [{from: [{namespaceSelector: {matchExpressions: [{key: env, operator: DoesNotExist}]}}]}]') + 'apiVersion: v1\nkind: Namespace\nmetadata: {name: z, labels: {env: prod}}\n', expect: (f) => self(f) || !inNs(f.to, 'x') || !inNs(f.from, 'z') },
  { name: 'relabelled pod (Pod stub) matched by podSelector', yaml: np('x', 'db', 'podSelector: {}\ningress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {role: db}}}]}]') + 'apiVersion: v1\nkind: Pod\nmetadata: {name: c, namespace: y, labels: {role: db}}\n', expect: (f) => self(f) || !inNs(f.to, 'x') || f.from === 'y/c' },
  { name: 'ipBlock with except (ingress)', yaml: np('x', 'block', 'podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.0/24]}}]}]') },
  { name: 'ipBlock 0.0.0.0/0 except one pod (egress)', yaml: np('y', 'block', 'podSelector: {}\negress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.244.1.2/32]}}]}]'), v4Only: true, expect: (f) => self(f) || ((!inNs(f.from, 'y') || f.to !== 'x/a') && !inNs(f.to, 'y')) },
  { name: 'numeric port, TCP by default', yaml: np('x', 'port', 'podSelector: {matchLabels: {pod: a}}\ningress: [{ports: [{port: 80}]}]'), expect: (f) => self(f) || f.to !== 'x/a' || (f.port === 80 && f.protocol === 'TCP') },
  { name: 'named port', yaml: np('x', 'named', 'podSelector: {}\ningress: [{ports: [{port: serve-81-tcp}, {port: serve-80-udp, protocol: UDP}]}]'), expect: (f) => self(f) || !inNs(f.to, 'x') || (f.port === 81 && f.protocol === 'TCP') || (f.port === 80 && f.protocol === 'UDP') },
  { name: 'named port in egress (resolved on the destination pod)', yaml: np('z', 'named-out', 'podSelector: {}\negress: [{ports: [{port: serve-80-tcp}]}]') },
  { name: 'endPort range', yaml: np('x', 'range', 'podSelector: {}\ningress: [{ports: [{port: 81, endPort: 90}, {protocol: UDP, port: 70, endPort: 80}]}]') },
  { name: 'UDP only (protocol without port)', yaml: np('x', 'udp', 'podSelector: {}\ningress: [{ports: [{protocol: UDP}]}]'), expect: (f) => self(f) || !inNs(f.to, 'x') || f.protocol === 'UDP' },
  { name: 'SCTP-only policy isolates and opens no TCP/UDP', yaml: np('x', 'sctp', 'podSelector: {}\npolicyTypes: [Ingress, Egress]\ningress: [{ports: [{protocol: SCTP, port: 80}]}]\negress: [{ports: [{protocol: SCTP}]}]'), expect: (f) => self(f) || (!inNs(f.to, 'x') && !inNs(f.from, 'x')) },
  { name: 'multiple policies on one pod (union of ports and peers)', yaml: np('x', 'p80', 'podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{port: 80}]}]') + np('x', 'p81', 'podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}], ports: [{port: 81, protocol: UDP}]}]') },
  { name: 'policy selecting nothing changes nothing', yaml: np('x', 'none', 'podSelector: {matchLabels: {pod: nobody}}\npolicyTypes: [Ingress, Egress]'), expect: () => true },
  { name: 'ingress and egress together', yaml: np('x', 'both', 'podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Ingress, Egress]\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]\negress: [{to: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{port: 80}]}]') },
  { name: 'policyTypes [Egress] ignores ingress rules', yaml: np('x', 'egress-only', 'podSelector: {}\npolicyTypes: [Egress]\ningress: [{from: [{podSelector: {matchLabels: {pod: nobody}}}]}]\negress: [{to: [{podSelector: {}}]}]'), expect: (f) => self(f) || !inNs(f.from, 'x') || inNs(f.to, 'x') },
  { name: 'an invalid policy is rejected, the others enforced', yaml: np('x', 'bad', 'podSelector: {}\ningress: [{ports: [{port: 90, endPort: 80}]}]') + np('y', 'deny', 'podSelector: {}'), expect: (f) => self(f) || !inNs(f.to, 'y') },
];

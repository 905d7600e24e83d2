/**
 * The kinds of object margay reads from a datastore, and where each lives in the
 * Kubernetes API. The file datastore uses the same kinds and the same shapes.
 */

export type ResourceKind = 'Node' | 'Namespace' | 'Pod' | 'NetworkPolicy' | 'IPPool' | 'BGPPeer' | 'BGPConfiguration';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  deletionTimestamp?: string;
}

/** A Kubernetes-style object as read: kind + metadata + the rest untyped until a consumer parses it. */
export interface Resource {
  apiVersion: string;
  kind: ResourceKind;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

export interface KindInfo {
  kind: ResourceKind;
  apiVersion: string;
  /** the API group ('' for core) */
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'Node', apiVersion: 'v1', group: '', version: 'v1', plural: 'nodes', namespaced: false },
  { kind: 'Namespace', apiVersion: 'v1', group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  { kind: 'Pod', apiVersion: 'v1', group: '', version: 'v1', plural: 'pods', namespaced: true },
  { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespaced: true },
  { kind: 'IPPool', apiVersion: 'margay.io/v1', group: 'margay.io', version: 'v1', plural: 'ippools', namespaced: false },
  { kind: 'BGPPeer', apiVersion: 'margay.io/v1', group: 'margay.io', version: 'v1', plural: 'bgppeers', namespaced: false },
  { kind: 'BGPConfiguration', apiVersion: 'margay.io/v1', group: 'margay.io', version: 'v1', plural: 'bgpconfigurations', namespaced: false },
];

export function kindInfo(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}

/** The cluster-wide list/watch path of a kind, e.g. /apis/networking.k8s.io/v1/networkpolicies. */
export function listPath(info: Pick<KindInfo, 'group' | 'version' | 'plural'>): string {
  return info.group === '' ? `/api/${info.version}/${info.plural}` : `/apis/${info.group}/${info.version}/${info.plural}`;
}

/** The identity of an object within its kind: "namespace/name" or "name". */
export function objectKey(meta: { name: string; namespace?: string }): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

/** "NetworkPolicy x/deny-all" — how logs and errors name an object. */
export function describeObject(kind: string | undefined, meta: { name?: string; namespace?: string } | undefined): string {
  const name = meta?.name ?? '(no name)';
  return `${kind ?? '(no kind)'} ${meta?.namespace ? `${meta.namespace}/` : ''}${name}`;
}

/**
 * The Kubernetes kinds margay reads but does not define — NetworkPolicy, Node,
 * Namespace, Pod — validated with the Kubernetes API's own OpenAPI schemas as
 * compiled by the kubernetes-models package (the same validators its
 * `new NetworkPolicy(obj).validate()` uses). Pure.
 */
import { validate as validateNetworkPolicy } from 'kubernetes-models/_schemas/IoK8sApiNetworkingV1NetworkPolicy';
import { validate as validateNode } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Node';
import { validate as validateNamespace } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Namespace';
import { validate as validatePod } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Pod';
import type { AjvLikeError } from './errors.js';

export interface CoreKind {
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  /** returns the schema errors (empty when valid) */
  check(obj: unknown): AjvLikeError[];
}

type GeneratedValidate = ((data: unknown) => boolean) & { errors?: AjvLikeError[] | null };

function wrap(fn: (data: unknown) => boolean): CoreKind['check'] {
  const v = fn as GeneratedValidate;
  return (obj) => (v(obj) ? [] : [...(v.errors ?? [])]);
}

export const CORE_KINDS: readonly CoreKind[] = [
  { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', namespaced: true, check: wrap(validateNetworkPolicy) },
  { kind: 'Node', apiVersion: 'v1', namespaced: false, check: wrap(validateNode) },
  { kind: 'Namespace', apiVersion: 'v1', namespaced: false, check: wrap(validateNamespace) },
  { kind: 'Pod', apiVersion: 'v1', namespaced: true, check: wrap(validatePod) },
];

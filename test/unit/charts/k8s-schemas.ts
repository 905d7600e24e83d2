/**
 * Validates a rendered object against the Kubernetes API schema of its kind
 * (kubernetes-models, e.g. `new DaemonSet(obj).validate()`) plus strict field
 * validation (no field the API type lacks, from @kubernetes/client-node's models),
 * or against margay's CRD schemas for margay.io kinds. Returns error strings; a
 * kind the chart is not expected to render is an error too.
 */
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, ServiceAccount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { validateObject } from '../../../crds/schemas.js';
import { loadKubernetesTypes } from '../../../crds/client-node-types.js';
import { rootTypeName, unknownFields } from '../../../crds/unknown-fields.js';

const types = await loadKubernetesTypes();

type Model = { validate(): void };
const MODELS: Record<string, new (data: never) => Model> = {
  'apps/v1 DaemonSet': DaemonSet,
  'v1 ConfigMap': ConfigMap,
  'v1 ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1 ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1 Role': Role,
  'rbac.authorization.k8s.io/v1 RoleBinding': RoleBinding,
  'apiextensions.k8s.io/v1 CustomResourceDefinition': CustomResourceDefinition,
};

export function kubernetesErrors(obj: Record<string, unknown>): string[] {
  const key = `${String(obj.apiVersion)} ${String(obj.kind)}`;
  if (obj.apiVersion === 'margay.io/v1') {
    const r = validateObject(obj);
    return r.ok ? [] : r.errors.map((e) => `${key}: ${e.path}: ${e.message}`);
  }
  const M = MODELS[key];
  if (!M) return [`${key}: not a kind the chart should render`];
  const out = unknownFields(obj, rootTypeName(String(obj.apiVersion), String(obj.kind)), types).map((e) => `${key}: ${e.path}: ${e.message}`);
  try {
    new M(obj as never).validate();
  } catch (err) {
    out.push(`${key}: ${(err as Error).message}`);
  }
  return out;
}

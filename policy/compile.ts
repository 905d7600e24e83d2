/**
 * The compiler's front door (pure): API objects → validated policies → IR for one
 * node → rendered chains and sets. Invalid policies are reported and left out; all
 * others are compiled.
 */
import { validatePolicy } from './model/validate.js';
import { namespaceFromObject, podFromObject, type Snapshot } from './model/snapshot.js';
import type { Policy } from './model/types.js';
import { resolveNode } from './resolve/resolve.js';
import { renderNode } from './render/chains.js';
import type { NodeIR, RejectedPolicy } from './ir/types.js';
import type { Rendered } from './render/model.js';

export interface Compiled {
  ir: NodeIR;
  rendered: Rendered;
  rejected: RejectedPolicy[];
  policies: Policy[];
}

/** `validate`: validatePolicy, or a cached form of it (the agent's validatePolicyCached) */
export function validatePolicies(objects: readonly unknown[], validate: typeof validatePolicy = validatePolicy): { policies: Policy[]; rejected: RejectedPolicy[] } {
  const policies: Policy[] = [];
  const rejected: RejectedPolicy[] = [];
  for (const o of objects) {
    const v = validate(o);
    if (v.ok) policies.push(v.policy);
    else rejected.push({ name: v.name, errors: v.errors });
  }
  return { policies, rejected };
}

export function snapshotFromObjects(pods: unknown[], namespaces: unknown[]): Snapshot {
  return { pods: pods.map(podFromObject), namespaces: namespaces.map(namespaceFromObject) };
}

export function compile(snapshot: Snapshot, policyObjects: readonly unknown[], node: string | null, validate: typeof validatePolicy = validatePolicy): Compiled {
  const { policies, rejected } = validatePolicies(policyObjects, validate);
  const ir = resolveNode(snapshot, policies, node);
  return { ir, rendered: renderNode(ir), rejected, policies };
}

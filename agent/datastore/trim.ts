/**
 * What the agent keeps of a Pod or Node it watches (pure): the fields it reads, not the
 * whole object. A real Pod carries managedFields, env, volumes, container statuses
 * (≈5 KB each: 30 000 pods ≈ 300 MB of heap on every node), a Node its image list and
 * heartbeats. Kept: metadata (without managedFields); of a Pod spec.nodeName,
 * spec.hostNetwork, the containers' and init containers' names, ports and
 * restartPolicy, status.phase/podIP/podIPs (policy/model/snapshot.ts podFromObject);
 * of a Node its spec and status.addresses (node-config). Other kinds: managedFields
 * dropped. Called after validation, so the schema saw the whole object.
 */
import type { Resource } from './resources.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `o` with only the keys named, those it has. */
function pick(o: unknown, keys: readonly string[]): Obj | undefined {
  if (!isObj(o)) return undefined;
  const out: Obj = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

const containers = (v: unknown, keys: readonly string[]): unknown => (Array.isArray(v) ? v.map((c) => pick(c, keys) ?? c) : v);

export function trimForAgent(obj: Resource): Resource {
  const { managedFields: _dropped, ...metadata } = obj.metadata as Resource['metadata'] & { managedFields?: unknown };
  const o = obj as unknown as Obj;
  if (obj.kind === 'Pod') {
    const spec = pick(o.spec, ['nodeName', 'hostNetwork']) ?? {};
    if (isObj(o.spec)) {
      if (o.spec.containers !== undefined) spec.containers = containers(o.spec.containers, ['name', 'ports']);
      if (o.spec.initContainers !== undefined) spec.initContainers = containers(o.spec.initContainers, ['name', 'ports', 'restartPolicy']);
    }
    const status = pick(o.status, ['phase', 'podIP', 'podIPs']);
    return { apiVersion: obj.apiVersion, kind: obj.kind, metadata, spec, ...(status ? { status } : {}) } as unknown as Resource;
  }
  if (obj.kind === 'Node') {
    const status = pick(o.status, ['addresses']);
    return { apiVersion: obj.apiVersion, kind: obj.kind, metadata, ...(o.spec !== undefined ? { spec: o.spec } : {}), ...(status ? { status } : {}) } as unknown as Resource;
  }
  return { ...obj, metadata } as Resource;
}

/**
 * Datastores: where the agent reads the cluster from.
 * - `createDatastore({ type: 'file', dir })` — a directory of YAML manifests;
 * - `createDatastore({ type: 'kubernetes', server?, kubeconfig? })` — the API server.
 * Both validate every object with the CRD / API schemas in crds/ (one source of
 * truth) and deliver whole Snapshots. IPAM records: FileIpamStore (agent/ipam) in
 * file mode, KubernetesIpamStore (CRD objects) in kubernetes mode.
 */
import type { Logger } from 'pino';
import { validateObject } from '../../crds/schemas.js';
import { FileDatastore } from './file-datastore.js';
import { KubernetesDatastore } from './kubernetes-datastore.js';
import type { Datastore } from './datastore.js';
import { withSemanticChecks, type ObjectValidator } from './validate.js';

export type { Datastore, DatastoreListener, Rejection } from './datastore.js';
export type { Snapshot } from './snapshot.js';
export { objectsOf, getObject } from './snapshot.js';
export type { Resource, ResourceKind } from './resources.js';
export { KubernetesIpamStore } from './kubernetes-ipam-store.js';
export { loadKubeConfig } from './kubernetes-transport.js';

export type DatastoreConfig =
  | { type: 'file'; dir: string; pollIntervalMs?: number }
  | { type: 'kubernetes'; server?: string; kubeconfig?: string };

/** The schema check every object gets, from crds/ (margay kinds, NetworkPolicy, core kinds), and the selector checks. */
export const schemaValidator: ObjectValidator = withSemanticChecks((obj) => {
  const r = validateObject(obj);
  return r.ok ? { ok: true, object: r.object } : { ok: false, errors: r.errors };
});

export function createDatastore(config: DatastoreConfig, log?: Logger): Datastore {
  if (config.type === 'file') {
    return new FileDatastore({ dir: config.dir, validate: schemaValidator, ...(log ? { log } : {}), ...(config.pollIntervalMs ? { pollIntervalMs: config.pollIntervalMs } : {}) });
  }
  return new KubernetesDatastore({
    validate: schemaValidator,
    ...(config.server ? { server: config.server } : {}),
    ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
    ...(log ? { log } : {}),
  });
}

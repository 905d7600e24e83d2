/**
 * IPAM records as CRD objects (IPAMBlock, IPAMHandle) in the Kubernetes API, with
 * the compare-and-swap IPAM needs done by the API server's optimistic concurrency:
 * a record's version is its metadata.resourceVersion; an update states the version
 * it read (409 Conflict if the object moved on); a create fails with 409
 * AlreadyExists; a delete carries `preconditions.resourceVersion`.
 *
 * Object names: a block is named after its CIDR with '.', ':' and '/' as '-'
 * (10.244.1.0/26 → 10-244-1-0-26, injective for canonical CIDRs); a handle after
 * the handle id lower-cased with anything a name cannot hold as '-', plus a short
 * hash of the exact id so that two ids never share a name. The spec keeps the exact
 * key (spec.cidr / spec.handle), which is what `keys` and `list` return.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, KubeRequestError } from './kubernetes-transport.js';
import type { IpamStore, PutResult, Versioned } from '../ipam/store.js';
import type { IpamKind, IpamRecords } from '../ipam/types.js';

const KIND: Record<IpamKind, { kind: string; plural: string }> = {
  block: { kind: 'IPAMBlock', plural: 'ipamblocks' },
  handle: { kind: 'IPAMHandle', plural: 'ipamhandles' },
};
const BASE = '/apis/margay.io/v1';

export function blockObjectName(cidr: string): string {
  return cidr.toLowerCase().replace(/[.:/]/g, '-');
}

export function handleObjectName(handle: string): string {
  const safe = handle.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 200) || 'h';
  const hash = createHash('sha256').update(handle).digest('hex').slice(0, 10);
  return `${safe}-${hash}`;
}

export function ipamObjectName(kind: IpamKind, key: string): string {
  return kind === 'block' ? blockObjectName(key) : handleObjectName(key);
}

interface CrdObject<T> {
  metadata: { name: string; resourceVersion: string };
  spec: T;
}

export class KubernetesIpamStore implements IpamStore {
  constructor(private readonly kc: KubeConfig) {}

  async get<K extends IpamKind>(kind: K, key: string): Promise<Versioned<IpamRecords[K]> | undefined> {
    try {
      const obj = (await kubeRequest(this.kc, 'GET', this.path(kind, key))) as unknown as CrdObject<IpamRecords[K]>;
      return { value: obj.spec, version: obj.metadata.resourceVersion };
    } catch (err) {
      if (err instanceof KubeRequestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async list<K extends IpamKind>(kind: K): Promise<Versioned<IpamRecords[K]>[]> {
    const body = await kubeRequest(this.kc, 'GET', `${BASE}/${KIND[kind].plural}`);
    const items = (Array.isArray(body.items) ? body.items : []) as CrdObject<IpamRecords[K]>[];
    return items
      .map((o) => ({ value: o.spec, version: o.metadata.resourceVersion }))
      .sort((a, b) => (keyOf(kind, a.value) < keyOf(kind, b.value) ? -1 : 1));
  }

  async keys(kind: IpamKind): Promise<string[]> {
    return (await this.list(kind)).map((r) => keyOf(kind, r.value)).sort();
  }

  async put<K extends IpamKind>(kind: K, key: string, value: IpamRecords[K], expectedVersion: string | undefined): Promise<PutResult<IpamRecords[K]>> {
    const name = ipamObjectName(kind, key);
    const body = {
      apiVersion: 'margay.io/v1',
      kind: KIND[kind].kind,
      metadata: { name, ...(expectedVersion !== undefined ? { resourceVersion: expectedVersion } : {}) },
      spec: value,
    };
    try {
      const obj = (expectedVersion === undefined
        ? await kubeRequest(this.kc, 'POST', `${BASE}/${KIND[kind].plural}`, body)
        : await kubeRequest(this.kc, 'PUT', this.path(kind, key), body)) as unknown as CrdObject<IpamRecords[K]>;
      return { ok: true, record: { value: obj.spec, version: obj.metadata.resourceVersion } };
    } catch (err) {
      if (err instanceof KubeRequestError && (err.statusCode === 409 || err.statusCode === 404)) return { ok: false, reason: 'conflict' };
      throw err;
    }
  }

  async delete(kind: IpamKind, key: string, expectedVersion: string): Promise<boolean> {
    try {
      await kubeRequest(this.kc, 'DELETE', this.path(kind, key), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { resourceVersion: expectedVersion },
      });
      return true;
    } catch (err) {
      if (err instanceof KubeRequestError && (err.statusCode === 409 || err.statusCode === 404)) return false;
      throw err;
    }
  }

  private path(kind: IpamKind, key: string): string {
    return `${BASE}/${KIND[kind].plural}/${ipamObjectName(kind, key)}`;
  }
}

function keyOf(kind: IpamKind, v: IpamRecords[IpamKind]): string {
  return kind === 'block' ? (v as IpamRecords['block']).cidr : (v as IpamRecords['handle']).handle;
}

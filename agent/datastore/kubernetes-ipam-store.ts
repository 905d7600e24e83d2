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
 *
 * An update is a PUT, which replaces the whole object: it carries the metadata of
 * the version it replaces (labels, annotations, finalizers, ownerReferences others
 * added; not what the server owns: managedFields, timestamps, generation), so a block
 * write never wipes them. That metadata is remembered per object from every get,
 * list, put answer and watch event (only what goes beyond name and version); an
 * update from a version not seen here reads the object first (a different version
 * there is a conflict at once).
 *
 * `list` reads the latest records (resourceVersion "", never the watch cache) in pages.
 *
 * Change feed (`watch`): one Reflector per kind (list, then watch from the list's
 * resourceVersion with bookmarks; a dropped watch resumes from the last
 * resourceVersion; 410 Gone re-lists) keeps the records in memory; a burst of
 * events is delivered once, whole, after `coalesceMs`, with the keys it touched (a
 * re-list's by difference). `watch` resolves once both kinds are listed; a first list
 * that keeps failing is retried until the watch's `signal` aborts, which stops the
 * reflectors (settling their start()) and so resolves it.
 *
 * Failures of get/list/put/delete are IpamErrors naming the verb, path and status
 * (`storeError`): temporary ones (unreachable, 408, 429, 5xx) `unavailable` (CNI
 * "try again later"), the rest `store` (CNI I/O failure), as the file store's are.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { kubeRequest, KubeRequestError, kubeTransport, type WatchedKind } from './kubernetes-transport.js';
import { Reflector, type ReflectorSink } from './reflector.js';
import type { Resource } from './resources.js';
import type { IpamChange, IpamStore, IpamWatch, IpamWatchOptions, PutResult, Versioned } from '../ipam/store.js';
import type { IpamKind, IpamRecords } from '../ipam/types.js';
import { IpamError } from '../ipam/errors.js';

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
  metadata: { name: string; resourceVersion: string; [k: string]: unknown };
  spec: T;
}

/** Metadata the API server owns: never sent back in an update. */
const SERVER_OWNED = new Set(['name', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']);

/** What an update must carry of an object's metadata besides name and resourceVersion (undefined: nothing). */
function carriedMetadata(meta: Record<string, unknown>): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(meta)) if (!SERVER_OWNED.has(k) && v !== undefined) (out ??= {})[k] = v;
  return out;
}

export interface KubernetesIpamStoreOptions {
  log?: Logger;
  /** watch(): coalescing window for a burst of events (default 5 ms) */
  coalesceMs?: number;
  /** list(): page size (default 500, as client-go) */
  listPageSize?: number;
  /** a fixed watch timeoutSeconds (tests); default: random in [300, 600) per watch, as client-go */
  watchTimeoutSeconds?: number;
  /** silence after which a watch is ended and resumed (default 100 s; bookmarks come about every 60 s) */
  watchIdleMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class KubernetesIpamStore implements IpamStore {
  /** per kind/object name: the last version seen and the metadata an update of it must carry */
  private readonly seen = new Map<string, { version: string; carried?: Record<string, unknown> }>();

  constructor(private readonly kc: KubeConfig, private readonly opts: KubernetesIpamStoreOptions = {}) {}

  private remember(kind: IpamKind, obj: { metadata?: CrdObject<unknown>['metadata'] } | undefined): void {
    const m = obj?.metadata;
    if (!m?.name || typeof m.resourceVersion !== 'string') return;
    const carried = carriedMetadata(m);
    this.seen.set(`${kind}/${m.name}`, carried ? { version: m.resourceVersion, carried } : { version: m.resourceVersion });
  }

  private forget(kind: IpamKind, name: string): void {
    this.seen.delete(`${kind}/${name}`);
  }

  async watch(onChange: (change: IpamChange) => void, opts: IpamWatchOptions = {}): Promise<IpamWatch> {
    const reflectors: Reflector[] = [];
    const timers = new Set<NodeJS.Timeout>();
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      opts.signal?.removeEventListener('abort', close);
      for (const r of reflectors) r.stop();
      for (const t of timers) clearTimeout(t);
    };
    const handle: IpamWatch = { close };
    if (opts.signal?.aborted) return handle;
    const start = async (kind: IpamKind): Promise<void> => {
      const records = new Map<string, Versioned<IpamRecords[IpamKind]>>();
      // keys written or deleted since the last delivery (known once live: the first delivery is a plain list)
      const touched = new Set<string>();
      let live = false;
      let timer: NodeJS.Timeout | undefined;
      const deliver = (): void => {
        const sorted = [...records.values()].sort((a, b) => (keyOf(kind, a.value) < keyOf(kind, b.value) ? -1 : 1));
        const keys = live ? { touched: [...touched].sort() } : {};
        touched.clear();
        onChange(kind === 'block' ? { kind, records: sorted as Versioned<IpamRecords['block']>[], ...keys } : { kind, records: sorted as Versioned<IpamRecords['handle']>[], ...keys });
      };
      const changed = (): void => {
        if (!live || closed || timer) return;
        timer = setTimeout(() => { timers.delete(timer as NodeJS.Timeout); timer = undefined; if (!closed) deliver(); }, this.opts.coalesceMs ?? 5);
        timers.add(timer);
      };
      const recordOf = (o: Resource): [string, Versioned<IpamRecords[IpamKind]>] | undefined => {
        const obj = o as unknown as CrdObject<IpamRecords[IpamKind]>;
        return obj.metadata?.name && obj.spec ? [obj.metadata.name, { value: obj.spec, version: obj.metadata.resourceVersion }] : undefined;
      };
      const sink: ReflectorSink = {
        replace: (items) => {
          const before = new Map(records);
          records.clear();
          for (const o of items) {
            const r = recordOf(o);
            if (r) records.set(...r);
            this.remember(kind, o as unknown as CrdObject<unknown>);
          }
          for (const name of before.keys()) if (!records.has(name)) this.forget(kind, name);
          // a re-list (410 Gone) says what moved only by difference
          for (const [name, r] of records) if (before.get(name)?.version !== r.version) touched.add(keyOf(kind, r.value));
          for (const [name, r] of before) if (!records.has(name)) touched.add(keyOf(kind, r.value));
          changed();
        },
        upsert: (o) => {
          const r = recordOf(o);
          this.remember(kind, o as unknown as CrdObject<unknown>);
          if (!r) return;
          records.set(...r);
          touched.add(keyOf(kind, r[1].value));
          changed();
        },
        remove: (o) => {
          this.forget(kind, o.metadata.name);
          const r = records.get(o.metadata.name);
          if (!r) return;
          records.delete(o.metadata.name);
          touched.add(keyOf(kind, r.value));
          changed();
        },
        error: (err, phase) => this.opts.log?.warn({ kind: KIND[kind].kind, phase, err: err instanceof Error ? err.message : String(err) }, `${phase} ${KIND[kind].plural} failed; retrying`),
        relisted: (reason) => { if (reason === 'gone') this.opts.log?.info({ kind: KIND[kind].kind }, `watch history expired (410 Gone); re-listed ${KIND[kind].plural}`); },
      };
      const r = new Reflector(kubeTransport(this.kc, infoOf(kind), { watchTimeoutSeconds: this.opts.watchTimeoutSeconds, watchIdleMs: this.opts.watchIdleMs }), sink, {
        minBackoffMs: this.opts.minBackoffMs ?? 250, maxBackoffMs: this.opts.maxBackoffMs ?? 10_000,
      });
      reflectors.push(r);
      await r.start();
      if (closed) return;
      deliver();
      live = true;
    };
    // both reflectors exist once start() has run to its first await: close() reaches them
    const started = Promise.all((['block', 'handle'] as const).map(start));
    // a first list that keeps failing retries until closed: close() stops the reflectors, which settles their start()
    opts.signal?.addEventListener('abort', close, { once: true });
    await started;
    return handle;
  }

  async get<K extends IpamKind>(kind: K, key: string): Promise<Versioned<IpamRecords[K]> | undefined> {
    const path = this.path(kind, key);
    try {
      const obj = (await kubeRequest(this.kc, 'GET', path)) as unknown as CrdObject<IpamRecords[K]>;
      this.remember(kind, obj);
      return { value: obj.spec, version: obj.metadata.resourceVersion };
    } catch (err) {
      if (err instanceof KubeRequestError && err.statusCode === 404) return undefined;
      throw storeError(err, 'GET', path);
    }
  }

  async list<K extends IpamKind>(kind: K): Promise<Versioned<IpamRecords[K]>[]> {
    const path = `${BASE}/${KIND[kind].plural}`;
    // the latest records (resourceVersion "": a quorum read, never the watch cache), in pages
    const lister = kubeTransport(this.kc, infoOf(kind), { pageSize: this.opts.listPageSize });
    const body = await lister.list('').catch((err: unknown) => { throw storeError(err, 'GET', path); });
    const items = body.items as unknown as CrdObject<IpamRecords[K]>[];
    for (const o of items) this.remember(kind, o);
    return items
      .map((o) => ({ value: o.spec, version: o.metadata.resourceVersion }))
      .sort((a, b) => (keyOf(kind, a.value) < keyOf(kind, b.value) ? -1 : 1));
  }

  async keys(kind: IpamKind): Promise<string[]> {
    return (await this.list(kind)).map((r) => keyOf(kind, r.value)).sort();
  }

  async put<K extends IpamKind>(kind: K, key: string, value: IpamRecords[K], expectedVersion: string | undefined): Promise<PutResult<IpamRecords[K]>> {
    const name = ipamObjectName(kind, key);
    let carried: Record<string, unknown> | undefined;
    if (expectedVersion !== undefined) {
      // a PUT replaces the object: keep the metadata of the version it replaces
      let seen = this.seen.get(`${kind}/${name}`);
      if (seen?.version !== expectedVersion) {
        const current = await this.get(kind, key);
        if (current?.version !== expectedVersion) return { ok: false, reason: 'conflict' };
        seen = this.seen.get(`${kind}/${name}`);
      }
      carried = seen?.version === expectedVersion ? seen.carried : undefined;
    }
    const body = {
      apiVersion: 'margay.io/v1',
      kind: KIND[kind].kind,
      metadata: { ...carried, name, ...(expectedVersion !== undefined ? { resourceVersion: expectedVersion } : {}) },
      spec: value,
    };
    const [verb, path] = expectedVersion === undefined ? ['POST', `${BASE}/${KIND[kind].plural}`] as const : ['PUT', this.path(kind, key)] as const;
    try {
      const obj = (await kubeRequest(this.kc, verb, path, body)) as unknown as CrdObject<IpamRecords[K]>;
      this.remember(kind, obj);
      return { ok: true, record: { value: obj.spec, version: obj.metadata.resourceVersion } };
    } catch (err) {
      if (err instanceof KubeRequestError && (err.statusCode === 409 || err.statusCode === 404)) return { ok: false, reason: 'conflict' };
      throw storeError(err, verb, path);
    }
  }

  async delete(kind: IpamKind, key: string, expectedVersion: string): Promise<boolean> {
    const path = this.path(kind, key);
    try {
      await kubeRequest(this.kc, 'DELETE', path, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { resourceVersion: expectedVersion },
      });
      this.forget(kind, ipamObjectName(kind, key));
      return true;
    } catch (err) {
      if (err instanceof KubeRequestError && (err.statusCode === 409 || err.statusCode === 404)) return false;
      throw storeError(err, 'DELETE', path);
    }
  }

  private path(kind: IpamKind, key: string): string {
    return `${BASE}/${KIND[kind].plural}/${ipamObjectName(kind, key)}`;
  }
}

/** Socket-level failures of a request that was never answered: the API server may be back soon. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

function networkFailure(err: unknown): boolean {
  // fetch() rejects with TypeError('fetch failed'), the socket error as its cause
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
  }
  return false;
}

/**
 * A failed request as an IpamError the CNI side can map: `unavailable` (try again
 * later) for an API server unreachable, overloaded or failing (408, 429, 5xx),
 * `store` (I/O failure) for the rest. A KubeRequestError's message already names
 * verb, path and status; a network failure's gets them here.
 */
export function storeError(err: unknown, verb: string, path: string): IpamError {
  if (err instanceof IpamError) return err;
  if (err instanceof KubeRequestError) {
    const s = err.statusCode;
    return new IpamError(s === 408 || s === 429 || s >= 500 ? 'unavailable' : 'store', `Kubernetes API: ${err.message}`);
  }
  const why = err instanceof Error ? err.message + (err.cause instanceof Error ? `: ${err.cause.message}` : '') : String(err);
  return new IpamError(networkFailure(err) ? 'unavailable' : 'store', `Kubernetes API: ${verb} ${path}: ${why}`);
}

function infoOf(kind: IpamKind): WatchedKind {
  return { kind: KIND[kind].kind, apiVersion: 'margay.io/v1', group: 'margay.io', version: 'v1', plural: KIND[kind].plural };
}

function keyOf(kind: IpamKind, v: IpamRecords[IpamKind]): string {
  return kind === 'block' ? (v as IpamRecords['block']).cidr : (v as IpamRecords['handle']).handle;
}

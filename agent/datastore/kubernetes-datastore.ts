/**
 * The `kubernetes` datastore: one reflector per kind (Nodes, Namespaces, Pods,
 * NetworkPolicies and margay's CRDs) against the API server. Changes are coalesced
 * (a burst of events yields one snapshot) and delivered whole. Each object is
 * validated with the same schemas (and selector checks) as the file datastore; an
 * invalid one is logged with its field paths and left out, the rest keeps working.
 * An update that makes a cached object invalid — one the API server accepted but
 * margay cannot read, e.g. a selector CEL cannot parse — keeps the cached (last good)
 * version, on a watch event and on a re-list, as the file datastore does; the
 * rejection ends with "(last good version kept)". Deleting the object deletes it.
 */
import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { KINDS, describeObject, objectKey, type KindInfo, type Resource, type ResourceKind } from './resources.js';
import { trimForAgent } from './trim.js';
import { ObjectCache } from './snapshot.js';
import { Reflector } from './reflector.js';
import { kubeTransport, loadKubeConfig, type KubeConnection } from './kubernetes-transport.js';
import { checkEnvelope, type ObjectValidator } from './validate.js';
import type { Datastore, DatastoreListener } from './datastore.js';

export interface KubernetesDatastoreOptions extends KubeConnection {
  validate?: ObjectValidator;
  log?: Logger;
  /** coalescing window for bursts of events */
  coalesceMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** a fixed watch timeoutSeconds (tests); default: random in [300, 600) per watch, as client-go */
  watchTimeoutSeconds?: number;
  /** silence after which a watch is ended and resumed (default 100 s; bookmarks come about every 60 s) */
  watchIdleMs?: number;
}

export class KubernetesDatastore implements Datastore {
  readonly name = 'kubernetes' as const;
  readonly kubeConfig: KubeConfig;
  private readonly cache = new ObjectCache();
  /** what the cache holds per kind and key (ObjectCache has no lookup): the last good versions */
  private readonly held = new Map<ResourceKind, Map<string, Resource>>();
  private readonly reflectors: Reflector[] = [];
  private listener?: DatastoreListener;
  private flushTimer?: NodeJS.Timeout;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: KubernetesDatastoreOptions) {
    this.kubeConfig = loadKubeConfig(opts);
  }

  async start(listener: DatastoreListener): Promise<void> {
    this.listener = listener;
    if (this.stopped) return;
    const syncs = KINDS.map((info) => {
      const r = new Reflector(kubeTransport(this.kubeConfig, info, { watchTimeoutSeconds: this.opts.watchTimeoutSeconds, watchIdleMs: this.opts.watchIdleMs }), this.sinkFor(info), {
        minBackoffMs: this.opts.minBackoffMs ?? 250,
        maxBackoffMs: this.opts.maxBackoffMs ?? 10_000,
      });
      this.reflectors.push(r);
      return r.start();
    });
    // stop() settles every reflector's start(): a first list that keeps failing ends here, with no snapshot
    const how = await Promise.all(syncs);
    if (this.stopped || how.includes('stopped')) return;
    this.started = true;
    this.listener.onSnapshot(this.cache.snapshot());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.reflectors) r.stop();
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }

  private sinkFor(info: KindInfo) {
    return {
      replace: (items: Resource[]) => {
        // a (re-)list says what stands now: the kind's earlier rejections are superseded by those admit() reports
        this.listener?.onSourceRead?.(`kubernetes:${info.plural}`);
        const ok: Resource[] = [];
        for (const item of items) {
          const r = this.admit(info, item);
          if (r !== undefined) ok.push(r);
        }
        this.held.set(info.kind, new Map(ok.map((o) => [objectKey(o.metadata), o])));
        if (this.cache.replaceKind(info.kind, ok)) this.changed();
      },
      upsert: (obj: Resource) => {
        const ok = this.admit(info, obj);
        if (!ok) return;
        // only what trimming dropped changed (a Pod's container statuses, a Node's heartbeat): the
        // same object as before, so no snapshot, no policy or routing pass on every node
        const prev = this.heldOf(info.kind).get(objectKey(ok.metadata));
        if (prev !== undefined && sameButVersion(prev, ok)) return;
        this.heldOf(info.kind).set(objectKey(ok.metadata), ok);
        if (this.cache.set(ok)) this.changed();
      },
      remove: (obj: Resource) => {
        const key = objectKey(obj.metadata);
        this.listener?.onDeleted?.(`kubernetes:${info.plural}`, describeObject(info.kind, obj.metadata));
        this.heldOf(info.kind).delete(key);
        if (this.cache.delete(info.kind, key)) this.changed();
      },
      error: (err: unknown, phase: 'list' | 'watch') => {
        this.opts.log?.warn({ kind: info.kind, phase, err: err instanceof Error ? err.message : String(err) }, `${phase} ${info.plural} failed; retrying`);
      },
      watchEnded: (how: 'closed' | 'timeout') => {
        this.opts.log?.debug({ kind: info.kind, how }, `watch ${info.plural} ended (${how}); resuming`);
      },
      relisted: (reason: 'initial' | 'gone') => {
        if (reason === 'gone') this.opts.log?.info({ kind: info.kind }, `watch history expired (410 Gone); re-listed ${info.plural}`);
      },
    };
  }

  /** The object to cache: the validated one, else (rejected) the cached last good version, if any. */
  private admit(info: KindInfo, raw: Resource): Resource | undefined {
    const obj = { ...raw, kind: info.kind, apiVersion: info.apiVersion } as Resource;
    const env = checkEnvelope(obj);
    const errors = env.ok ? (this.opts.validate ? this.opts.validate(env.resource) : { ok: true as const }) : { ok: false as const, errors: env.errors };
    // kept as the agent reads it (trim.ts): a watched Pod or Node is mostly fields it never reads
    if (env.ok && errors.ok) return trimForAgent(errors.object !== undefined ? (errors.object as Resource) : env.resource);
    const kept = env.ok ? this.heldOf(info.kind).get(objectKey(env.resource.metadata)) : undefined;
    const errs = ('errors' in errors ? errors.errors : []).map((e) => (kept ? { ...e, message: `${e.message} (last good version kept)` } : e));
    const label = describeObject(info.kind, raw.metadata);
    this.opts.log?.warn({ object: label, errors: errs }, `rejected ${label}: ${errs.map((e) => `${e.path || '(object)'} ${e.message}`).join('; ')}`);
    this.listener?.onRejected?.({ source: `kubernetes:${info.plural}`, object: label, errors: errs, ...(kept ? { kept } : {}) });
    return kept;
  }

  private heldOf(kind: ResourceKind): Map<string, Resource> {
    let m = this.held.get(kind);
    if (!m) this.held.set(kind, (m = new Map()));
    return m;
  }

  private changed(): void {
    if (this.stopped || !this.started || this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.stopped && this.cache.changed) this.listener?.onSnapshot(this.cache.snapshot());
    }, this.opts.coalesceMs ?? 5);
  }
}

/** The two objects are equal but for metadata.resourceVersion (which nothing past the reflector reads). */
function sameButVersion(a: Resource, b: Resource): boolean {
  const text = (o: Resource): string => JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return text(a) === text(b);
}

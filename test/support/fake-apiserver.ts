/**
 * An in-process fake Kubernetes API server that speaks the real REST list/watch
 * protocol, for testing the kubernetes datastore (no real API server can run here):
 * - list: `{kind: XList, metadata: {resourceVersion}, items}` with a global,
 *   monotonically growing resourceVersion;
 * - watch (`?watch=true&resourceVersion=N`): newline-delimited JSON events
 *   ADDED / MODIFIED / DELETED after N, BOOKMARK events when asked for
 *   (`allowWatchBookmarks=true`: about every 60 s and 2 s before the end, as the
 *   real server sends them, unless `bookmarkIntervalMs` says otherwise),
 *   `timeoutSeconds` honoured; a resourceVersion older
 *   than the compaction point gets an ERROR event with a 410 Gone Status, as etcd
 *   compaction makes the real server do;
 * - get / create (409 AlreadyExists) / update (409 Conflict on a stale
 *   metadata.resourceVersion) / delete, cluster-scoped and namespaced paths.
 * - list pages: `limit` and `continue` (a token naming the list's resourceVersion and
 *   the last key sent; a token older than the compaction point gets 410 Expired);
 *   a list's `resourceVersion` parameter is only recorded (`requests`), the fake has
 *   no watch cache.
 * `dropWatches()` cuts every open watch (a network blip); `pauseWatches()` leaves the
 * open watches' connections up but sends nothing more on them (a dead host, or a
 * load balancer dropping packets: no RST, no bookmark); `failWatches()` makes new
 * watches fail (an ERROR event after the 200, or an HTTP error status); `compact()`
 * forgets history; `watchDelayMs` holds back a watch's response headers (a slow connect).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KindSpec {
  kind: string;
  group: string; // '' for core
  version: string;
  plural: string;
  namespaced: boolean;
}

export interface FakeApiServerOptions {
  /**
   * BOOKMARK events, for watches that ask for them: like the real API server by
   * default, one about every 60 s and one 2 s before the watch's timeoutSeconds
   * ends; a shorter interval for tests that need bookmarks fast (the final one is
   * still sent); 0 for none at all (a server without bookmarks: a quiet watch gets nothing).
   */
  bookmarkIntervalMs?: number;
  /** delay before a watch's response headers (a slow connect); the watch counts as open once they are sent */
  watchDelayMs?: number;
}

interface StoredObject {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; resourceVersion: string; uid: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  plural: string;
  group: string;
  object: StoredObject;
}

interface OpenWatch {
  res: ServerResponse;
  spec: KindSpec;
  namespace?: string;
  timers: NodeJS.Timeout[];
  paused?: boolean;
}

/** A Status a failing watch answers with: as an ERROR event after a 200 (`event`), or as the HTTP status of the response (`http`). */
export interface WatchFailure {
  code: number;
  reason: string;
  message?: string;
  as?: 'event' | 'http';
}

export class FakeApiServer {
  private server?: Server;
  private rv = 100;
  private compactedRv = 0;
  private uid = 0;
  private readonly objects = new Map<string, StoredObject>(); // group/plural/ns/name
  private readonly history: WatchEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  /** every request, with the (real) time it arrived in ms */
  readonly requests: { method: string; url: string; at: number }[] = [];
  private watchDelayMs: number;
  private watchFailure?: WatchFailure;
  /** called with each request's URL before it is answered (a test can change state "between" requests) */
  onRequest?: (url: string, method: string) => void;

  constructor(private readonly kinds: KindSpec[], private readonly opts: FakeApiServerOptions = {}) {
    this.watchDelayMs = opts.watchDelayMs ?? 0;
  }

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return this.url;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new Error('fake API server is not running');
    return `http://127.0.0.1:${a.port}`;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Cuts every open watch connection, as a network blip or an API server restart would. */
  dropWatches(): void {
    for (const w of this.watches) this.endWatch(w, true);
  }

  /** Open watches stay connected but get nothing more: no events, no bookmarks, no end (a server that died without a RST). */
  pauseWatches(): void {
    for (const w of this.watches) {
      for (const t of w.timers) clearInterval(t);
      w.timers = [];
      w.paused = true;
    }
  }

  /** From now on every new watch fails this way (undefined: watches work again). */
  failWatches(failure: WatchFailure | undefined): void {
    this.watchFailure = failure;
  }

  /** From now on a watch's response waits `ms` (0: none), as from a slow or restarting server; it is answered from the state at that time. */
  slowWatches(ms: number): void {
    this.watchDelayMs = ms;
  }

  /** Forgets the event history: a watch from an older resourceVersion now gets 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  // ---- direct object manipulation for tests (same semantics as the REST verbs) ----

  create(obj: Record<string, unknown>): StoredObject {
    const spec = this.specOf(obj.kind as string);
    const r = this.doCreate(spec, obj);
    if ('error' in r) throw new Error(r.error.message);
    return r.obj;
  }

  update(obj: Record<string, unknown>): StoredObject {
    const spec = this.specOf(obj.kind as string);
    const meta = obj.metadata as { name: string; namespace?: string };
    const current = this.objects.get(this.key(spec, meta.namespace, meta.name));
    const withRv = { ...obj, metadata: { ...meta, resourceVersion: current?.metadata.resourceVersion } };
    const r = this.doUpdate(spec, meta.namespace, meta.name, withRv);
    if ('error' in r) throw new Error(r.error.message);
    return r.obj;
  }

  delete(kind: string, name: string, namespace?: string): void {
    const spec = this.specOf(kind);
    const r = this.doDelete(spec, namespace, name);
    if ('error' in r) throw new Error(r.error.message);
  }

  get(kind: string, name: string, namespace?: string): StoredObject | undefined {
    return this.objects.get(this.key(this.specOf(kind), namespace, name));
  }

  list(kind: string): StoredObject[] {
    const spec = this.specOf(kind);
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${spec.group}/${spec.plural}/`)).map(([, v]) => v);
  }

  // ---- HTTP ----

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', at: Date.now() });
    this.onRequest?.(req.url ?? '', req.method ?? 'GET');
    const url = new URL(req.url ?? '/', 'http://x');
    const route = this.route(url.pathname);
    if (!route) return this.status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const { spec, namespace, name } = route;
    const method = req.method ?? 'GET';
    if (method === 'GET' && name === undefined) {
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        const delay = this.watchDelayMs;
        if (delay <= 0) return this.watch(res, spec, namespace, url.searchParams);
        const t = setTimeout(() => { if (!res.destroyed) this.watch(res, spec, namespace, url.searchParams); }, delay);
        res.on('close', () => clearTimeout(t));
        return;
      }
      return this.listResponse(res, spec, namespace, url.searchParams);
    }
    if (method === 'GET' && name !== undefined) {
      const obj = this.objects.get(this.key(spec, namespace, name));
      if (!obj) return this.status(res, 404, 'NotFound', `${spec.plural} "${name}" not found`);
      return this.json(res, 200, obj);
    }
    readBody(req).then((body) => {
      let parsed: Record<string, unknown> = {};
      try {
        parsed = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
      } catch {
        return this.status(res, 400, 'BadRequest', 'request body is not JSON');
      }
      let r: { obj: StoredObject } | { error: { code: number; reason: string; message: string } };
      if (method === 'POST' && name === undefined) {
        const meta = (parsed.metadata ?? {}) as Record<string, unknown>;
        r = this.doCreate(spec, { ...parsed, metadata: { ...meta, ...(namespace ? { namespace } : {}) } });
        if ('obj' in r) return this.json(res, 201, r.obj);
      } else if (method === 'PUT' && name !== undefined) {
        r = this.doUpdate(spec, namespace, name, parsed);
      } else if (method === 'DELETE' && name !== undefined) {
        const pre = (parsed.preconditions ?? {}) as { resourceVersion?: string };
        r = this.doDelete(spec, namespace, name, pre.resourceVersion);
      } else {
        return this.status(res, 405, 'MethodNotAllowed', `${method} is not supported here`);
      }
      if ('error' in r) return this.status(res, r.error.code, r.error.reason, r.error.message);
      return this.json(res, 200, r.obj);
    }, () => this.status(res, 400, 'BadRequest', 'unreadable body'));
  }

  private route(path: string): { spec: KindSpec; namespace?: string; name?: string } | undefined {
    const parts = path.split('/').filter((p) => p !== '');
    let group: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] !== undefined) {
      group = '';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts[1] !== undefined && parts[2] !== undefined) {
      group = parts[1];
      rest = parts.slice(3);
    } else {
      return undefined;
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name] = rest;
    if (rest.length > 2) return undefined;
    const spec = this.kinds.find((k) => k.group === group && k.plural === plural);
    if (!spec) {
      // GET /api/v1/namespaces/NAME is a cluster-scoped object get
      if (group === '' && namespace !== undefined && plural === undefined) {
        const nsSpec = this.kinds.find((k) => k.group === '' && k.plural === 'namespaces');
        return nsSpec ? { spec: nsSpec, name: namespace } : undefined;
      }
      return undefined;
    }
    return { spec, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}) };
  }

  private listResponse(res: ServerResponse, spec: KindSpec, namespace: string | undefined, q: URLSearchParams): void {
    let entries = this.entriesOf(spec, namespace).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let rv = this.rv;
    const token = q.get('continue');
    if (token) {
      let parsed: { rv: number; after: string };
      try {
        parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv: number; after: string };
      } catch {
        return this.status(res, 400, 'BadRequest', 'continue key is not valid');
      }
      if (parsed.rv < this.compactedRv) return this.status(res, 410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      rv = parsed.rv;
      entries = entries.filter(([k]) => k > parsed.after);
    }
    const limit = Number(q.get('limit') ?? '0');
    const more = limit > 0 && entries.length > limit;
    if (more) entries = entries.slice(0, limit);
    const last = entries[entries.length - 1];
    const next = more && last ? Buffer.from(JSON.stringify({ rv, after: last[0] })).toString('base64url') : undefined;
    this.json(res, 200, {
      kind: `${spec.kind}List`,
      apiVersion: this.apiVersion(spec),
      metadata: { resourceVersion: String(rv), ...(next ? { continue: next } : {}) },
      items: entries.map(([, v]) => v),
    });
  }

  private watch(res: ServerResponse, spec: KindSpec, namespace: string | undefined, q: URLSearchParams): void {
    const failure = this.watchFailure;
    const failStatus = failure && { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: failure.reason, code: failure.code, message: failure.message ?? failure.reason };
    if (failure?.as === 'http') return this.json(res, failure.code, failStatus);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the real API server does: the client sees the watch open before any event
    const w: OpenWatch = { res, spec, ...(namespace !== undefined ? { namespace } : {}), timers: [] };
    this.watches.add(w);
    res.on('close', () => this.endWatch(w, false));
    const from = q.get('resourceVersion') ?? '';
    if (failStatus) {
      this.send(w, 'ERROR', failStatus);
      this.endWatch(w, true);
      return;
    }
    if (from === '' || from === '0') {
      for (const obj of this.itemsOf(spec, namespace)) this.send(w, 'ADDED', obj);
    } else if (Number(from) < this.compactedRv) {
      this.send(w, 'ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: `too old resource version: ${from} (${this.compactedRv})` });
      this.endWatch(w, true);
      return;
    } else {
      for (const e of this.history) if (e.rv > Number(from) && this.matches(w, e)) this.send(w, e.type, e.object);
    }
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const every = this.opts.bookmarkIntervalMs ?? 60_000;
    if (q.get('allowWatchBookmarks') === 'true' && every > 0) {
      const bookmark = (): void => this.send(w, 'BOOKMARK', { kind: spec.kind, apiVersion: this.apiVersion(spec), metadata: { resourceVersion: String(this.rv) } });
      w.timers.push(setInterval(bookmark, every));
      if (timeout > 2) w.timers.push(setTimeout(bookmark, (timeout - 2) * 1000));
    }
    if (timeout > 0) w.timers.push(setTimeout(() => this.endWatch(w, true), timeout * 1000));
  }

  private matches(w: OpenWatch, e: WatchEvent): boolean {
    return e.plural === w.spec.plural && e.group === w.spec.group && (w.namespace === undefined || e.object.metadata.namespace === w.namespace);
  }

  private send(w: OpenWatch, type: string, object: unknown): void {
    if (!w.res.writableEnded && !w.paused) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private endWatch(w: OpenWatch, end: boolean): void {
    for (const t of w.timers) clearInterval(t);
    this.watches.delete(w);
    if (end && !w.res.writableEnded) {
      w.res.end();
      w.res.socket?.destroy();
    }
  }

  private publish(type: WatchEvent['type'], spec: KindSpec, object: StoredObject): void {
    const e: WatchEvent = { rv: this.rv, type, plural: spec.plural, group: spec.group, object };
    this.history.push(e);
    for (const w of this.watches) if (this.matches(w, e)) this.send(w, type, object);
  }

  private doCreate(spec: KindSpec, obj: Record<string, unknown>): { obj: StoredObject } | { error: { code: number; reason: string; message: string } } {
    const meta = (obj.metadata ?? {}) as Record<string, unknown>;
    const name = meta.name as string | undefined;
    if (!name) return { error: { code: 422, reason: 'Invalid', message: 'metadata.name: Required value' } };
    const namespace = spec.namespaced ? ((meta.namespace as string | undefined) ?? 'default') : undefined;
    const key = this.key(spec, namespace, name);
    if (this.objects.has(key)) return { error: { code: 409, reason: 'AlreadyExists', message: `${spec.plural} "${name}" already exists` } };
    this.rv++;
    const stored: StoredObject = {
      ...obj,
      kind: spec.kind,
      apiVersion: this.apiVersion(spec),
      metadata: { ...meta, name, ...(namespace ? { namespace } : {}), resourceVersion: String(this.rv), uid: `uid-${++this.uid}` },
    };
    this.objects.set(key, stored);
    this.publish('ADDED', spec, stored);
    return { obj: stored };
  }

  private doUpdate(spec: KindSpec, namespace: string | undefined, name: string, obj: Record<string, unknown>): { obj: StoredObject } | { error: { code: number; reason: string; message: string } } {
    const key = this.key(spec, spec.namespaced ? (namespace ?? 'default') : undefined, name);
    const current = this.objects.get(key);
    if (!current) return { error: { code: 404, reason: 'NotFound', message: `${spec.plural} "${name}" not found` } };
    const meta = (obj.metadata ?? {}) as Record<string, unknown>;
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== current.metadata.resourceVersion) {
      return { error: { code: 409, reason: 'Conflict', message: `Operation cannot be fulfilled on ${spec.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again` } };
    }
    this.rv++;
    const stored: StoredObject = { ...obj, kind: spec.kind, apiVersion: this.apiVersion(spec), metadata: { ...meta, name, ...(current.metadata.namespace ? { namespace: current.metadata.namespace } : {}), uid: current.metadata.uid, resourceVersion: String(this.rv) } };
    this.objects.set(key, stored);
    this.publish('MODIFIED', spec, stored);
    return { obj: stored };
  }

  private doDelete(spec: KindSpec, namespace: string | undefined, name: string, precondition?: string): { obj: StoredObject } | { error: { code: number; reason: string; message: string } } {
    const key = this.key(spec, spec.namespaced ? (namespace ?? 'default') : undefined, name);
    const current = this.objects.get(key);
    if (!current) return { error: { code: 404, reason: 'NotFound', message: `${spec.plural} "${name}" not found` } };
    if (precondition !== undefined && precondition !== current.metadata.resourceVersion) {
      return { error: { code: 409, reason: 'Conflict', message: `Precondition failed: UID in precondition / ResourceVersion ${precondition} does not match ${current.metadata.resourceVersion}` } };
    }
    this.objects.delete(key);
    this.rv++;
    const gone: StoredObject = { ...current, metadata: { ...current.metadata, resourceVersion: String(this.rv) } };
    this.publish('DELETED', spec, gone);
    return { obj: gone };
  }

  private itemsOf(spec: KindSpec, namespace?: string): StoredObject[] {
    return this.entriesOf(spec, namespace).map(([, v]) => v);
  }

  private entriesOf(spec: KindSpec, namespace?: string): [string, StoredObject][] {
    const prefix = `${spec.group}/${spec.plural}/${namespace !== undefined ? `${namespace}/` : ''}`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix));
  }

  private key(spec: KindSpec, namespace: string | undefined, name: string): string {
    return `${spec.group}/${spec.plural}/${spec.namespaced ? `${namespace ?? 'default'}/` : ''}${name}`;
  }

  private apiVersion(spec: KindSpec): string {
    return spec.group === '' ? spec.version : `${spec.group}/${spec.version}`;
  }

  private specOf(kind: string): KindSpec {
    const s = this.kinds.find((k) => k.kind === kind);
    if (!s) throw new Error(`fake API server: unknown kind ${kind}`);
    return s;
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    this.json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

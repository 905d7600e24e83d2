/**
 * List and watch over the real Kubernetes REST protocol with @kubernetes/client-node:
 * its KubeConfig supplies the server and credentials (kubeconfig file, in-cluster
 * service account, or an explicit server URL), its Watch streams events. Lists are
 * plain GETs authenticated the same way, so timestamps stay strings exactly as
 * the watch delivers them.
 *
 * Load on the API server, as client-go keeps it: lists ask for pages of
 * `LIST_PAGE_SIZE` (following `continue`; a continue token that expired, 410, falls
 * back to one list without a limit) at the resourceVersion the reflector asks for
 * ("0" first: the watch cache may answer, no etcd quorum read per node; "" after
 * 410 Gone); each watch asks for a timeoutSeconds drawn between 5 and 10 minutes,
 * so that the watches of all nodes do not reconnect in step after an API server
 * restart. A watch with bookmarks gets one about every minute from a live server:
 * silence for `WATCH_IDLE_MS` means the server or the path to it is gone (a crashed
 * host, a load balancer dropping packets: no RST ever comes), and the client ends
 * the watch — a normal end, resumed from the last resourceVersion.
 */
import { HttpMethod, KubeConfig, RequestContext, Watch } from '@kubernetes/client-node';
// client-node's dispatcher (TLS, credentials) belongs to its undici; use the same fetch.
import { fetch, type Dispatcher } from 'undici';
import { listPath, type KindInfo, type Resource } from './resources.js';
import type { ListResult, ReflectorTransport, WatchEventType } from './reflector.js';

export interface KubeConnection {
  /** an explicit API server URL (tests, or `--kube-server`); otherwise kubeconfig / in-cluster */
  server?: string;
  kubeconfig?: string;
}

export function loadKubeConfig(conn: KubeConnection): KubeConfig {
  const kc = new KubeConfig();
  if (conn.server) {
    kc.loadFromOptions({
      // client-node refuses plain http unless TLS verification is explicitly off
      clusters: [{ name: 'c', server: conn.server, skipTLSVerify: conn.server.startsWith('http:') }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  } else if (conn.kubeconfig) {
    kc.loadFromFile(conn.kubeconfig);
  } else {
    kc.loadFromDefault();
  }
  return kc;
}

export class KubeRequestError extends Error {
  constructor(readonly statusCode: number, readonly reason: string, message: string) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

/** A GET/POST/PUT/DELETE against the API server with the kubeconfig's credentials. */
/**
 * The longest a single request (not a watch) waits for its answer: without it a hung
 * API server holds a CNI ADD, an IPAM write or a Secret read for undici's 300 s. A
 * timeout is a 408 (try again later); for a write, like any lost answer, it may or
 * may not have been applied — the callers re-read (IPAM) or retry (Secrets).
 */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000;

export async function kubeRequest(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, opts: { timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubernetes datastore: no current cluster in kubeconfig');
  const url = `${cluster.server.replace(/\/$/, '')}${path}`;
  const ctx = new RequestContext(url, HttpMethod[method]);
  await kc.applySecurityAuthentication(ctx);
  const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const dispatcher = ctx.getDispatcher() as Dispatcher | undefined;
  const timeoutMs = opts.timeoutMs ?? KUBE_REQUEST_TIMEOUT_MS;
  const timedOut = (err: unknown): never => {
    if ((err as Error | undefined)?.name === 'TimeoutError') throw new KubeRequestError(408, 'Timeout', `${method} ${path}: no answer within ${timeoutMs} ms`);
    throw err;
  };
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, {
    method,
    headers,
    signal,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(dispatcher ? { dispatcher } : {}),
  }).catch(timedOut);
  const text = await res.text().catch(timedOut);
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    throw new KubeRequestError(res.status, 'BadResponse', `${method} ${path}: response is not JSON (HTTP ${res.status})`);
  }
  if (!res.ok) {
    throw new KubeRequestError(res.status, String(json.reason ?? res.statusText), `${method} ${path}: ${String(json.message ?? res.statusText)} (HTTP ${res.status})`);
  }
  return json;
}

/** What a list/watch needs of a kind: its path and the kind/apiVersion list items lack on the wire. */
export type WatchedKind = Pick<KindInfo, 'group' | 'version' | 'plural'> & { kind: string; apiVersion: string };

/**
 * How long a watch (with bookmarks) may stay silent before the client ends it: the
 * server sends a bookmark about every 60 s; between that and 2× it, so one late
 * bookmark is no reason to reconnect (client-node's own default, 30 s, would cut every
 * quiet kind's watch; undici's body timeout, 300 s, is far too late).
 */
export const WATCH_IDLE_MS = 100_000;
/** client-go's minWatchTimeout: each watch asks for timeoutSeconds in [this, 2 × this). */
export const WATCH_TIMEOUT_MIN_SECONDS = 300;
/** client-go's page size for lists */
export const LIST_PAGE_SIZE = 500;

export interface KubeTransportOptions {
  /** a fixed timeoutSeconds for every watch (tests); default: random in [300, 600) per watch */
  watchTimeoutSeconds?: number;
  /** the silence after which a watch is ended (default WATCH_IDLE_MS) */
  watchIdleMs?: number;
  /** list page size (default LIST_PAGE_SIZE) */
  pageSize?: number;
}

export function kubeTransport(kc: KubeConfig, info: WatchedKind, opts: KubeTransportOptions = {}): ReflectorTransport {
  const path = listPath(info);
  const watcher = new Watch(kc);
  // client-node 2.x's Watch aborts a watch after requestTimeoutMs (default 30 s) without
  // data — first waiting for the response headers, then between chunks. The property
  // is private in the typings, public at run time. It must stay below undici's body
  // timeout (300 s) for the end to be recognised as the client's own idle timeout.
  (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.watchIdleMs ?? WATCH_IDLE_MS;
  const pageSize = opts.pageSize ?? LIST_PAGE_SIZE;
  const getList = (query: URLSearchParams): Promise<Record<string, unknown>> => {
    const q = query.toString();
    return kubeRequest(kc, 'GET', q === '' ? path : `${path}?${q}`);
  };
  return {
    async list(resourceVersion): Promise<ListResult> {
      const items: Resource[] = [];
      let listRv = '';
      let cont = '';
      for (;;) {
        // a continued page must not name a resourceVersion: the token holds the list's
        const q = new URLSearchParams(cont !== '' ? { limit: String(pageSize), continue: cont } : { limit: String(pageSize), resourceVersion });
        let body: Record<string, unknown>;
        try {
          body = await getList(q);
        } catch (err) {
          if (cont === '' || !(err instanceof KubeRequestError) || err.statusCode !== 410) throw err;
          // the continue token expired (compaction) while paging: one list without a limit, as client-go's pager does
          items.length = 0;
          cont = '';
          body = await getList(new URLSearchParams({ resourceVersion }));
        }
        if (Array.isArray(body.items)) items.push(...(body.items as Resource[]));
        const meta = body.metadata as { resourceVersion?: string; continue?: string } | undefined;
        if (cont === '') listRv = meta?.resourceVersion ?? '';
        cont = typeof meta?.continue === 'string' ? meta.continue : '';
        if (cont === '') break;
      }
      // List items carry no kind/apiVersion on the wire; restore them.
      for (const item of items) {
        item.kind = info.kind as Resource['kind'];
        item.apiVersion = info.apiVersion;
      }
      return { resourceVersion: listRv, items };
    },
    async watch(resourceVersion, onEvent, done) {
      const timeoutSeconds = opts.watchTimeoutSeconds ?? Math.floor(WATCH_TIMEOUT_MIN_SECONDS * (1 + Math.random()));
      const req = await watcher.watch(
        path,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (type: string, obj: Record<string, unknown>) => onEvent(type as WatchEventType, obj),
        (err: unknown) => done(err),
      );
      return { abort: () => req.abort() };
    },
  };
}

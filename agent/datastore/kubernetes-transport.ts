/**
 * List and watch over the real Kubernetes REST protocol with @kubernetes/client-node:
 * its KubeConfig supplies the server and credentials (kubeconfig file, in-cluster
 * service account, or an explicit server URL), its Watch streams events. Lists are
 * plain GETs authenticated the same way, so timestamps stay strings exactly as
 * the watch delivers them.
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
export async function kubeRequest(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubernetes datastore: no current cluster in kubeconfig');
  const url = `${cluster.server.replace(/\/$/, '')}${path}`;
  const ctx = new RequestContext(url, HttpMethod[method]);
  await kc.applySecurityAuthentication(ctx);
  const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const dispatcher = ctx.getDispatcher() as Dispatcher | undefined;
  const res = await fetch(url, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await res.text();
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

/** How much longer than the watch's timeoutSeconds the client waits on a silent watch before giving up on it. */
export const WATCH_IDLE_SLACK_SECONDS = 30;

export function kubeTransport(kc: KubeConfig, info: WatchedKind, opts: { watchTimeoutSeconds?: number } = {}): ReflectorTransport {
  const path = listPath(info);
  const timeoutSeconds = opts.watchTimeoutSeconds ?? 300;
  const watcher = new Watch(kc);
  // client-node 2.x's Watch aborts a watch after requestTimeoutMs (default 30 s) without
  // data — first waiting for the response, then between chunks. A quiet kind gets no
  // events for minutes (a real server sends a bookmark about once a minute), so
  // the default killed its watch every 30 s. Wait until the server's own timeoutSeconds
  // has passed, with slack. The property is private in the typings, public at run time.
  (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = (timeoutSeconds + WATCH_IDLE_SLACK_SECONDS) * 1000;
  return {
    async list(): Promise<ListResult> {
      const body = await kubeRequest(kc, 'GET', path);
      const items = Array.isArray(body.items) ? (body.items as Resource[]) : [];
      // List items carry no kind/apiVersion on the wire; restore them.
      for (const item of items) {
        item.kind = info.kind as Resource['kind'];
        item.apiVersion = info.apiVersion;
      }
      const meta = body.metadata as { resourceVersion?: string } | undefined;
      return { resourceVersion: meta?.resourceVersion ?? '', items };
    },
    async watch(resourceVersion, onEvent, done) {
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

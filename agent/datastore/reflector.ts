/**
 * A reflector keeps one kind's objects in step with the API server, the way
 * client-go's does: list (remember the list's resourceVersion), then watch from
 * it with bookmarks; every event moves the resourceVersion on. The first list asks
 * for resourceVersion "0" (the API server's watch cache may answer), a re-list after
 * "410 Gone" for "" (a quorum read: the cache is behind). A watch that
 * opened (HTTP 200) and then ends normally — the server's timeoutSeconds, a clean
 * stream end, the client's idle timeout — resumes from the last resourceVersion at
 * once (after the minimum delay if it delivered nothing), with no error. A failed
 * watch or list retries after a backoff that doubles per failure (reported through
 * the sink's error()); failures are: an error from the transport, an ERROR event
 * that is not 410 (its Status' reason and message reported; the watch is aborted),
 * and a "very short watch" — closed cleanly within a second with nothing in it, as
 * client-go calls it. The backoff starts from the minimum again only once a watch
 * delivered an event (bookmarks count) or stayed open `healthyAfterMs`, never merely
 * because it opened: a server that accepts every watch and then fails it is not
 * hammered. "410 Gone" (the history was compacted; an ERROR event or the HTTP
 * status) re-lists from scratch. Transport (list, watch) is
 * injected, so the loop is exercised against the fake API server in tests and
 * against client-node's Watch in production. stop() settles a pending start()
 * (as 'stopped'), so a caller whose first lists keep failing is never left hanging;
 * after stop() no event reaches the sink, and a watch still connecting then is
 * aborted as soon as it connects.
 */
import type { Resource } from './resources.js';

export interface ListResult {
  resourceVersion: string;
  items: Resource[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ReflectorTransport {
  /** resourceVersion "0": any (cached) state will do; "": the latest (a quorum read) */
  list(resourceVersion: '0' | ''): Promise<ListResult>;
  /** Starts a watch; resolves to a handle whose abort() ends it; `done` is called once when it ends. */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: Record<string, unknown>) => void,
    done: (err: unknown) => void,
  ): Promise<{ abort(): void }>;
}

export interface ReflectorSink {
  replace(items: Resource[]): void;
  upsert(obj: Resource): void;
  remove(obj: Resource): void;
  /** a transport error worth logging (the reflector retries by itself) */
  error?(err: unknown, phase: 'list' | 'watch'): void;
  relisted?(reason: 'initial' | 'gone'): void;
  /** a watch ended normally and is being resumed (worth a debug line, not a warning) */
  watchEnded?(how: 'closed' | 'timeout'): void;
}

export interface ReflectorOptions {
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** a watch open this long (default 60 s) ends the backoff even if it delivered nothing */
  healthyAfterMs?: number;
}

/** A watch ERROR event's Status, as an error. */
export class WatchStatusError extends Error {
  constructor(readonly code: number | undefined, readonly reason: string, readonly detail: string) {
    super(`watch ERROR event: ${reason}${code !== undefined ? ` (${code})` : ''}: ${detail}`);
    this.name = 'WatchStatusError';
  }
}

/** A watch the server closed cleanly before this long, with nothing in it, failed. */
const SHORT_WATCH_MS = 1000;

export class Reflector {
  private rv = '';
  private stopped = false;
  private handle?: { abort(): void };
  private timer?: NodeJS.Timeout;
  private backoffMs: number;
  private synced?: (how: 'synced' | 'stopped') => void;
  private relistReason: 'initial' | 'gone' = 'initial';

  constructor(private readonly transport: ReflectorTransport, private readonly sink: ReflectorSink, private readonly opts: ReflectorOptions = {}) {
    this.backoffMs = this.minBackoff;
  }

  /** Resolves 'synced' after the first successful list has been delivered to the sink, or 'stopped' if stop() comes first. */
  start(): Promise<'synced' | 'stopped'> {
    if (this.stopped) return Promise.resolve('stopped');
    const first = new Promise<'synced' | 'stopped'>((resolve) => (this.synced = resolve));
    void this.cycle();
    return first;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.handle?.abort();
    this.synced?.('stopped');
    this.synced = undefined;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  private async cycle(): Promise<void> {
    if (this.stopped) return;
    if (this.rv === '') {
      try {
        const list = await this.transport.list(this.relistReason === 'gone' ? '' : '0');
        if (this.stopped) return;
        this.sink.replace(list.items);
        this.sink.relisted?.(this.relistReason);
        this.rv = list.resourceVersion;
        this.synced?.('synced');
        this.synced = undefined;
      } catch (err) {
        this.sink.error?.(err, 'list');
        return this.retry();
      }
    }
    let ended = false;
    let opened = false;
    let openedAt = 0;
    let delivered = false;
    let handle: { abort(): void } | undefined;
    const done = (err: unknown): void => {
      if (ended) return;
      ended = true;
      this.handle = undefined;
      if (this.stopped) return;
      const openMs = opened ? Date.now() - openedAt : 0;
      if (opened && openMs >= this.healthyAfterMs) this.backoffMs = this.minBackoff;
      if (isGone(err)) {
        this.gone();
        return this.retry();
      }
      if ((opened || delivered) && isNormalEnd(err) && (delivered || err || openMs >= SHORT_WATCH_MS)) {
        this.sink.watchEnded?.(err ? 'timeout' : 'closed');
        return this.schedule(delivered ? 0 : this.minBackoff);
      }
      const why = err ?? new Error(`very short watch: closed by the server after ${openMs} ms with no events`);
      this.sink.error?.(why, 'watch');
      this.retry();
    };
    const onEvent = (type: WatchEventType, obj: Record<string, unknown>): void => {
      if (ended || this.stopped) return;
      if (type === 'ERROR') {
        // client-go: the Status becomes the watch's error; the watch ends and is retried (410: re-listed)
        handle?.abort();
        done(statusError(obj));
        return;
      }
      delivered = true;
      this.backoffMs = this.minBackoff;
      this.onEvent(type, obj);
    };
    try {
      handle = await this.transport.watch(this.rv, onEvent, done);
      if (this.stopped || ended) {
        // stop() came while the watch was connecting, when there was no handle to abort yet;
        // or an ERROR event ended it before the handle arrived
        handle.abort();
        return;
      }
      opened = true;
      openedAt = Date.now();
      this.handle = handle;
    } catch (err) {
      done(err);
    }
  }

  private onEvent(type: Exclude<WatchEventType, 'ERROR'>, obj: Record<string, unknown>): void {
    const meta = obj.metadata as { resourceVersion?: string } | undefined;
    if (type === 'ADDED' || type === 'MODIFIED') this.sink.upsert(obj as Resource);
    else if (type === 'DELETED') this.sink.remove(obj as Resource);
    if (meta?.resourceVersion) this.rv = meta.resourceVersion;
  }

  private gone(): void {
    this.rv = '';
    this.relistReason = 'gone';
  }

  private get healthyAfterMs(): number {
    return this.opts.healthyAfterMs ?? 60_000;
  }

  private get minBackoff(): number {
    return this.opts.minBackoffMs ?? 200;
  }

  private retry(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 10_000);
    this.schedule(delay);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.cycle(), delay);
  }
}

/** A stream end without error, or the client's own idle timeout (client-node's Watch, undici's body timeout). */
function isNormalEnd(err: unknown): boolean {
  if (err === null || err === undefined) return true;
  if (typeof err !== 'object') return false;
  const e = err as { name?: unknown; code?: unknown };
  return e.name === 'TimeoutError' || e.code === 'UND_ERR_BODY_TIMEOUT';
}

function statusError(obj: Record<string, unknown>): WatchStatusError {
  const code = typeof obj.code === 'number' ? obj.code : undefined;
  const reason = typeof obj.reason === 'string' && obj.reason !== '' ? obj.reason : 'Unknown';
  const message = typeof obj.message === 'string' && obj.message !== '' ? obj.message : JSON.stringify(obj);
  return new WatchStatusError(code, reason, message);
}

function isGone(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { code?: unknown; statusCode?: unknown; reason?: unknown };
  return o.code === 410 || o.statusCode === 410 || o.reason === 'Expired' || o.reason === 'Gone';
}

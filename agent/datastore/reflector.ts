/**
 * A reflector keeps one kind's objects in step with the API server, the way
 * client-go's does: list (remember the list's resourceVersion), then watch from
 * it with bookmarks; every event moves the resourceVersion on. A watch that
 * opened (HTTP 200) and then ends normally — the server's timeoutSeconds, a clean
 * stream end, the client's idle timeout — resumes from the last resourceVersion at
 * once (after the minimum delay if it delivered nothing, so a server that closes
 * every watch at once is not hammered), with no error; a failed watch or list
 * retries after a backoff that doubles per failure and starts from the minimum
 * again once a watch opens or an event arrives; "410 Gone" (the history was
 * compacted) re-lists from scratch. Transport (list, watch) is
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
  list(): Promise<ListResult>;
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
}

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
        const list = await this.transport.list();
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
    let delivered = false;
    const done = (err: unknown): void => {
      if (ended) return;
      ended = true;
      this.handle = undefined;
      if (this.stopped) return;
      if (isGone(err)) {
        this.gone();
        return this.retry();
      }
      if ((opened || delivered) && isNormalEnd(err)) {
        this.sink.watchEnded?.(err ? 'timeout' : 'closed');
        return this.schedule(delivered ? 0 : this.minBackoff);
      }
      if (err) this.sink.error?.(err, 'watch');
      this.retry();
    };
    const onEvent = (type: WatchEventType, obj: Record<string, unknown>): void => {
      if (ended || this.stopped) return;
      if (type !== 'ERROR') delivered = true;
      this.onEvent(type, obj);
    };
    try {
      const handle = await this.transport.watch(this.rv, onEvent, done);
      if (this.stopped) {
        // stop() came while the watch was connecting, when there was no handle to abort yet
        handle.abort();
        return;
      }
      if (ended) return;
      opened = true;
      this.handle = handle;
      this.backoffMs = this.minBackoff;
    } catch (err) {
      done(err);
    }
  }

  private onEvent(type: WatchEventType, obj: Record<string, unknown>): void {
    if (type === 'ERROR') {
      if (isGone(obj)) this.gone();
      return;
    }
    const meta = obj.metadata as { resourceVersion?: string } | undefined;
    if (type === 'ADDED' || type === 'MODIFIED') this.sink.upsert(obj as Resource);
    else if (type === 'DELETED') this.sink.remove(obj as Resource);
    if (meta?.resourceVersion) this.rv = meta.resourceVersion;
    this.backoffMs = this.minBackoff;
  }

  private gone(): void {
    this.rv = '';
    this.relistReason = 'gone';
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

function isGone(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { code?: unknown; statusCode?: unknown; reason?: unknown };
  return o.code === 410 || o.statusCode === 410 || o.reason === 'Expired' || o.reason === 'Gone';
}

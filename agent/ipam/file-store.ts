/**
 * FileIpamStore: IPAM records as JSON files under a directory, shared by several
 * agent processes on one machine (the `file` datastore and the lab).
 *
 *   DIR/block/<encoded key>.json   {"version": "<random>", "value": {...}}
 *   DIR/handle/<encoded key>.json
 *
 *   DIR/.tmp/<kind>/…              temporary files, renamed over the record
 *   DIR/.locks/<kind>/<key>.json.lock
 *
 * Reads take no lock: every write goes to a temporary file and is renamed over the
 * record, so a reader sees the old or the new record, never a torn one.
 * Compare-and-swap: a writer takes the record's lock file (`<key>.json.lock`, created
 * with O_EXCL, holding "pid token"), re-reads the version, compares, writes, and
 * removes its lock. Locks and temporary files live outside the record directories,
 * which other agents watch: a write is one event there (the rename), not eight
 * (lock and temporary file created, written, closed, removed) — each event wakes
 * every watching agent, right when the block's BGP UPDATE is on its way. Versions are random tokens, never reused, so a record deleted
 * and re-created does not match a stale version.
 * Stale locks: a lock whose pid is dead or that is older than `staleMs` is broken;
 * breaking takes a second O_EXCL lock (`<key>.lock.break`) and re-checks that the
 * lock is still the one judged stale, so two breakers cannot remove a fresh lock.
 * Temporary files left by a writer that died are swept when a store is opened
 * (also those next to the records, where earlier versions wrote them), and so are
 * stale lock files of earlier versions next to the records.
 * Change feed (`watch`): fs.watch (inotify) on the block and handle directories —
 * a record write is a rename into its directory, a delete an unlink — coalesced
 * for `watchDebounceMs`, then that kind is re-listed and delivered if any version
 * moved or a record file moved (written and deleted within the window), with the
 * keys of the record files the events named (`touched`; none known after an event
 * without a name or a periodic re-list). Lock and temporary files are no records:
 * their events are ignored. A re-list every `watchResyncMs` is the safety net for
 * missed events.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { IpamError } from './errors.js';
import type { IpamChange, IpamStore, IpamWatch, IpamWatchOptions, PutResult, Versioned } from './store.js';
import type { IpamKind, IpamRecords } from './types.js';

export interface FileStoreOptions {
  /** Wait at most this long for a record lock. */
  lockTimeoutMs?: number;
  /** A lock older than this is stale whatever its pid. */
  staleMs?: number;
  /** watch(): coalescing window for a burst of file events (default 5 ms) */
  watchDebounceMs?: number;
  /** watch(): the safety-net re-list period (default 10 s) */
  watchResyncMs?: number;
}

const KINDS: readonly IpamKind[] = ['block', 'handle'];
/** beside the record directories, on the same file system (a rename must stay atomic) */
const TMP_DIR = '.tmp';
const LOCK_DIR = '.locks';

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FileIpamStore implements IpamStore {
  private readonly lockTimeoutMs: number;
  private readonly staleMs: number;

  constructor(readonly dir: string, private readonly opts: FileStoreOptions = {}) {
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.staleMs = opts.staleMs ?? 30_000;
    for (const k of KINDS) {
      for (const d of [join(dir, k), join(dir, TMP_DIR, k), join(dir, LOCK_DIR, k)]) mkdirSync(d, { recursive: true });
    }
    this.sweep();
  }

  /**
   * Removes `<record>.json.tmp-<pid>-<rand>` files whose writer is dead, and the lock
   * files earlier versions left next to the records (`<record>.json.lock`, `….lock.break`)
   * once stale — their holder dead or the file older than `staleMs`. No writer of
   * this version takes those: a live one belongs to an agent of the old layout, which
   * must not share the directory with this one (docs/datastores.md).
   */
  private sweep(): void {
    for (const k of KINDS) {
      for (const d of [join(this.dir, TMP_DIR, k), join(this.dir, k)]) {
        for (const f of readdirSync(d)) {
          const m = /\.tmp-(\d+)-[0-9a-f]+$/.exec(f);
          const stale = m ? !pidAlive(Number(m[1])) : d === join(this.dir, k) && /\.json\.lock(\.break)?$/.test(f) && this.staleLegacyLock(join(d, f));
          if (!stale) continue;
          try {
            unlinkSync(join(d, f));
          } catch {
            // another process swept it
          }
        }
      }
    }
  }

  private staleLegacyLock(path: string): boolean {
    try {
      return this.stale(readFileSync(path, 'utf8'), statSync(path).mtimeMs);
    } catch {
      return false; // gone meanwhile
    }
  }

  /** A lock ("pid token") whose holder is dead, or older than `staleMs`; an empty one is being written: judged by age only. */
  private stale(content: string, mtimeMs: number): boolean {
    const pid = Number(content.split(' ')[0]);
    const dead = content !== '' && Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
    return dead || Date.now() - mtimeMs >= this.staleMs;
  }

  private fileName(key: string): string {
    return `${encodeURIComponent(key)}.json`;
  }

  private path(kind: IpamKind, key: string): string {
    return join(this.dir, kind, this.fileName(key));
  }

  private lockPath(kind: IpamKind, key: string): string {
    return join(this.dir, LOCK_DIR, kind, `${this.fileName(key)}.lock`);
  }

  private readPath<T>(p: string): Versioned<T> | undefined {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw new IpamError('store', `reading ${p}: ${(e as Error).message}`);
    }
    const rec = JSON.parse(text) as { version: string; value: T };
    return { value: rec.value, version: rec.version };
  }

  async get<K extends IpamKind>(kind: K, key: string): Promise<Versioned<IpamRecords[K]> | undefined> {
    return this.readPath<IpamRecords[K]>(this.path(kind, key));
  }

  async keys(kind: IpamKind): Promise<string[]> {
    return readdirSync(join(this.dir, kind))
      .filter((f) => f.endsWith('.json'))
      .map((f) => decodeURIComponent(f.slice(0, -'.json'.length)))
      .sort();
  }

  async list<K extends IpamKind>(kind: K): Promise<Versioned<IpamRecords[K]>[]> {
    const out: Versioned<IpamRecords[K]>[] = [];
    for (const key of await this.keys(kind)) {
      const r = this.readPath<IpamRecords[K]>(this.path(kind, key));
      if (r) out.push(r);
    }
    return out;
  }

  async put<K extends IpamKind>(kind: K, key: string, value: IpamRecords[K], expectedVersion: string | undefined): Promise<PutResult<IpamRecords[K]>> {
    const p = this.path(kind, key);
    return this.locked(this.lockPath(kind, key), () => {
      const cur = this.readPath<IpamRecords[K]>(p);
      if (expectedVersion === undefined ? cur !== undefined : cur?.version !== expectedVersion) return { ok: false, reason: 'conflict' };
      const version = randomBytes(8).toString('hex');
      const tmp = join(this.dir, TMP_DIR, kind, `${this.fileName(key)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      const fd = openSync(tmp, 'wx');
      try {
        writeSync(fd, JSON.stringify({ version, value }));
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, p);
      return { ok: true, record: { value, version } };
    });
  }

  async delete(kind: IpamKind, key: string, expectedVersion: string): Promise<boolean> {
    const p = this.path(kind, key);
    return this.locked(this.lockPath(kind, key), () => {
      const cur = this.readPath(p);
      if (cur?.version !== expectedVersion) return false;
      unlinkSync(p);
      return true;
    });
  }

  async watch(onChange: (change: IpamChange) => void, opts: IpamWatchOptions = {}): Promise<IpamWatch> {
    const debounceMs = this.opts.watchDebounceMs ?? 5;
    const seen = new Map<IpamKind, string>();
    const dirty = new Set<IpamKind>();
    // per kind: the keys whose files moved since the last delivery; `blind`: an event without a name, or a re-list
    const touched = new Map<IpamKind, Set<string>>(KINDS.map((k) => [k, new Set<string>()]));
    const blind = new Set<IpamKind>(KINDS);
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    // one window for both kinds: an allocation writes a block and then a handle
    const deliver = async (): Promise<void> => {
      timer = undefined;
      const kinds = [...dirty];
      dirty.clear();
      for (const kind of kinds) {
        if (closed) return;
        const keys = touched.get(kind) as Set<string>;
        const known = blind.has(kind) ? undefined : { touched: [...keys].sort() };
        keys.clear();
        blind.delete(kind);
        try {
          const records = await this.list(kind);
          const key = records.map((r) => r.version).join(',');
          // the same versions with keys touched: a record written and deleted within the window
          if (seen.get(kind) === key && !known?.touched.length) continue;
          seen.set(kind, key);
          onChange(kind === 'block' ? { kind, records: records as Versioned<IpamRecords['block']>[], ...known } : { kind, records: records as Versioned<IpamRecords['handle']>[], ...known });
        } catch {
          // a directory being swept or replaced: the next event or re-list delivers
          blind.add(kind);
        }
      }
    };
    const schedule = (kind: IpamKind): void => {
      if (closed) return;
      dirty.add(kind);
      if (timer) return;
      timer = setTimeout(() => void deliver(), debounceMs);
      timer.unref();
    };
    const watchers: FSWatcher[] = [];
    for (const kind of KINDS) {
      try {
        const w = watch(join(this.dir, kind), (_event, file) => {
          // records only: a lock or temporary file here (an older build's, kept next to the records) changes nothing
          if (file !== null && !file.endsWith('.json')) return;
          const key = file === null ? undefined : keyOfFile(file);
          if (key === undefined) blind.add(kind);
          else touched.get(kind)?.add(key);
          schedule(kind);
        });
        w.on('error', () => undefined); // the periodic re-list carries on
        watchers.push(w);
      } catch {
        // no inotify here: the periodic re-list alone
      }
    }
    const resync = setInterval(() => { for (const k of KINDS) { blind.add(k); schedule(k); } }, this.opts.watchResyncMs ?? 10_000);
    resync.unref();
    const close = (): void => {
      closed = true;
      opts.signal?.removeEventListener('abort', close);
      for (const w of watchers) w.close();
      clearInterval(resync);
      if (timer) clearTimeout(timer);
    };
    if (opts.signal?.aborted) close();
    opts.signal?.addEventListener('abort', close, { once: true });
    for (const k of KINDS) dirty.add(k);
    await deliver();
    return { close };
  }

  private async locked<T>(lock: string, body: () => T): Promise<T> {
    const token = `${process.pid} ${randomBytes(8).toString('hex')}`;
    const deadline = performance.now() + this.lockTimeoutMs;
    for (let spins = 0; ; spins++) {
      try {
        const fd = openSync(lock, 'wx');
        writeSync(fd, token);
        closeSync(fd);
        break;
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw new IpamError('store', `locking ${lock}: ${(e as Error).message}`);
      }
      this.breakIfStale(lock);
      if (performance.now() > deadline) {
        throw new IpamError('contention', `timed out after ${this.lockTimeoutMs} ms waiting for lock ${lock}`);
      }
      await sleep(spins < 3 ? 0 : Math.min(1 + Math.random() * spins, 20));
    }
    try {
      return body();
    } finally {
      try {
        if (readFileSync(lock, 'utf8') === token) unlinkSync(lock);
      } catch {
        // already broken as stale by someone else: nothing to release
      }
    }
  }

  private breakIfStale(lock: string): void {
    let content: string;
    let mtimeMs: number;
    try {
      content = readFileSync(lock, 'utf8');
      mtimeMs = statSync(lock).mtimeMs;
    } catch {
      return; // released meanwhile
    }
    if (!this.stale(content, mtimeMs)) return;
    const breaker = `${lock}.break`;
    try {
      closeSync(openSync(breaker, 'wx'));
    } catch {
      try {
        if (Date.now() - statSync(breaker).mtimeMs > this.staleMs) unlinkSync(breaker);
      } catch {
        // gone already
      }
      return;
    }
    try {
      if (readFileSync(lock, 'utf8') === content) unlinkSync(lock);
    } catch {
      // lock gone meanwhile
    } finally {
      unlinkSync(breaker);
    }
  }
}

/** The record key a `<encoded key>.json` file holds; undefined for a name no key encodes to. */
function keyOfFile(file: string): string | undefined {
  try {
    return decodeURIComponent(file.slice(0, -'.json'.length));
  } catch {
    return undefined;
  }
}

/**
 * The `file` datastore: a directory of YAML manifests (the same kinds and schemas
 * as the Kubernetes API), watched for changes. Every change re-reads only the files
 * whose size, mtime or inode moved, rebuilds the object set and, if anything
 * differs, delivers a new snapshot. Invalid objects are reported once per file
 * version with their field paths (a duplicate object once while it lasts);
 * everything else keeps working. An edit that makes an object invalid keeps the
 * file's last good version of it (as the API server refuses an invalid update);
 * a new invalid object is left out; removing the object (or its file) deletes it.
 * A file that does not parse as YAML (half-written, mistyped) keeps its last good
 * objects; an empty file holds none.
 * Sub-directories whose name starts with '.' or is `ipam` (IPAM records live there)
 * are not read. Symbolic links are followed (ConfigMap volumes link via `..data`).
 *
 * fs.watch is the fast path (changes land within ~debounceMs); a slow poll catches
 * anything the watch misses (editors that replace directories, NFS). Each directory
 * that is read gets its own (non-recursive) watch, kept in step with every scan: a
 * recursive watch would also wake on every IPAM write under `ipam/` — a burst of
 * callbacks at each block claim, right when a BGP UPDATE wants the event loop.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { objectId, parseManifest } from './manifests.js';
import { ObjectCache } from './snapshot.js';
import { KINDS, describeObject, objectKey, type Resource, type ResourceKind } from './resources.js';
import type { Datastore, DatastoreListener, Rejection } from './datastore.js';
import type { ObjectValidator } from './validate.js';

export interface FileDatastoreOptions {
  dir: string;
  validate?: ObjectValidator;
  log?: Logger;
  debounceMs?: number;
  pollIntervalMs?: number;
}

interface FileEntry {
  mtimeMs: number;
  size: number;
  /** Inode of the file read (through any symlink): a swapped link target is a change even at equal size and mtime. */
  ino: number;
  resources: Resource[];
}

const MANIFEST = /\.(ya?ml|json)$/i;

export class FileDatastore implements Datastore {
  readonly name = 'file' as const;
  private readonly cache = new ObjectCache();
  private readonly files = new Map<string, FileEntry>();
  /** Duplicates (object, copy, first definition) reported so far: each is reported once while it lasts. */
  private duplicates = new Set<string>();
  private listener?: DatastoreListener;
  private readonly watchers = new Map<string, FSWatcher>();
  private watchFailed = false;
  private poll?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private scanning?: Promise<void>;
  private rescanWanted = false;
  private stopped = false;

  constructor(private readonly opts: FileDatastoreOptions) {}

  async start(listener: DatastoreListener): Promise<void> {
    this.listener = listener;
    await stat(this.opts.dir).catch(() => {
      throw new Error(`file datastore: directory ${this.opts.dir} does not exist`);
    });
    await this.scan(true);
    this.poll = setInterval(() => this.schedule(), this.opts.pollIntervalMs ?? 2000);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    await this.scanning;
  }

  /** Re-reads the directory now (tests and `SIGHUP` use it); resolves when delivered. */
  async resync(): Promise<void> {
    await this.scan(false);
  }

  /** One watch per directory read; directories gone are unwatched. */
  private watchDirs(dirs: readonly string[]): void {
    if (this.stopped) return;
    const want = new Set(dirs);
    for (const [d, w] of this.watchers) {
      if (!want.has(d)) {
        w.close();
        this.watchers.delete(d);
      }
    }
    for (const d of want) {
      if (this.watchers.has(d)) continue;
      try {
        const w = watch(d, () => this.schedule());
        w.on('error', (err) => {
          this.opts.log?.warn({ dir: d, err: err.message }, 'directory watch failed; the poll covers it');
          w.close();
          this.watchers.delete(d);
        });
        this.watchers.set(d, w);
      } catch (err) {
        if (!this.watchFailed) this.opts.log?.warn({ dir: d, err: (err as Error).message }, 'cannot watch directory; polling only');
        this.watchFailed = true;
      }
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.scan(false), this.opts.debounceMs ?? 10);
  }

  private async scan(initial: boolean): Promise<void> {
    if (this.scanning) {
      this.rescanWanted = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescanWanted = false;
        try {
          await this.scanOnce(initial);
        } catch (err) {
          this.opts.log?.error({ err: (err as Error).message }, 'reading manifests failed; keeping the last good state');
        }
      } while (this.rescanWanted && !this.stopped);
    })();
    try {
      await this.scanning;
    } finally {
      this.scanning = undefined;
    }
  }

  private async scanOnce(initial: boolean): Promise<void> {
    const { files: paths, dirs } = await listManifests(this.opts.dir);
    this.watchDirs(dirs);
    const seen = new Set(paths);
    for (const p of [...this.files.keys()]) {
      if (seen.has(p)) continue;
      this.files.delete(p);
      this.listener?.onSourceRead?.(this.rel(p));
    }
    const reread = new Set<string>();
    for (const p of paths) if (await this.readIfChanged(p)) reread.add(p);
    const byKind = new Map<ResourceKind, Map<string, Resource>>(KINDS.map((k) => [k.kind, new Map()]));
    const owner = new Map<string, string>();
    const duplicates = new Set<string>();
    for (const p of paths) {
      for (const r of this.files.get(p)?.resources ?? []) {
        const id = objectId(r);
        const first = owner.get(id);
        if (first !== undefined) {
          const dup = `${id}\0${p}\0${first}`;
          duplicates.add(dup);
          // already reported (the scan repeats every poll) and still standing, unless a read of either file superseded it
          if (this.duplicates.has(dup) && !reread.has(p) && !reread.has(first)) continue;
          // `kept`: the first file's copy, which the snapshot holds — the rejection stands while it does (agent Rejections)
          const kept = byKind.get(r.kind)?.get(objectKey(r.metadata));
          this.reject({ source: this.rel(p), object: describeObject(r.kind, r.metadata), errors: [{ path: '.metadata.name', message: `duplicate: already defined in ${this.rel(first)}; this copy is ignored` }], ...(kept ? { kept } : {}) });
          continue;
        }
        owner.set(id, p);
        byKind.get(r.kind)?.set(objectKey(r.metadata), r);
      }
    }
    this.duplicates = duplicates;
    for (const [kind, objs] of byKind) this.cache.replaceKind(kind, objs.values());
    if ((this.cache.changed || initial) && !this.stopped) this.listener?.onSnapshot(this.cache.snapshot());
  }

  /** Reads `path` when it changed; true when it was read again or is gone (its earlier rejections are superseded). */
  private async readIfChanged(path: string): Promise<boolean> {
    const st = await stat(path).catch(() => undefined);
    if (!st) {
      const had = this.files.delete(path);
      if (had) this.listener?.onSourceRead?.(this.rel(path));
      return had;
    }
    const prev = this.files.get(path);
    if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size && prev.ino === st.ino) return false;
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) return false;
    this.listener?.onSourceRead?.(this.rel(path));
    const parsed = parseManifest(text, this.opts.validate);
    if (parsed.syntaxError && prev) {
      // Half-written or mistyped: keep the file's last good objects until a version
      // parses (reported once: this version is not re-read).
      for (const r of parsed.rejected) {
        const errors = r.errors.map((e) => (e.message.startsWith('YAML:') ? { ...e, message: `${e.message} (the file's last good objects are kept)` } : e));
        this.reject({ source: this.rel(path), object: r.object, errors });
      }
      this.files.set(path, { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, resources: prev.resources });
      return true;
    }
    // Keep object identity for unchanged documents so the snapshot diff stays small.
    const resources = parsed.resources.map((r) => reuseIfEqual(prev?.resources, r));
    const valid = new Set(resources.map(objectId));
    for (const r of parsed.rejected) {
      // An edit that makes an object invalid changes nothing (the API server refuses
      // such an update): the file's last good version of it stays.
      const id = r.id;
      const kept = id === undefined || valid.has(id) ? undefined : prev?.resources.find((o) => objectId(o) === id);
      if (id !== undefined && kept) {
        resources.push(kept);
        valid.add(id);
      }
      const errors = kept ? r.errors.map((e) => ({ ...e, message: `${e.message} (last good version kept)` })) : r.errors;
      this.reject({ source: this.rel(path), object: r.object, errors, ...(kept ? { kept } : {}) });
    }
    this.files.set(path, { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, resources });
    return true;
  }

  private reject(r: Rejection): void {
    this.opts.log?.warn({ source: r.source, object: r.object, errors: r.errors }, `rejected ${r.object}: ${r.errors.map((e) => `${e.path || '(document)'} ${e.message}`).join('; ')}`);
    this.listener?.onRejected?.(r);
  }

  private rel(p: string): string {
    return relative(this.opts.dir, p) || p;
  }
}

function reuseIfEqual(prev: Resource[] | undefined, r: Resource): Resource {
  if (!prev) return r;
  const json = JSON.stringify(r);
  return prev.find((p) => p.kind === r.kind && objectKey(p.metadata) === objectKey(r.metadata) && JSON.stringify(p) === json) ?? r;
}

/**
 * Manifest files (sorted) and the directories read to find them. Symbolic links are
 * followed (a ConfigMap volume is `p.yaml -> ..data/p.yaml`, `..data -> ..2026_…/`);
 * names starting with '.' are still skipped, and a directory reached twice (a link
 * loop, or two links to one place) is read once.
 */
async function listManifests(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  const visited = new Set<string>();
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    const real = await realpath(d).catch(() => undefined);
    if (real === undefined || visited.has(real)) return;
    visited.add(real);
    dirs.push(d);
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = await stat(p).catch(() => undefined); // follows the link; dangling → skipped
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) {
        if (e.name !== 'ipam') await walk(p, depth + 1);
      } else if (isFile && MANIFEST.test(e.name)) {
        files.push(p);
      }
    }
  };
  await walk(dir, 0);
  return { files: files.sort(), dirs };
}

/**
 * The compare-and-swap store IPAM runs on. Two record kinds (blocks keyed by CIDR,
 * handles keyed by handle id); every record carries an opaque version (a file
 * counter, or a Kubernetes resourceVersion). Writes state the version they read:
 * `put(kind, key, value, undefined)` creates and fails if the key exists;
 * `put(..., version)` / `delete(..., version)` fail with `conflict` when the record
 * changed since. Nothing else is needed for several agents to never hand out the
 * same address: every allocation is a CAS on the block record.
 *
 * Implementations: MemoryIpamStore (here, tests and single process), FileIpamStore
 * (file-store.ts, several processes on one machine), and the Kubernetes CRD store
 * (datastore engineer).
 */
import type { Block, Handle, IpamKind, IpamRecords } from './types.js';

export interface Versioned<T> {
  value: T;
  version: string;
}

/**
 * One kind's records, whole, after they changed (coalesced). `touched`, when the feed
 * knows it: the keys of the records written or deleted since its previous delivery
 * of this kind — every one of those writes is reflected in `records` (a key touched
 * and absent was deleted). Absent: the feed does not know (a periodic re-list, an
 * event without a file name); an empty list: no record was written.
 */
export type IpamChange =
  | { kind: 'block'; records: Versioned<Block>[]; touched?: string[] }
  | { kind: 'handle'; records: Versioned<Handle>[]; touched?: string[] };

export interface IpamWatch {
  close(): void;
}

export interface IpamWatchOptions {
  /** aborting closes the feed; a watch() still waiting for its first read resolves (closed) */
  signal?: AbortSignal;
}

export type PutResult<T> = { ok: true; record: Versioned<T> } | { ok: false; reason: 'conflict' };

export interface IpamStore {
  get<K extends IpamKind>(kind: K, key: string): Promise<Versioned<IpamRecords[K]> | undefined>;
  list<K extends IpamKind>(kind: K): Promise<Versioned<IpamRecords[K]>[]>;
  /** Keys only (cheaper than list where the store can do it). */
  keys(kind: IpamKind): Promise<string[]>;
  /** Create (expectedVersion undefined) or replace the version read. */
  put<K extends IpamKind>(kind: K, key: string, value: IpamRecords[K], expectedVersion: string | undefined): Promise<PutResult<IpamRecords[K]>>;
  /** Delete the version read; false on conflict (changed or already gone). */
  delete(kind: IpamKind, key: string, expectedVersion: string): Promise<boolean>;
  /**
   * Optional change feed: `onChange` gets a kind's records whole soon after any
   * writer (this process or another) created, changed or deleted one of them, and
   * once per kind when the feed starts. Resolves once the feed is live, or as soon
   * as `signal` aborts (the feed then stops, whatever state its first read is in:
   * retries of a failing first list end too). Users of a store without one re-list it.
   */
  watch?(onChange: (change: IpamChange) => void, opts?: IpamWatchOptions): Promise<IpamWatch>;
}

/** In-memory store with the same CAS semantics; values are deep-copied in and out. */
export class MemoryIpamStore implements IpamStore {
  private readonly data = new Map<string, { value: string; version: number }>();
  private counter = 0;

  private k(kind: IpamKind, key: string): string {
    return `${kind}/${key}`;
  }

  async get<K extends IpamKind>(kind: K, key: string): Promise<Versioned<IpamRecords[K]> | undefined> {
    const r = this.data.get(this.k(kind, key));
    return r ? { value: JSON.parse(r.value) as IpamRecords[K], version: String(r.version) } : undefined;
  }

  async list<K extends IpamKind>(kind: K): Promise<Versioned<IpamRecords[K]>[]> {
    const prefix = `${kind}/`;
    return [...this.data.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => ({ value: JSON.parse(r.value) as IpamRecords[K], version: String(r.version) }));
  }

  async keys(kind: IpamKind): Promise<string[]> {
    const prefix = `${kind}/`;
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
  }

  async put<K extends IpamKind>(kind: K, key: string, value: IpamRecords[K], expectedVersion: string | undefined): Promise<PutResult<IpamRecords[K]>> {
    const k = this.k(kind, key);
    const cur = this.data.get(k);
    if (expectedVersion === undefined ? cur !== undefined : cur === undefined || String(cur.version) !== expectedVersion) {
      return { ok: false, reason: 'conflict' };
    }
    const version = ++this.counter;
    const text = JSON.stringify(value);
    this.data.set(k, { value: text, version });
    return { ok: true, record: { value: JSON.parse(text) as IpamRecords[K], version: String(version) } };
  }

  async delete(kind: IpamKind, key: string, expectedVersion: string): Promise<boolean> {
    const k = this.k(kind, key);
    const cur = this.data.get(k);
    if (cur === undefined || String(cur.version) !== expectedVersion) return false;
    this.data.delete(k);
    return true;
  }
}

import { KINDS, objectKey, type Resource, type ResourceKind } from './resources.js';

/**
 * A consistent view of everything a datastore holds, handed to the agent whole so
 * that every decision is made from one value (never from a live cache). `revision`
 * grows with every change so that consumers can tell snapshots apart cheaply.
 */
export interface Snapshot {
  revision: number;
  objects: ReadonlyMap<ResourceKind, ReadonlyMap<string, Resource>>;
}

export function emptyObjects(): Map<ResourceKind, Map<string, Resource>> {
  return new Map(KINDS.map((k) => [k.kind, new Map<string, Resource>()]));
}

/** The objects of one kind, sorted by key for deterministic iteration. */
export function objectsOf(snapshot: Snapshot, kind: ResourceKind): Resource[] {
  const m = snapshot.objects.get(kind);
  if (!m) return [];
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

export function getObject(snapshot: Snapshot, kind: ResourceKind, key: string): Resource | undefined {
  return snapshot.objects.get(kind)?.get(key);
}

/**
 * A mutable cache of objects by kind and key that produces immutable snapshots.
 * Each snapshot copies only the kinds changed since the previous one.
 */
export class ObjectCache {
  private readonly byKind = emptyObjects();
  private readonly dirty = new Set<ResourceKind>();
  private frozen = new Map<ResourceKind, ReadonlyMap<string, Resource>>();
  private revision = 0;

  set(obj: Resource): boolean {
    const m = this.byKind.get(obj.kind);
    if (!m) return false;
    const key = objectKey(obj.metadata);
    if (m.get(key) === obj) return false;
    m.set(key, obj);
    this.dirty.add(obj.kind);
    return true;
  }

  delete(kind: ResourceKind, key: string): boolean {
    const m = this.byKind.get(kind);
    if (!m || !m.delete(key)) return false;
    this.dirty.add(kind);
    return true;
  }

  /** Replaces every object of a kind (a re-list), reporting whether anything changed. */
  replaceKind(kind: ResourceKind, objs: Iterable<Resource>): boolean {
    const m = this.byKind.get(kind);
    if (!m) return false;
    const next = new Map<string, Resource>();
    for (const o of objs) next.set(objectKey(o.metadata), o);
    let changed = next.size !== m.size;
    if (!changed) for (const [k, v] of next) if (m.get(k) !== v) { changed = true; break; }
    if (!changed) return false;
    m.clear();
    for (const [k, v] of next) m.set(k, v);
    this.dirty.add(kind);
    return true;
  }

  get changed(): boolean {
    return this.dirty.size > 0;
  }

  snapshot(): Snapshot {
    if (this.dirty.size > 0 || this.revision === 0) {
      const next = new Map(this.frozen);
      for (const k of KINDS) {
        if (this.dirty.has(k.kind) || !next.has(k.kind)) next.set(k.kind, new Map(this.byKind.get(k.kind)));
      }
      this.frozen = next;
      this.dirty.clear();
      this.revision++;
    }
    return { revision: this.revision, objects: this.frozen };
  }
}

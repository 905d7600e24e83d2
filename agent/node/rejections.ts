/**
 * Datastore objects rejected by validation (kept per source and object, with the
 * errors that name the fields), until a snapshot holds the object again — then it
 * has been fixed — or its source is read again (a file's rejections are those of its
 * latest read: an invalid object removed from it is no problem any more). An edit
 * whose last good version the datastore keeps stays a problem while the snapshot
 * holds that kept version. Status lists them as problems; a metric counts them.
 */
import type { Rejection } from '../datastore/datastore.js';
import type { ResourceKind } from '../datastore/resources.js';
import type { Snapshot } from '../datastore/snapshot.js';
import { rejectionSentence } from './status-view.js';

export class Rejections {
  private readonly byKey = new Map<string, Rejection>();

  add(r: Rejection): void {
    this.byKey.set(`${r.source} ${r.object}`, r);
  }

  /** Forgets the rejected objects that `s` now holds in a new version (fixed); the caller skips it while none is kept. */
  fixedIn(s: Snapshot): void {
    for (const [k, r] of this.byKey) {
      // "NetworkPolicy ns/name", "Node n1"; the file datastore adds the document: "IPPool p (document 2)"
      const label = r.object.replace(/ \(document \d+\)$/, '');
      const space = label.indexOf(' ');
      const o = space > 0 ? s.objects.get(label.slice(0, space) as ResourceKind)?.get(label.slice(space + 1)) : undefined;
      if (o !== undefined && o !== r.kept) this.byKey.delete(k);
    }
  }

  /** The object was deleted from `source`: its rejection is void. */
  deleted(source: string, object: string): void {
    this.byKey.delete(`${source} ${object}`);
  }

  /** `source` was read again: its rejections are the ones reported from now on. */
  clearSource(source: string): void {
    for (const [k, r] of this.byKey) if (r.source === source) this.byKey.delete(k);
  }

  /** Whether a rejected object of this kind is outstanding (not in a snapshot since). */
  holdsKind(kind: string): boolean {
    for (const r of this.byKey.values()) if (r.object.startsWith(`${kind} `)) return true;
    return false;
  }

  get size(): number {
    return this.byKey.size;
  }

  sentences(): string[] {
    return [...this.byKey.values()].map(rejectionSentence);
  }
}

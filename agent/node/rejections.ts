/**
 * Datastore objects rejected by validation (kept per source and object, with the
 * errors that name the fields), until a snapshot holds the object again — then it
 * has been fixed — or its source is read again (a file's rejections are those of its
 * latest read: an invalid object removed from it is no problem any more). An edit
 * whose last good version the datastore keeps stays a problem while the snapshot
 * holds that kept version. Status lists them as problems; a metric counts them.
 */
import type { Rejection } from '../datastore/datastore.js';
import { describeObject } from '../datastore/resources.js';
import type { Snapshot } from '../datastore/snapshot.js';
import { rejectionSentence } from './status-view.js';

export class Rejections {
  private readonly byKey = new Map<string, Rejection>();

  add(r: Rejection): void {
    this.byKey.set(`${r.source} ${r.object}`, r);
  }

  /** Forgets the rejected objects that `s` now holds in a new version (fixed); the caller skips it while none is kept. */
  fixedIn(s: Snapshot): void {
    const present = new Map<string, object>();
    for (const [kind, objs] of s.objects) for (const o of objs.values()) present.set(describeObject(kind, o.metadata), o);
    for (const [k, r] of this.byKey) {
      // the file datastore names an object with its document: "IPPool p (document 2)"
      const o = present.get(r.object.replace(/ \(document \d+\)$/, ''));
      if (o !== undefined && o !== r.kept) this.byKey.delete(k);
    }
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

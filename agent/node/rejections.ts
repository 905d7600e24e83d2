/**
 * Datastore objects rejected by validation (kept per source and object, with the
 * errors that name the fields), until a snapshot holds the object again — then it
 * has been fixed. Status lists them as problems; a metric counts them.
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

  /** Forgets the rejected objects that `s` now holds (fixed); the caller skips it while none is kept. */
  fixedIn(s: Snapshot): void {
    const present = new Set<string>();
    for (const [kind, objs] of s.objects) for (const o of objs.values()) present.add(describeObject(kind, o.metadata));
    for (const [k, r] of this.byKey) if (present.has(r.object)) this.byKey.delete(k);
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

import type { Snapshot } from './snapshot.js';

/** An object the datastore refused, with where it came from and why (field paths). */
export interface Rejection {
  /** a file path (file datastore) or an API path (kubernetes) */
  source: string;
  /** "NetworkPolicy x/deny-all", or the document index when it has no identity */
  object: string;
  errors: { path: string; message: string }[];
  /** the last good version the datastore keeps in place of the rejected edit: the very object its snapshots hold */
  kept?: object;
}

export interface DatastoreListener {
  /** Called after the initial sync and after every change (coalesced). */
  onSnapshot(snapshot: Snapshot): void;
  onRejected?(rejection: Rejection): void;
  /** `source` was read again (or is gone): its earlier rejections are superseded by those reported next */
  onSourceRead?(source: string): void;
  /** the object named `object` (as in a Rejection) was deleted from `source`: a rejection of it is void */
  onDeleted?(source: string, object: string): void;
}

/**
 * Where the agent reads the cluster from: `file` (a directory of YAML manifests) or
 * `kubernetes` (the API server). `start` resolves once the first full snapshot has
 * been delivered; afterwards changes arrive through the listener until `stop`.
 */
export interface Datastore {
  readonly name: 'file' | 'kubernetes';
  start(listener: DatastoreListener): Promise<void>;
  stop(): Promise<void>;
}

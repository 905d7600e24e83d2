/** IPAM errors carry a stable reason so that the CNI side can map them to codes. */
export type IpamErrorReason =
  | 'invalid-pool'      // a pool spec is malformed (names the field)
  | 'no-pool'           // no enabled pool selects this node
  | 'exhausted'         // every eligible pool is full (or only borrowable with strictAffinity)
  | 'contention'        // compare-and-swap kept failing; try again later
  | 'unavailable'      // the datastore is unreachable or overloaded for now (5xx, 429, network); try again later
  | 'store';            // the datastore failed

export class IpamError extends Error {
  constructor(readonly reason: IpamErrorReason, message: string) {
    super(message);
    this.name = 'IpamError';
  }
}

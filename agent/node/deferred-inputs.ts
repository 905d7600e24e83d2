/**
 * Inputs that can wait a few ms: the newest datastore snapshot and other nodes' IPAM
 * records (each change is a kind's records whole, so per kind the newest wins). They
 * wait `ms` (DEFER_INPUTS_MS, coalesced), then for the poll phase to pass
 * (setImmediate): a BGP UPDATE whose bytes are already queued on the socket is read
 * first. On a node receiving a new block, the datastore and IPAM watchers fire right
 * when its UPDATE arrives (the block record, the pod's manifest); nothing they carry
 * is as urgent as the route.
 *
 * State: what waits, the armed timer or immediate, and `stopped` (nothing is flushed
 * after stop()).
 */
import type { Snapshot } from '../datastore/snapshot.js';
import type { IpamChange } from '../ipam/store.js';

/** How long deferred inputs wait (options.ts `deferInputsMs`; 0 = at once). */
export const DEFER_INPUTS_MS = 3;

export class DeferredInputs {
  private snapshot: Snapshot | undefined;
  private readonly ipam = new Map<IpamChange['kind'], IpamChange>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(readonly ms: number, private readonly flush: (snapshot: Snapshot | undefined, ipam: IpamChange[]) => void) {}

  /** the newest snapshot waits (replacing one already waiting) */
  deferSnapshot(s: Snapshot): void {
    this.snapshot = s;
    this.arm();
  }

  /** a kind's records wait (replacing that kind's records already waiting) */
  deferIpam(c: IpamChange): void {
    this.ipam.set(c.kind, c);
    this.arm();
  }

  /** Forgets the IPAM records waiting: a newer read (a re-list, a claim's own write) supersedes them. */
  dropIpam(): void {
    this.ipam.clear();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }

  private arm(): void {
    if (this.timer || this.immediate || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // timers run before the poll phase: hop to the check phase, after the socket reads
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.flushNow();
      });
    }, this.ms);
  }

  /** only from the immediate: stop() clears it and arm() refuses once stopped, so nothing flushes after stop() */
  private flushNow(): void {
    const snap = this.snapshot;
    this.snapshot = undefined;
    const ipam = [...this.ipam.values()];
    this.ipam.clear();
    this.flush(snap, ipam);
  }
}

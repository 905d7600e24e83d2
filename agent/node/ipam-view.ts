/**
 * The agent's copy of the IPAM records (every node's blocks and handles), fed by a
 * re-list or the store's change feed, one kind at a time. It says what moved: any
 * record (versions), and what the route pass and BGP read — this node's blocks, the
 * VXLAN tunnel addresses, the addresses this node holds in others' blocks and those
 * its blocks lend to others (borrowed.ts).
 *
 * A block this agent claims is known here before the store's next read (`claimed`),
 * and a list read just before the claim can arrive just after it. So a claimed
 * block stays pending, and is laid over every list applied, until a list has it
 * with this node's affinity (confirmed: from then on the lists alone say), or until
 * a change names its key as written or deleted since the feed's previous delivery
 * (`IpamChange.touched`) without it being this node's: deleted or reassigned. A
 * touch that is older than the claim (the key's previous life) ends the pending
 * state early; the claim's own write then arrives in a later change. A claim still
 * pending after `PENDING_CLAIM_TTL_MS` ends too (an event the feed lost, a store
 * without one): the lists alone say from then on, as they would without the claim.
 *
 * The reverse: a block of this node released here (`released`, block-events.ts) is
 * hidden from `own()` until the view has it gone — a list read before the release
 * can arrive just after it, still holding the block (and a pending claim is laid over
 * every list). It stops being hidden when a change names it as written or deleted
 * (`touched`) and the view's own blocks no longer hold it (from then on the lists
 * alone say), when this node claims it again, or after `PENDING_CLAIM_TTL_MS`. A list
 * that merely lacks it is not enough: a fresh re-list can be followed by a feed
 * delivery from before the release (kubernetes: the reflector has not seen the
 * DELETE yet).
 *
 * State: the records, their versions, the pending claims and the released blocks
 * (each with when, `clock()`).
 */
import type { IpamChange } from '../ipam/store.js';
import type { Block, Handle } from '../ipam/types.js';
import { ownBlocks, tunnelAddresses, type NodeTunnels } from './desired.js';
import { borrowedAddresses } from './borrowed.js';

/** longer than any store's re-list period (file feed 10 s): a claim no list confirmed (or a release none confirmed) by then is left to the lists */
export const PENDING_CLAIM_TTL_MS = 30_000;

export class IpamView {
  blocks: Block[] = [];
  handles: Handle[] = [];
  /** read once: until then nothing is originated, routed or enforced (an empty read would withdraw everything) */
  read = false;
  private versions = { block: '', handle: '' };
  private ownKey = '';
  /** blocks claimed here and not yet confirmed by a list (cidr → block, and when: `clock()`) */
  private readonly pending = new Map<string, { b: Block; at: number }>();
  /** own blocks released here that a list may still hold (cidr → when: `clock()`) */
  private readonly releasedAt = new Map<string, number>();
  /** the host prefixes of the addresses held here in others' blocks, and the `blocks` they were read from (computed once per change) */
  private held: { from: Block[]; prefixes: string[] } = { from: this.blocks, prefixes: [] };

  constructor(private readonly node: string, private readonly clock: () => number = () => performance.now()) {}

  /**
   * Takes records in; `changed`: any version moved; `handles`: a handle moved (what
   * policy reads: pods' addresses); `own`: own blocks, tunnel addresses or borrowed
   * addresses (held here, or lent by own blocks) moved.
   */
  apply(changes: readonly IpamChange[]): { changed: boolean; handles: boolean; own: boolean } {
    let changed = false;
    let handles = false;
    const touched: string[] = [];
    for (const c of changes) {
      if (c.kind === 'block') touched.push(...c.touched ?? []);
      const key = c.records.map((r) => r.version).join(',');
      const moved = key !== this.versions[c.kind];
      changed = changed || moved;
      if (c.kind === 'handle') handles = handles || moved;
      this.versions[c.kind] = key;
      if (c.kind === 'block') this.blocks = this.withPending(c.records.map((r) => r.value), c.touched);
      else this.handles = c.records.map((r) => r.value);
    }
    this.read = true;
    this.settleReleased(touched);
    return { changed, handles, own: this.ownMoved() };
  }

  /** A block this agent just claimed, ahead of the store's next read: pending until a list confirms it. */
  claimed(b: Block): void {
    this.releasedAt.delete(b.cidr);
    this.pending.set(b.cidr, { b, at: this.clock() });
    this.blocks = [...this.blocks.filter((x) => x.cidr !== b.cidr), b];
    this.ownMoved();
  }

  /** A block of this node just released here: hidden from own() until the view has it gone. */
  released(cidr: string): void {
    this.releasedAt.set(cidr, this.clock());
    this.ownMoved();
  }

  /** Released blocks still hidden. */
  releasedPending(): string[] {
    return [...this.releasedAt.keys()];
  }

  /** Claimed blocks no list has confirmed yet. */
  pendingClaims(): string[] {
    return [...this.pending.keys()];
  }

  /** A block list with the pending claims laid over it; those it confirms, deletes or reassigns stop pending. */
  private withPending(listed: Block[], touched: readonly string[] | undefined): Block[] {
    if (this.pending.size === 0) return listed;
    const byCidr = new Map(listed.map((b) => [b.cidr, b]));
    const expired = this.clock() - PENDING_CLAIM_TTL_MS;
    for (const [cidr, { b, at }] of this.pending) {
      if (byCidr.get(cidr)?.affinity === b.affinity || touched?.includes(cidr) || at < expired) this.pending.delete(cidr);
    }
    if (this.pending.size === 0) return listed;
    return [...listed.filter((b) => !this.pending.has(b.cidr)), ...[...this.pending.values()].map((p) => p.b)];
  }

  /** This node's blocks, without those released here that the view may still hold. */
  own(): Block[] {
    const mine = ownBlocks(this.blocks, this.node);
    return this.releasedAt.size === 0 ? mine : mine.filter((b) => !this.releasedAt.has(b.cidr));
  }

  /** Releases the feed confirms (named, and no longer among the view's own blocks), and those hidden too long, end their hiding. */
  private settleReleased(touched: readonly string[]): void {
    if (this.releasedAt.size === 0) return;
    const mine = new Set(ownBlocks(this.blocks, this.node).map((b) => b.cidr));
    const expired = this.clock() - PENDING_CLAIM_TTL_MS;
    for (const [cidr, at] of this.releasedAt) {
      if ((!mine.has(cidr) && touched.includes(cidr)) || at < expired) this.releasedAt.delete(cidr);
    }
  }

  /** Host routes (/32, /128) of the addresses this node's handles hold in blocks not its own (borrowed.ts): originated here. */
  borrowedHere(): string[] {
    if (this.held.from !== this.blocks) this.ownMoved();
    return this.held.prefixes;
  }

  /** Every node's tunnel device addresses (VXLAN, IPIP) from the IPAM handles. */
  tunnels(): Map<string, NodeTunnels> {
    return tunnelAddresses(this.handles);
  }

  private ownMoved(): boolean {
    // borrowed addresses held here (originated) and those own blocks lend (their host routes accepted from the holder) move routing too
    // one scan of the blocks for both; what is held here is kept for borrowedHere()
    const own = this.own();
    const ownCidrs = new Set(own.map((b) => b.cidr));
    const borrowed = borrowedAddresses(this.blocks);
    this.held = { from: this.blocks, prefixes: borrowed.filter((x) => x.node === this.node).map((x) => x.prefix) };
    const lent = borrowed.filter((x) => ownCidrs.has(x.block)).map((x) => `${x.prefix}@${x.node}`);
    const key = JSON.stringify([[...ownCidrs], [...this.tunnels()], this.held.prefixes, lent]);
    const moved = key !== this.ownKey;
    this.ownKey = key;
    return moved;
  }
}

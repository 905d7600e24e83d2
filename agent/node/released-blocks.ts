/**
 * Blocks of this node released here (block-events.ts), hidden from the agent's own blocks
 * until its copy of the IPAM records (ipam-view.ts) has them gone too — the reverse
 * of IpamView's pending claims. A list read before the release can arrive just after
 * it, still holding the block (and a claim no list has confirmed yet stays laid over
 * every list); hidden, the block stays withdrawn and unrouted instead of coming back
 * until a newer list.
 *
 * A released block stops being hidden when a change from the store's feed names it
 * as written or deleted (`IpamChange.touched`) and the view's own blocks no longer
 * hold it (`settle`: from then on the view alone says), when this node claims it
 * again, or after `RELEASE_HIDE_TTL_MS` (a lost event, a store without a feed). A
 * list that merely lacks it is not enough: a fresh re-list can be followed by a
 * feed delivery from before the release (kubernetes: the reflector has not seen the
 * DELETE yet). A block of another node is never in the view's own blocks, so hiding
 * it changes nothing.
 *
 * State: the released CIDRs the view may still bring back, with when they were released.
 */
import type { Block } from '../ipam/types.js';

/** as IpamView's pending claims: longer than any store's re-list period */
export const RELEASE_HIDE_TTL_MS = 30_000;

export class ReleasedBlocks {
  private readonly hidden = new Map<string, number>();

  constructor(private readonly clock: () => number = () => performance.now()) {}

  released(cidr: string): void {
    this.hidden.set(cidr, this.clock());
  }

  /** claimed again here: the block is this node's again */
  claimed(cidr: string): void {
    this.hidden.delete(cidr);
  }

  /**
   * After IPAM records were applied (`touched`: the block keys the feed named as
   * written or deleted since its previous delivery; undefined for a plain list):
   * releases the feed confirms, and those hidden too long, end their hiding.
   */
  settle(viewOwn: readonly Block[], touched: readonly string[] | undefined): void {
    if (this.hidden.size === 0) return;
    const own = new Set(viewOwn.map((b) => b.cidr));
    const expired = this.clock() - RELEASE_HIDE_TTL_MS;
    for (const [cidr, at] of this.hidden) {
      if ((!own.has(cidr) && touched?.includes(cidr)) || at < expired) this.hidden.delete(cidr);
    }
  }

  /** `own` without the blocks released here that the view may still hold. */
  hide(own: Block[]): Block[] {
    return this.hidden.size === 0 ? own : own.filter((b) => !this.hidden.has(b.cidr));
  }

  /** released blocks still hidden */
  pending(): string[] {
    return [...this.hidden.keys()];
  }
}

/**
 * Blocks of this node released here (releases.ts), hidden from the agent's own blocks
 * until its copy of the IPAM records (ipam-view.ts) has them gone too — the reverse
 * of IpamView's pending claims. A list read before the release can arrive just after
 * it, still holding the block (and a claim no list has confirmed yet stays laid over
 * every list); hidden, the block stays withdrawn and unrouted instead of coming back
 * until a newer list.
 *
 * A released block stops being hidden when the view's own blocks no longer hold it
 * (`settle`, after each read applied: from then on the view alone says), or when this
 * node claims it again. A block of another node is never in the view's own blocks,
 * so hiding it changes nothing.
 *
 * State: the released CIDRs the view still holds.
 */
import type { Block } from '../ipam/types.js';

export class ReleasedBlocks {
  private readonly hidden = new Set<string>();

  released(cidr: string): void {
    this.hidden.add(cidr);
  }

  /** claimed again here: the block is this node's again */
  claimed(cidr: string): void {
    this.hidden.delete(cidr);
  }

  /** After IPAM records were applied: releases the view confirms (the block is no longer its own) end their hiding. */
  settle(viewOwn: readonly Block[]): void {
    if (this.hidden.size === 0) return;
    const own = new Set(viewOwn.map((b) => b.cidr));
    for (const cidr of this.hidden) if (!own.has(cidr)) this.hidden.delete(cidr);
  }

  /** `own` without the blocks released here that the view still holds. */
  hide(own: Block[]): Block[] {
    return this.hidden.size === 0 ? own : own.filter((b) => !this.hidden.has(b.cidr));
  }

  /** released blocks the view still holds */
  pending(): string[] {
    return [...this.hidden];
  }
}

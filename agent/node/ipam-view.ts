/**
 * The agent's copy of the IPAM records (every node's blocks and handles), fed by a
 * re-list or the store's change feed, one kind at a time. It says what moved: any
 * record (versions), and what the route pass and BGP read — this node's blocks and
 * the VXLAN tunnel addresses.
 */
import type { IpamChange } from '../ipam/store.js';
import type { Block, Handle } from '../ipam/types.js';
import { ownBlocks, vxlanTunnelAddresses } from './desired.js';

export class IpamView {
  blocks: Block[] = [];
  handles: Handle[] = [];
  /** read once: until then nothing is originated, routed or enforced (an empty read would withdraw everything) */
  read = false;
  private versions = { block: '', handle: '' };
  private ownKey = '';

  constructor(private readonly node: string) {}

  /**
   * Takes records in; `changed`: any version moved; `handles`: a handle moved (what
   * policy reads: pods' addresses); `own`: own blocks or tunnel addresses moved.
   */
  apply(changes: readonly IpamChange[]): { changed: boolean; handles: boolean; own: boolean } {
    let changed = false;
    let handles = false;
    for (const c of changes) {
      const key = c.records.map((r) => r.version).join(',');
      const moved = key !== this.versions[c.kind];
      changed = changed || moved;
      if (c.kind === 'handle') handles = handles || moved;
      this.versions[c.kind] = key;
      if (c.kind === 'block') this.blocks = c.records.map((r) => r.value);
      else this.handles = c.records.map((r) => r.value);
    }
    this.read = true;
    return { changed, handles, own: this.ownMoved() };
  }

  /** A block this agent just claimed, ahead of the store's next read. */
  claimed(b: Block): void {
    if (!this.blocks.some((x) => x.cidr === b.cidr)) this.blocks = [...this.blocks, b];
    this.ownMoved();
  }

  own(): Block[] {
    return ownBlocks(this.blocks, this.node);
  }

  tunnels(): Map<string, string> {
    return vxlanTunnelAddresses(this.handles);
  }

  private ownMoved(): boolean {
    const key = JSON.stringify([this.own().map((b) => b.cidr), [...this.tunnels()]]);
    const moved = key !== this.ownKey;
    this.ownKey = key;
    return moved;
  }
}

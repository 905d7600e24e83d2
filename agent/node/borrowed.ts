/**
 * Borrowed addresses (pure): an address of a block that is not its holder's — the
 * allocator borrows from another node's block when the node has no free address in
 * its own and no free block is left (agent/ipam/DESIGN.md, step 4, unless
 * strictAffinity), and a block loses its affinity when its node goes. Nobody's block
 * route reaches such an address (the block's owner routes it to itself, or nobody
 * originates the block), so, as Calico does, its holder originates a host route
 * (/32, /128) for it, and the block's owner accepts that route from the holder
 * (dataplaneInputOf). The block records alone say it: each allocation names its
 * handle, and the block's `attributes` name the handle's node.
 */
import { addrAt, parseCidr } from '../ipam/cidr.js';
import type { Block } from '../ipam/types.js';

export interface Borrowed {
  /** the address as a host prefix: a.b.c.d/32 or x::y/128 */
  prefix: string;
  /** the node whose handle holds it */
  node: string;
  /** the block it lies in (another node's, or one without affinity) */
  block: string;
}

/** The node holding each address of `b` that is not `b`'s own node's (a handle whose node the block does not name: unknown, skipped). */
export function lentFrom(b: Block): Borrowed[] {
  const out: Borrowed[] = [];
  let cidr: ReturnType<typeof parseCidr> | undefined;
  b.allocations.forEach((h, i) => {
    if (h === null) return;
    const node = b.attributes[h]?.node;
    if (!node || b.affinity === `host:${node}`) return;
    cidr ??= parseCidr(b.cidr);
    out.push({ prefix: `${addrAt(cidr, i)}/${cidr.family === 4 ? 32 : 128}`, node, block: b.cidr });
  });
  return out;
}

/** Every borrowed address in `blocks`, in block order then address order. */
export function borrowedAddresses(blocks: readonly Block[]): Borrowed[] {
  return blocks.flatMap(lentFrom);
}

/** The host prefixes of the addresses `node` holds in blocks not its own: what it originates besides its blocks. */
export function heldHere(blocks: readonly Block[], node: string): string[] {
  return borrowedAddresses(blocks).filter((x) => x.node === node).map((x) => x.prefix);
}

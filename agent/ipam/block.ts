/**
 * Pure operations on one IPAM block record: create, allocate the lowest free
 * ordinal to a handle, release a handle's addresses, inspect. Every function returns
 * a new value; the caller writes it back with compare-and-swap.
 */
import { addrAt, parseCidr, cidrSize, ordinalOf, type Cidr } from './cidr.js';
import type { Block, HandleAttrs } from './types.js';

export function affinityOf(node: string): string {
  return `host:${node}`;
}

export function newBlock(cidr: Cidr, cidrText: string, pool: string, node: string | null): Block {
  return {
    cidr: cidrText,
    pool,
    affinity: node === null ? null : affinityOf(node),
    allocations: Array<string | null>(Number(cidrSize(cidr))).fill(null),
    attributes: {},
  };
}

export function freeCount(b: Block): number {
  let n = 0;
  for (const a of b.allocations) if (a === null) n++;
  return n;
}

export function isEmpty(b: Block): boolean {
  return b.allocations.every((a) => a === null);
}

/** The address this handle already holds in the block, if any. */
export function addressOf(b: Block, handle: string): string | undefined {
  const i = b.allocations.indexOf(handle);
  return i < 0 ? undefined : addrAt(parseCidr(b.cidr), i);
}

/**
 * Gives the lowest free address to `handle`. Undefined when the block is full.
 * A handle holds at most one address per block: asking again returns the same one.
 */
export function allocateInBlock(b: Block, handle: string, attrs: HandleAttrs): { block: Block; address: string } | undefined {
  const held = addressOf(b, handle);
  if (held !== undefined) return { block: b, address: held };
  const i = b.allocations.indexOf(null);
  if (i < 0) return undefined;
  const allocations = b.allocations.slice();
  allocations[i] = handle;
  return {
    block: { ...b, allocations, attributes: { ...b.attributes, [handle]: attrs } },
    address: addrAt(parseCidr(b.cidr), i),
  };
}

/** Frees every address `handle` holds in the block; `released` lists them. */
export function releaseInBlock(b: Block, handle: string): { block: Block; released: string[] } {
  const cidr = parseCidr(b.cidr);
  const released: string[] = [];
  const allocations = b.allocations.map((a, i) => {
    if (a !== handle) return a;
    released.push(addrAt(cidr, i));
    return null;
  });
  if (released.length === 0) return { block: b, released };
  const attributes = { ...b.attributes };
  delete attributes[handle];
  return { block: { ...b, allocations, attributes }, released };
}

/** Frees one address if (and only if) `handle` holds it. */
export function releaseAddress(b: Block, address: string, handle: string): Block | undefined {
  const i = ordinalOf(parseCidr(b.cidr), address);
  if (i === undefined || b.allocations[i] !== handle) return undefined;
  return releaseInBlock(b, handle).block;
}

/** Distinct handles holding addresses in the block. */
export function handlesIn(b: Block): string[] {
  return [...new Set(b.allocations.filter((a): a is string => a !== null))];
}

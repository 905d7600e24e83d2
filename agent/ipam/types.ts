/**
 * IPAM data: IPPools (the spec follows Calico's IPPool fields) and the two records
 * IPAM keeps in a datastore — blocks (a CIDR carved from a pool, with the node it is
 * affine to and which handle holds each address) and handles (what one pod
 * interface was given). Plain JSON-able values so that a store can keep them as
 * files or as CRD objects.
 */
import type { Family } from './cidr.js';

export type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

/** An IPPool as written by the user (Calico's IPPool spec fields). */
export interface IpPoolSpec {
  cidr: string;
  /** Prefix length of the blocks carved from the pool: default 26 (IPv4) / 122 (IPv6). */
  blockSize?: number;
  /** Calico selector over node labels; default all(). */
  nodeSelector?: string;
  disabled?: boolean;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
}

export interface IpPool {
  name: string;
  spec: IpPoolSpec;
  /** metadata.creationTimestamp (RFC 3339), when known: of two overlapping pools the older serves. */
  creationTimestamp?: string;
}

/** The pod an allocation belongs to, so that leaked addresses can be found. */
export interface PodRef {
  namespace: string;
  name: string;
}

export interface HandleAttrs {
  node: string;
  pod?: PodRef;
  containerId?: string;
}

/**
 * An IPAM block. `allocations[ordinal]` is the handle holding that address or null.
 * `affinity` is `host:<node>` for the node that claimed it, or null once that node
 * let go of it (its remaining addresses still count until released).
 */
export interface Block {
  cidr: string;
  pool: string;
  affinity: string | null;
  allocations: (string | null)[];
  attributes: Record<string, HandleAttrs>;
}

/** What one handle (container ID + interface) holds: one address per family at most. */
export interface Handle {
  handle: string;
  addresses: { family: Family; address: string; block: string; pool: string }[];
  attrs: HandleAttrs;
}

export interface IpamRecords {
  block: Block;
  handle: Handle;
}
export type IpamKind = keyof IpamRecords;

/** One assigned address as returned to the CNI side. */
export interface Assignment {
  family: Family;
  address: string;
  /** Prefix length of the address on the pod interface: 32 or 128. */
  prefix: number;
  block: string;
  pool: string;
}

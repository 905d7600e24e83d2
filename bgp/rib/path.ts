/**
 * Paths as the RIB holds them. A path is (source, attributes); many prefixes share
 * one, so each Adj-RIB-In interns its paths by an attribute key and the prefix
 * table (table.ts) stores a reference, never a per-prefix object. Prefixes are
 * keyed by their text form ("10.0.0.0/24", "fd00::/64"); listings of one peer's
 * routes append "#pathId" for ADD-PATH routes.
 */
import type { AdjRibIn } from './adj-rib-in.js';
import type { PathAttributes } from '../wire/types.js';

/**
 * Path attributes after import: next hops resolved from NEXT_HOP or MP_REACH, AS4
 * reconciled; ORIGIN and AS_PATH always present. `unknown`: optional transitive
 * attributes we do not know, passed on with the Partial bit.
 */
export interface RouteAttrs extends Required<Pick<PathAttributes, 'origin' | 'asPath'>>, Pick<PathAttributes,
  'med' | 'localPref' | 'atomicAggregate' | 'aggregator' | 'communities' | 'originatorId' | 'clusterList'
  | 'extendedCommunities' | 'largeCommunities' | 'unknown'> {
  /** one global next hop, or global + link-local (IPv6); empty = ourselves (originated) */
  nextHops: string[];
}

/** Who a path came from, as the decision process and export rules need it. */
export interface PeerInfo {
  readonly id: string;
  /** peer address; '' for locally originated paths */
  readonly address: string;
  readonly asn: number;
  /** the peer's BGP identifier */
  readonly routerId: string;
  readonly ibgp: boolean;
  readonly rrClient: boolean;
  /** originated by this speaker */
  readonly local: boolean;
}

export interface Path {
  readonly source: PeerInfo;
  readonly attrs: RouteAttrs;
  /** graceful restart: kept from a session that went away, not yet refreshed */
  stale: boolean;
  /** the attribute key it is interned under */
  readonly key: string;
  /** Adj-RIB-In routes referring to it (the intern table forgets it at 0) */
  refs: number;
  /** the Adj-RIB-In (peer view) holding it; absent only on paths built for the decision alone */
  readonly owner?: AdjRibIn;
  /** its next-hop list as RouteChanges carry it (frozen, made on first use: table.ts) */
  hops?: readonly string[] | undefined;
}

/** Deterministic key of an attribute set (field order fixed by construction). */
export function attrsKey(a: RouteAttrs): string {
  return JSON.stringify(a);
}

export type Family = 'ipv4' | 'ipv6';

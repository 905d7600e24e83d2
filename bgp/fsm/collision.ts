/**
 * Connection collision detection (RFC 4271 §6.8) as a pure decision. When two
 * connections to one peer both reach the point where the peer's BGP Identifier is
 * known, the local and remote identifiers are compared as unsigned 32-bit numbers:
 * if the local one is lower, the connection the local system initiated is closed
 * (the remote-initiated one survives); otherwise the remote-initiated one is closed.
 * Equal identifiers (RFC 6286 §2.3, updating §6.8): the connection initiated by the
 * speaker with the larger AS number survives. Equal identifiers and equal ASNs
 * cannot get here: checkOpen rejects an iBGP peer with our identifier (2/3).
 * A collision with an Established session always closes the newcomer.
 */
import type { Direction } from './types.js';

export function ipv4ToNumber(addr: string): number {
  const p = addr.split('.');
  if (p.length !== 4) return Number.NaN;
  let n = 0;
  for (const part of p) {
    const v = Number(part);
    if (!/^\d{1,3}$/.test(part) || v > 255) return Number.NaN;
    n = n * 256 + v;
  }
  return n;
}

/** One side of a collision: its BGP Identifier and its AS number (the 4-octet one). */
export interface CollisionSide {
  id: string;
  asn: number;
}

/** Which direction of connection survives a collision between the local and the remote speaker. */
export function collisionSurvivor(local: CollisionSide, remote: CollisionSide): Direction {
  const l = ipv4ToNumber(local.id);
  const r = ipv4ToNumber(remote.id);
  if (l !== r) return l < r ? 'in' : 'out';
  return local.asn < remote.asn ? 'in' : 'out';
}

export interface CollidingConnection {
  conn: number;
  direction: Direction;
  established: boolean;
}

/** Returns the connection id to close (with Cease 6/7). */
export function resolveCollision(
  local: CollisionSide,
  remote: CollisionSide,
  existing: CollidingConnection,
  incoming: CollidingConnection,
): number {
  if (existing.established) return incoming.conn;
  if (existing.direction === incoming.direction) return incoming.conn; // not a true collision: keep the older
  const keep = collisionSurvivor(local, remote);
  return existing.direction === keep ? incoming.conn : existing.conn;
}

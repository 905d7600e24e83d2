/**
 * End-of-RIB markers (RFC 4724 §2): for IPv4 unicast an UPDATE with nothing in it;
 * for any other family an UPDATE whose only attribute is an empty MP_UNREACH_NLRI.
 */
import type { Message, UpdateMessage } from './types.js';

export function isEndOfRib(m: Message): { afi: number; safi: number } | undefined {
  if (m.type !== 'UPDATE' || m.withdrawn.length > 0 || m.nlri.length > 0) return undefined;
  const a = m.attributes;
  let count = 0;
  for (const k in a) if ((a as Record<string, unknown>)[k] !== undefined) count++;
  if (count === 0) return { afi: 1, safi: 1 };
  if (count === 1 && a.mpUnreach !== undefined && a.mpUnreach.withdrawn.length === 0) {
    return { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi };
  }
  return undefined;
}

export function endOfRib(afi: number, safi: number): UpdateMessage {
  if (afi === 1 && safi === 1) return { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'UPDATE', withdrawn: [], attributes: { mpUnreach: { afi, safi, withdrawn: [] } }, nlri: [] };
}

/**
 * The VTEP MAC of a node, derived only from its name: a locally administered unicast
 * MAC (first octet 0x66, as Calico's VTEPs use) followed by 5 bytes of SHA-256 of
 * the name. Every node computes the same MAC for every other node, so nothing needs to
 * be published.
 */
import { createHash } from 'node:crypto';

export function vtepMac(nodeName: string): string {
  const h = createHash('sha256').update(`margay-vtep:${nodeName}`).digest();
  const bytes = [0x66, ...h.subarray(0, 5)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

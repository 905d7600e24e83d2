/**
 * Deterministic host-side interface names: `mgw` + 11 hex digits of SHA-1 over the
 * container ID (and the interface name when it is not eth0), 14 characters, under
 * the kernel's 15. Policy matches host veths with the `mgw+` wildcard. Pure.
 */
import { createHash } from 'node:crypto';

export const HOST_IF_PREFIX = 'mgw';

export function hostIfName(containerId: string, ifName = 'eth0'): string {
  const key = ifName === 'eth0' ? containerId : `${containerId}/${ifName}`;
  return HOST_IF_PREFIX + createHash('sha1').update(key).digest('hex').slice(0, 11);
}

/** The IPAM handle of one pod interface on one network. */
export function handleId(network: string, containerId: string, ifName: string): string {
  return `${network}.${containerId}.${ifName}`;
}

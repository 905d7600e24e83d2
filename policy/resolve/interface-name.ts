import { createHash } from 'node:crypto';

/**
 * The host-side veth name of a pod: `mgw` + 12 hex digits of sha256("ns/name"),
 * 15 characters (IFNAMSIZ - 1). The CNI plugin names the host end with this function
 * so that the policy dispatch (`-i mgw+` / `-o mgw+`) knows every workload interface.
 */
export const WORKLOAD_IFACE_PREFIX = 'mgw';

export function workloadInterfaceName(namespace: string, name: string): string {
  return `${WORKLOAD_IFACE_PREFIX}${createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 12)}`;
}

/**
 * The CNI handle of one pod interface, "<network>.<containerID>.<ifName>"
 * (agent/cni/names.ts `handleId` writes it). Each of the three parts may contain dots:
 * a network name and a container ID are alphanumerics plus `_.-`, and CNI_IFNAME may
 * be any Linux interface name (`eth0.100`). The text alone is therefore ambiguous;
 * the container ID, which every pod handle's attributes carry, splits it. Pure.
 */

export interface HandleParts {
  network: string;
  containerId: string;
  ifName: string;
}

/** Longest Linux interface name (IFNAMSIZ - 1). */
const MAX_IFNAME = 15;

/**
 * Splits a handle made for `containerId`, or undefined if it is not one (no such
 * part, an empty network or interface name). Where the container ID occurs more than
 * once, the last occurrence that leaves a possible interface name (1–15 characters)
 * wins: a network name has no length limit, an interface name has.
 */
export function parseHandle(handle: string, containerId: string): HandleParts | undefined {
  if (containerId === '') return undefined;
  const mid = `.${containerId}.`;
  for (let i = handle.lastIndexOf(mid); i > 0; i = handle.lastIndexOf(mid, i - 1)) {
    const ifName = handle.slice(i + mid.length);
    if (ifName.length >= 1 && ifName.length <= MAX_IFNAME && ifName !== '.' && ifName !== '..') {
      return { network: handle.slice(0, i), containerId, ifName };
    }
  }
  return undefined;
}

/**
 * The interface name of a handle: parsed with the container ID when it is known and
 * fits; otherwise (a record without one) the text after the last dot, or `eth0`.
 */
export function ifNameOfHandle(handle: string, containerId?: string): string {
  const parts = containerId !== undefined ? parseHandle(handle, containerId) : undefined;
  if (parts) return parts.ifName;
  const i = handle.lastIndexOf('.');
  return (i < 0 ? '' : handle.slice(i + 1)) || 'eth0';
}

/**
 * The lab's address and name plan: pure functions from (prefix, fabric, node count)
 * to every namespace, interface and address the lab will create. Nothing here runs
 * a command; lab.ts turns the plan into `ip` batches (wiring.ts) and runs them.
 *
 * Address plan (the same in every lab: each lab lives in its own namespaces, so
 * two labs with the same addresses never meet):
 *
 *   l2 fabric      one bridge `br0` in the fabric namespace, 172.30.0.1/24 and
 *                  fd30::1/64 on it (a gateway, and a place for a top-of-rack
 *                  daemon). Node k (1-based) is 172.30.0.(10+k)/24, fd30::(10+k)/64.
 *   routed fabric  the fabric namespace is a router between two bridges:
 *                  `br-a` 172.30.1.1/24 + fd30:1::1/64 and `br-b` 172.30.2.1/24 +
 *                  fd30:2::1/64. Odd nodes sit on subnet a, even nodes on b; node k
 *                  keeps host part 10+k (n1 172.30.1.11, n2 172.30.2.12, n3
 *                  172.30.1.13, ...), so addresses stay unique across subnets.
 *   every node     uplink `eth0`, default routes via its subnet's gateway (.1 / ::1),
 *                  IPv4 and IPv6 forwarding on, DAD off.
 *   pods           pool 10.244.0.0/16 and fd44::/48 (the lab's default IPPool);
 *                  a pod's addresses are chosen by the caller (later: by IPAM).
 *                  `podAddress(nodeIndex, podIndex)` gives a conventional pick.
 *
 * Names: namespaces are `<prefix>fabric`, `<prefix>n1`, ... and pods
 * `<prefix><node>-<pod>`; the prefix (`mgXXXX-`, see netns.ts) marks every one as
 * margay's. Interface names live inside those namespaces, so they need no prefix.
 */

export type FabricKind = 'l2' | 'routed';
export const FABRIC_KINDS: readonly FabricKind[] = ['l2', 'routed'];

export const MAX_NODES = 64;
export const POD_POOL_V4 = '10.244.0.0/16';
export const POD_POOL_V6 = 'fd44::/48';
/**
 * The pod's default gateways, the same as the CNI plugin's (agent/cni/handler.ts),
 * so a lab pod looks like a real one: 169.254.1.1 answered by proxy ARP, fe80::1 by
 * a proxy NDP entry, both on the host veth, whose MAC is fixed.
 */
export const POD_GATEWAY_V4 = '169.254.1.1';
export const POD_GATEWAY_V6 = 'fe80::1';
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';

export interface SubnetPlan {
  /** Bridge name in the fabric namespace. */
  bridge: string;
  v4: string; // e.g. 172.30.0.0/24
  v6: string; // e.g. fd30::/64
  gateway: string; // 172.30.0.1
  gateway6: string; // fd30::1
}

export interface NodePlan {
  name: string; // n1
  index: number; // 1-based
  ns: string;
  uplink: 'eth0';
  /** The uplink's peer, in the fabric namespace, enslaved to `subnet.bridge`. */
  fabricPort: string;
  address: string; // 172.30.0.11
  address6: string; // fd30::11
  subnet: SubnetPlan;
}

export interface LabPlan {
  prefix: string;
  fabric: { kind: FabricKind; ns: string; subnets: SubnetPlan[] };
  nodes: NodePlan[];
}

const L2_SUBNETS: SubnetPlan[] = [
  { bridge: 'br0', v4: '172.30.0.0/24', v6: 'fd30::/64', gateway: '172.30.0.1', gateway6: 'fd30::1' },
];
const ROUTED_SUBNETS: SubnetPlan[] = [
  { bridge: 'br-a', v4: '172.30.1.0/24', v6: 'fd30:1::/64', gateway: '172.30.1.1', gateway6: 'fd30:1::1' },
  { bridge: 'br-b', v4: '172.30.2.0/24', v6: 'fd30:2::/64', gateway: '172.30.2.1', gateway6: 'fd30:2::1' },
];

/** Throws a plain Error for a bad request; the CLI checks the same bounds as usage errors. */
export function planLab(prefix: string, fabric: FabricKind, nodeCount: number): LabPlan {
  if (!/^mg[a-z0-9]{1,8}-$/.test(prefix)) throw new Error(`lab prefix must look like "mg3fa9-", got "${prefix}"`);
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODES) {
    throw new Error(`a lab has 1 to ${MAX_NODES} nodes, got ${nodeCount}`);
  }
  const subnets = fabric === 'l2' ? L2_SUBNETS : ROUTED_SUBNETS;
  const nodes: NodePlan[] = [];
  for (let index = 1; index <= nodeCount; index++) {
    const subnet = subnets[(index - 1) % subnets.length] as SubnetPlan;
    const name = `n${index}`;
    nodes.push({
      name,
      index,
      ns: `${prefix}${name}`,
      uplink: 'eth0',
      fabricPort: name,
      address: hostIn(subnet.gateway, 10 + index),
      address6: `${subnet.gateway6.slice(0, -1)}${10 + index}`,
      subnet,
    });
  }
  return { prefix, fabric: { kind: fabric, ns: `${prefix}fabric`, subnets }, nodes };
}

/** 172.30.0.1 + host 11 → 172.30.0.11 (every lab subnet is a /24). */
function hostIn(gateway: string, host: number): string {
  return `${gateway.slice(0, gateway.lastIndexOf('.'))}.${host}`;
}

export interface PodPlan {
  name: string;
  node: string;
  ns: string;
  /** The node-side veth (in the node's namespace); the pod side is always eth0. */
  hostVeth: string;
}

const POD_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export function planPod(prefix: string, node: string, pod: string): PodPlan {
  if (!POD_NAME.test(pod)) throw new Error(`pod name must be lowercase letters, digits and '-' (at most 32), got "${pod}"`);
  return { name: pod, node, ns: `${prefix}${node}-${pod}`, hostVeth: hostVethName(pod) };
}

/**
 * A readable, length-safe host veth name derived only from the pod name:
 * `p-<pod>` when it fits in 15 characters, else `p-<head>-<hash>`.
 */
export function hostVethName(pod: string): string {
  const plain = `p-${pod}`;
  if (plain.length <= 15) return plain;
  return `p-${pod.slice(0, 6)}-${fnv1a(pod).toString(16).padStart(8, '0').slice(0, 6)}`;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A conventional pod address: node k, pod j → 10.244.k.(j+1) and fd44:0:k::(j+1). */
export function podAddress(nodeIndex: number, podIndex: number): { ipv4: string; ipv6: string } {
  if (nodeIndex < 1 || nodeIndex > 255 || podIndex < 1 || podIndex > 253) {
    throw new Error(`podAddress: node 1..255 and pod 1..253, got ${nodeIndex}/${podIndex}`);
  }
  return { ipv4: `10.244.${nodeIndex}.${podIndex + 1}`, ipv6: `fd44:0:${nodeIndex.toString(16)}::${(podIndex + 1).toString(16)}` };
}

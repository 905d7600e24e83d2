import {
  HOST_VETH_MAC,
  POD_GATEWAY_V4,
  POD_GATEWAY_V6,
  type LabPlan,
  type NodePlan,
  type PodPlan,
} from './plan.js';

/**
 * The plan as kernel steps, pure: which namespace to create, which sysctls to set
 * and which `ip -batch` lines to run in which namespace, in order. lab.ts runs them
 * (one process per step), so the whole wiring can be read and unit-tested as data.
 * Every link is created inside a lab namespace with its peer sent straight into
 * another lab namespace; no step ever names the root namespace.
 */
export type Step =
  | { kind: 'netns'; ns: string }
  | { kind: 'sysctl'; ns: string; settings: string[] }
  | { kind: 'ip'; ns: string; lines: string[] };

/** Forwarding on, and no duplicate address detection (addresses are usable at once). */
const ROUTER_SYSCTLS = [
  'net.ipv4.ip_forward=1',
  'net.ipv6.conf.all.forwarding=1',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.all.accept_dad=0',
];

export function fabricSteps(plan: LabPlan): Step[] {
  const ns = plan.fabric.ns;
  const lines = ['link set lo up'];
  for (const s of plan.fabric.subnets) {
    lines.push(
      `link add ${s.bridge} type bridge`,
      `addr add ${s.gateway}/${prefixLen(s.v4)} dev ${s.bridge}`,
      `addr add ${s.gateway6}/${prefixLen(s.v6)} dev ${s.bridge} nodad`,
      `link set ${s.bridge} up`,
    );
  }
  return [{ kind: 'netns', ns }, { kind: 'sysctl', ns, settings: ROUTER_SYSCTLS }, { kind: 'ip', ns, lines }];
}

/** A node namespace, its uplink veth (peer enslaved to the subnet's bridge), addresses and default routes. */
export function nodeSteps(plan: LabPlan, node: NodePlan): Step[] {
  const s = node.subnet;
  return [
    { kind: 'netns', ns: node.ns },
    { kind: 'sysctl', ns: node.ns, settings: ROUTER_SYSCTLS },
    {
      kind: 'ip',
      ns: node.ns,
      lines: [
        'link set lo up',
        `link add ${node.uplink} type veth peer name ${node.fabricPort} netns ${plan.fabric.ns}`,
        `addr add ${node.address}/${prefixLen(s.v4)} dev ${node.uplink}`,
        `addr add ${node.address6}/${prefixLen(s.v6)} dev ${node.uplink} nodad`,
        `link set ${node.uplink} up`,
        `route add default via ${s.gateway} dev ${node.uplink}`,
        `route add default via ${s.gateway6} dev ${node.uplink}`,
      ],
    },
    { kind: 'ip', ns: plan.fabric.ns, lines: [`link set ${node.fabricPort} master ${s.bridge}`, `link set ${node.fabricPort} up`] },
  ];
}

export interface PodAddresses {
  ipv4: string;
  ipv6?: string;
}

/**
 * A pod wired to its node the way Calico does it (no bridge), with the CNI plugin's
 * conventions: pod-side eth0 with a /32 (and /128), default routes via 169.254.1.1
 * onlink (and fe80::1); node-side a host veth with a fixed MAC, proxy ARP (and a
 * proxy NDP entry for fe80::1), and a host route to each pod address.
 */
export function podSteps(node: NodePlan, pod: PodPlan, addrs: PodAddresses): Step[] {
  const nodeLines = [
    `link add ${pod.hostVeth} address ${HOST_VETH_MAC} type veth peer name eth0 netns ${pod.ns}`,
    `link set ${pod.hostVeth} up`,
    `route add ${addrs.ipv4}/32 dev ${pod.hostVeth} scope link`,
  ];
  const podLines = [
    'link set lo up',
    `addr add ${addrs.ipv4}/32 dev eth0`,
    'link set eth0 up',
    `route add default via ${POD_GATEWAY_V4} dev eth0 onlink`,
  ];
  const nodeSysctls = [`net.ipv4.conf.${pod.hostVeth}.proxy_arp=1`, `net.ipv4.neigh.${pod.hostVeth}.proxy_delay=0`];
  if (addrs.ipv6 !== undefined) {
    nodeLines.push(`route add ${addrs.ipv6}/128 dev ${pod.hostVeth}`, `neigh add proxy ${POD_GATEWAY_V6} dev ${pod.hostVeth}`);
    nodeSysctls.push(`net.ipv6.conf.${pod.hostVeth}.proxy_ndp=1`);
    podLines.splice(2, 0, `addr add ${addrs.ipv6}/128 dev eth0 nodad`);
    podLines.push(`route add default via ${POD_GATEWAY_V6} dev eth0`);
  }
  return [
    { kind: 'netns', ns: pod.ns },
    { kind: 'sysctl', ns: pod.ns, settings: ['net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0'] },
    { kind: 'ip', ns: node.ns, lines: nodeLines },
    { kind: 'ip', ns: pod.ns, lines: podLines },
    { kind: 'sysctl', ns: node.ns, settings: nodeSysctls },
  ];
}

function prefixLen(cidr: string): string {
  const slash = cidr.indexOf('/');
  if (slash < 0) throw new Error(`not a CIDR: ${cidr}`);
  return cidr.slice(slash + 1);
}

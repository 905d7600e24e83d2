/**
 * The pods' link MTU when the network config gives none (the chart's pluginConfig is
 * {}): the smallest of the uplink's MTU and those of the tunnels the pools use, with
 * the planner's overheads (route-plan.ts), as Calico's detected veth_mtu. A pod at
 * the uplink's 1500 behind a VXLAN device of 1450 would have its full-size packets
 * to other nodes dropped (or fragmented) at the tunnel.
 */
import { IPIP_OVERHEAD, isV6Pool, VXLAN6_OVERHEAD, VXLAN_OVERHEAD } from '../dataplane/plan/route-plan.js';
import type { PoolSpec } from '../dataplane/plan/types.js';


/** Disabled pools count: their pods still run (and are still tunnelled). */
export function defaultPodMtu(uplinkMtu: number, pools: readonly PoolSpec[]): number {
  let mtu = uplinkMtu;
  for (const p of pools) {
    if (p.vxlanMode !== 'Never') mtu = Math.min(mtu, uplinkMtu - (isV6Pool(p) ? VXLAN6_OVERHEAD : VXLAN_OVERHEAD));
    else if (p.ipipMode !== 'Never' && !isV6Pool(p)) mtu = Math.min(mtu, uplinkMtu - IPIP_OVERHEAD);
  }
  return mtu;
}

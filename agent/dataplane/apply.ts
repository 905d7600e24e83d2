/**
 * One dataplane pass for a node: plan (pure) → tunnel devices → routes → natOutgoing.
 * Devices go first so that routes through them resolve. Each step converges on
 * its own; an unavailable tunnel kind (no ipip module) or a refused FDB/neighbour
 * entry is reported and the rest still applies. natOutgoing includes the
 * masquerade of the node's own traffic into each tunnel device with an address
 * (nat-plan.ts: natTunnelDevices). Call it on every input change and periodically to repair drift.
 */
import type { Rtnl } from './kernel/rtnl.js';
import { applyNatOutgoing, type Exec } from './nat-outgoing.js';
import { OverlayUnavailableError, type OverlayReport, reconcileIpip, reconcileVxlan } from './overlay.js';
import { natTunnelDevices, planNatOutgoing } from './plan/nat-plan.js';
import { planDataplane } from './plan/route-plan.js';
import type { DataplaneInput, DataplanePlan } from './plan/types.js';
import { reconcileRoutes, type RouteReport } from './routes.js';

export interface DataplaneReport {
  plan: DataplanePlan;
  vxlan?: OverlayReport;
  /** the IPv6-underlay VXLAN device (IPv6-only nodes): present when planned or changed */
  vxlan6?: OverlayReport;
  ipip?: OverlayReport;
  routes: RouteReport;
  natChanged: boolean;
  /** Problems of the plan plus whatever could not be applied. */
  problems: string[];
}

/** The netlink part of a pass (plan → tunnel devices → routes): no process is run. */
export function applyKernelState(nl: Rtnl, input: DataplaneInput): Omit<DataplaneReport, 'natChanged'> {
  const plan = planDataplane(input);
  const problems = [...plan.problems];
  const vxlan = reconcileVxlan(nl, plan.vxlan, { device: input.config.vxlanDevice, uplink: input.config.uplink });
  const vxlan6 = reconcileVxlan(nl, plan.vxlan6, { device: input.config.vxlanDevice6, uplink: input.config.uplink });
  problems.push(...vxlan.problems, ...vxlan6.problems);
  let ipip: OverlayReport | undefined;
  try {
    ipip = reconcileIpip(nl, plan.ipip, { device: input.config.ipipDevice });
  } catch (err) {
    if (!(err instanceof OverlayUnavailableError)) throw err;
    problems.push(err.message);
  }
  const routes = reconcileRoutes(nl, plan.routes);
  for (const f of routes.failed) problems.push(`route ${f.route.dst}: ${f.op} failed: ${f.error}`);
  for (const u of routes.unresolved) problems.push(`route ${u.dst}: device ${u.missing} does not exist`);
  for (const c of routes.conflicts) problems.push(`route ${c.want.dst}: held by a kernel route (proto ${c.have.protocol})`);
  return { plan, vxlan, routes, problems, ...(plan.vxlan6 || vxlan6.changes.length > 0 ? { vxlan6 } : {}), ...(ipip ? { ipip } : {}) };
}

export async function applyDataplane(nl: Rtnl, exec: Exec, input: DataplaneInput): Promise<DataplaneReport> {
  const kernel = applyKernelState(nl, input);
  let natChanged = false;
  for (const family of [4, 6] as const) {
    const nat = planNatOutgoing(input.pools, family, natTunnelDevices(kernel.plan, family));
    natChanged = (await applyNatOutgoing(exec, nat)).changed || natChanged;
  }
  return { ...kernel, natChanged };
}

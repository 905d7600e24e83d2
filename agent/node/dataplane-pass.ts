/**
 * The agent's dataplane pass: agent/dataplane's `applyDataplane` steps (plan →
 * tunnel devices → routes → natOutgoing) with one difference that matters for
 * latency: natOutgoing is checked with iptables processes (two per family, ~10 ms
 * each here), so this pass re-checks it only when the wanted NAT rules changed or
 * the drift-repair interval has passed. Routes and devices converge on every pass
 * over netlink (no process).
 */
import type { DataplaneReport } from '../dataplane/apply.js';
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import { applyNatOutgoing, type Exec } from '../dataplane/nat-outgoing.js';
import { OverlayUnavailableError, reconcileIpip, reconcileVxlan, type OverlayReport } from '../dataplane/overlay.js';
import { planNatOutgoing } from '../dataplane/plan/nat-plan.js';
import { planDataplane } from '../dataplane/plan/route-plan.js';
import type { DataplaneInput } from '../dataplane/plan/types.js';
import { reconcileRoutes } from '../dataplane/routes.js';

export class DataplanePass {
  private natApplied = '';
  private natCheckedAt = -Infinity;

  constructor(private readonly nl: Rtnl, private readonly exec: Exec, private readonly natRecheckMs: number) {}

  /** `nl`: the kernel view for this pass (a memo of the constructor's, see rtnl-memo.ts) */
  async run(input: DataplaneInput, now: number, nl: Rtnl = this.nl): Promise<DataplaneReport> {
    const plan = planDataplane(input);
    const problems = [...plan.problems];
    const vxlan = reconcileVxlan(nl, plan.vxlan, { device: input.config.vxlanDevice, uplink: input.config.uplink });
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
    let natChanged = false;
    const nat = ([4, 6] as const).map((f) => planNatOutgoing(input.pools, f));
    const natKey = JSON.stringify(nat);
    if (natKey !== this.natApplied || now - this.natCheckedAt >= this.natRecheckMs) {
      this.natApplied = '';
      for (const n of nat) natChanged = (await applyNatOutgoing(this.exec, n)).changed || natChanged;
      this.natApplied = natKey;
      this.natCheckedAt = now;
    }
    const report: DataplaneReport = { plan, vxlan, routes, natChanged, problems };
    if (ipip) report.ipip = ipip;
    return report;
  }
}

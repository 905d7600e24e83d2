/**
 * The agent's dataplane pass: agent/dataplane's `applyDataplane` steps (plan →
 * tunnel devices → routes → natOutgoing) with one difference that matters for
 * latency: natOutgoing is checked with iptables processes (two per family, ~10 ms
 * each here), so this pass re-checks it only when the wanted NAT rules changed or
 * the drift-repair interval has passed. Routes and devices converge on every pass
 * over netlink (no process).
 */
import { applyKernelState, type DataplaneReport } from '../dataplane/apply.js';
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import { applyNatOutgoing, type Exec } from '../dataplane/nat-outgoing.js';
import { natTunnelDevices, planNatOutgoing } from '../dataplane/plan/nat-plan.js';
import type { DataplaneInput } from '../dataplane/plan/types.js';

export class DataplanePass {
  private natApplied = '';
  private natCheckedAt = -Infinity;

  constructor(private readonly nl: Rtnl, private readonly exec: Exec, private readonly natRecheckMs: number) {}

  /** `nl`: the kernel view for this pass (a memo of the constructor's, see rtnl-memo.ts) */
  async run(input: DataplaneInput, now: number, nl: Rtnl = this.nl): Promise<DataplaneReport> {
    const kernel = applyKernelState(nl, input);
    let natChanged = false;
    // the pools' natOutgoing, and the node's own traffic leaving a tunnel from another local address (kube-proxy's DNAT) masqueraded to the tunnel's
    const nat = ([4, 6] as const).map((f) => planNatOutgoing(input.pools, f, natTunnelDevices(kernel.plan, f)));
    const natKey = JSON.stringify(nat);
    if (natKey !== this.natApplied || now - this.natCheckedAt >= this.natRecheckMs) {
      this.natApplied = '';
      for (const n of nat) natChanged = (await applyNatOutgoing(this.exec, n)).changed || natChanged;
      this.natApplied = natKey;
      this.natCheckedAt = now;
    }
    return { ...kernel, natChanged };
  }
}

/**
 * The agent's CNI default MTU (CniServerOptions.defaultMtu): agent/cni/pod-mtu.ts over
 * the uplink's MTU (read from the kernel, as the routes pass does) and the datastore's
 * pools. Worked out once per snapshot — an ADD does not dump the node's links — so a
 * pool change takes effect for the pods added after it, as in Calico. No snapshot yet,
 * or no uplink found: undefined (the kernel's MTU), said once in the log.
 */
import type { Logger } from 'pino';
import { defaultPodMtu } from '../cni/pod-mtu.js';
import type { Snapshot } from '../datastore/snapshot.js';
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import { readNodes } from '../node-config/node-config.js';
import { dataplanePoolsOf } from './desired.js';
import type { AgentOptions } from './options.js';
import { dataplaneConfigOf } from './uplink.js';

export function podMtuProvider(
  o: Pick<AgentOptions, 'node' | 'uplink' | 'bgpDefaults'>, snapshot: () => Snapshot | undefined, rtnl: () => Rtnl | undefined, log: Logger,
): () => number | undefined {
  let memo: { snap: Snapshot; mtu: number | undefined } | undefined;
  return () => {
    const snap = snapshot();
    const nl = rtnl();
    if (!snap || !nl) return undefined;
    if (memo?.snap === snap) return memo.mtu;
    let mtu: number | undefined;
    try {
      mtu = defaultPodMtu(dataplaneConfigOf(o.node, o.uplink, readNodes(snap, o.bgpDefaults), nl).uplinkMtu, dataplanePoolsOf(snap));
      if (memo?.mtu !== mtu) log.info({ mtu }, 'cni: pods without a configured MTU get this one (uplink and tunnels)');
    } catch (e) {
      if (memo === undefined || memo.mtu !== undefined) log.warn({ err: e instanceof Error ? e.message : String(e) }, 'cni: no default pod MTU (the kernel\'s applies)');
    }
    memo = { snap, mtu };
    return mtu;
  };
}

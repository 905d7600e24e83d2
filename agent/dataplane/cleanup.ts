/**
 * Uninstall cleanup: removes margay's kernel state from the node it runs on (its
 * network namespace), through the same pieces the agent programs it with, each
 * given an EMPTY desired state:
 * - the CNI conflist (so kubelet stops calling margay-cni, which fails without an agent);
 * - policy: PolicyApplier.removeAll (margay's hook rules, MARGAY-* filter chains, margay* ipsets);
 * - natOutgoing: applyNatOutgoing with no rules, per family (the POSTROUTING jump and MARGAY-NAT-OUTGOING);
 * - routes: reconcileRoutes with no desired route, for protocol 80 (margay's) in the
 *   main table; protocol 81 (the CNI plugin's pod routes) only with `pods`, as they
 *   serve running pods;
 * - the VXLAN devices (vxlan.margay, vxlan-v6.margay; only when of kind vxlan);
 * - tunl0's addresses: margay owns what is on tunl0 (overlay.ts), but never the device
 *   itself — it is the ipip module's fallback device.
 * Only margay's objects are read and removed (its names, its route protocols, its
 * comments); nothing else is touched. Running it again finds nothing and removes
 * nothing. `dryRun` reads the same and removes nothing. One step's failure is
 * reported in `errors` and the other steps still run.
 */
import type { Rtnl } from './kernel/rtnl.js';
import { applyNatOutgoing, type Exec as NatExec } from './nat-outgoing.js';
import { RT_SCOPE_UNIVERSE, RT_TABLE_MAIN } from './netlink/constants.js';
import type { RouteMsg } from './netlink/route.js';
import { jumpRule, NAT_OUTGOING_CHAIN } from './plan/nat-plan.js';
import { MARGAY_POD_ROUTE_PROTOCOL, MARGAY_ROUTE_PROTOCOL } from './plan/resolve.js';
import { DEFAULT_CONFIG } from './plan/types.js';
import { reconcileRoutes } from './routes.js';
import { PolicyApplier } from '../../policy/apply/applier.js';
import type { Exec as PolicyExec } from '../../policy/apply/exec.js';

export type CleanupKind = 'cni-conf' | 'iptables' | 'ipset' | 'nat' | 'route' | 'device' | 'address';

export interface CleanupItem {
  kind: CleanupKind;
  what: string;
}

export interface CleanupOptions {
  dryRun: boolean;
  /** Also the pod routes (protocol 81): pods still running lose their host route. */
  pods: boolean;
  /** The conflist files to remove (absolute paths); none: leave CNI config alone. */
  cniFiles: readonly string[];
}

export interface CleanupFs {
  exists(path: string): boolean;
  remove(path: string): void;
}

export interface CleanupDeps {
  nl: Rtnl;
  /** Runs iptables-save/-restore and ipset (the policy applier's). */
  exec: PolicyExec;
  /** Runs iptables for the nat table (nat-outgoing.ts's). */
  natExec: NatExec;
  fs: CleanupFs;
}

export interface CleanupReport {
  /** What was removed (with dryRun: what would be). */
  removed: CleanupItem[];
  errors: string[];
}

const VXLAN_DEVICES = [DEFAULT_CONFIG.vxlanDevice, DEFAULT_CONFIG.vxlanDevice6];
const IPIP_DEVICE = DEFAULT_CONFIG.ipipDevice;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function routeText(r: RouteMsg): string {
  const hop = r.nexthops[0];
  const via = r.type !== 'unicast' ? r.type : hop?.gateway !== undefined ? `via ${hop.gateway}` : 'dev route';
  return `${r.dst} ${via} proto ${r.protocol}`;
}

export async function cleanupNode(deps: CleanupDeps, opts: CleanupOptions): Promise<CleanupReport> {
  const report: CleanupReport = { removed: [], errors: [] };
  const step = async (name: string, fn: () => Promise<void> | void): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      report.errors.push(`${name}: ${message(err)}`);
    }
  };
  await step('cni config', () => cleanCniFiles(deps.fs, opts, report));
  await step('policy', () => cleanPolicy(deps.exec, opts, report));
  for (const family of [4, 6] as const) await step(`natOutgoing IPv${family}`, () => cleanNat(deps.natExec, family, opts, report));
  await step('routes', () => cleanRoutes(deps.nl, opts, report));
  await step('devices', () => cleanDevices(deps.nl, opts, report));
  return report;
}

function cleanCniFiles(fs: CleanupFs, opts: CleanupOptions, report: CleanupReport): void {
  for (const path of opts.cniFiles) {
    if (!fs.exists(path)) continue;
    if (!opts.dryRun) fs.remove(path);
    report.removed.push({ kind: 'cni-conf', what: path });
  }
}

async function cleanPolicy(exec: PolicyExec, opts: CleanupOptions, report: CleanupReport): Promise<void> {
  const applier = new PolicyApplier(exec);
  const { actual } = await applier.readActual();
  const found: CleanupItem[] = [];
  for (const f of ['v4', 'v6'] as const) {
    const tool = f === 'v4' ? 'iptables' : 'ip6tables';
    for (const [key, positions] of actual[f].hooks) {
      const [chain, target] = key.split(' ');
      for (let i = 0; i < positions.length; i++) found.push({ kind: 'iptables', what: `${tool} filter: ${chain} jump to ${target}` });
    }
    for (const name of actual[f].chains.keys()) found.push({ kind: 'iptables', what: `${tool} filter: chain ${name}` });
  }
  for (const name of actual.sets.keys()) found.push({ kind: 'ipset', what: name });
  if (found.length === 0) return;
  if (!opts.dryRun) await applier.removeAll();
  report.removed.push(...found);
}

async function cleanNat(exec: NatExec, family: 4 | 6, opts: CleanupOptions, report: CleanupReport): Promise<void> {
  const ipt = family === 4 ? 'iptables' : 'ip6tables';
  const hasJump = (await exec([ipt, '-w', '-t', 'nat', '-C', 'POSTROUTING', ...jumpRule()])).code === 0;
  const hasChain = (await exec([ipt, '-w', '-t', 'nat', '-S', NAT_OUTGOING_CHAIN])).code === 0;
  if (!hasJump && !hasChain) return;
  if (!opts.dryRun) await applyNatOutgoing(exec, { family, rules: [] });
  if (hasJump) report.removed.push({ kind: 'nat', what: `${ipt} nat: POSTROUTING jump to ${NAT_OUTGOING_CHAIN}` });
  if (hasChain) report.removed.push({ kind: 'nat', what: `${ipt} nat: chain ${NAT_OUTGOING_CHAIN}` });
}

function cleanRoutes(nl: Rtnl, opts: CleanupOptions, report: CleanupReport): void {
  const protocols = opts.pods ? [MARGAY_ROUTE_PROTOCOL, MARGAY_POD_ROUTE_PROTOCOL] : [MARGAY_ROUTE_PROTOCOL];
  const failures: string[] = [];
  for (const protocol of protocols) {
    const mine = [...nl.routes(4), ...nl.routes(6)].filter((r) => r.table === RT_TABLE_MAIN && r.protocol === protocol);
    if (mine.length === 0) continue;
    if (opts.dryRun) {
      for (const r of mine) report.removed.push({ kind: 'route', what: routeText(r) });
      continue;
    }
    // the route writer with nothing desired deletes every route of this protocol (and only those)
    const result = reconcileRoutes(nl, [], { protocol, table: RT_TABLE_MAIN });
    const failed = new Set(result.failed.map((f) => `${f.route.dst} ${f.route.protocol}`));
    for (const r of mine) if (!failed.has(`${r.dst} ${r.protocol}`)) report.removed.push({ kind: 'route', what: routeText(r) });
    for (const f of result.failed) failures.push(`${routeText(f.route)}: ${f.error}`);
  }
  if (failures.length > 0) throw new Error(`not deleted: ${failures.join('; ')}`);
}

function cleanDevices(nl: Rtnl, opts: CleanupOptions, report: CleanupReport): void {
  for (const name of VXLAN_DEVICES) {
    const dev = nl.linkByName(name);
    // a device of that name that is not a VXLAN device is not margay's
    if (dev?.info?.kind !== 'vxlan') continue;
    if (!opts.dryRun) nl.deleteLink(dev.index);
    report.removed.push({ kind: 'device', what: name });
  }
  const tunl = nl.linkByName(IPIP_DEVICE);
  if (tunl?.info?.kind !== 'ipip') return;
  for (const a of nl.addrs(4)) {
    if (a.ifindex !== tunl.index || a.scope !== RT_SCOPE_UNIVERSE) continue;
    if (!opts.dryRun) nl.deleteAddr({ ifindex: tunl.index, address: a.address });
    report.removed.push({ kind: 'address', what: `${a.address} on ${IPIP_DEVICE}` });
  }
}

/** The report as lines for a person: one per object, then a count. */
export function renderCleanupReport(report: CleanupReport, dryRun: boolean): string {
  const verb = dryRun ? 'would remove' : 'removed';
  const lines = report.removed.map((i) => `${verb} ${i.kind}: ${i.what}`);
  lines.push(report.removed.length === 0 ? `nothing of margay's found${dryRun ? '' : ', nothing removed'}` : `${verb} ${report.removed.length} object(s)`);
  for (const e of report.errors) lines.push(`error: ${e}`);
  return `${lines.join('\n')}\n`;
}

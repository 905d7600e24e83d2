/**
 * `margay cleanup`: removes margay's kernel state from this node after
 * `helm uninstall` (agent/dataplane/cleanup.ts does the work). Runs as root in the
 * node's network namespace; removes only margay's objects; a second run removes nothing.
 */
import type { Command } from '../command.js';
import { parseFlags } from '../args.js';
import { UsageError } from '../usage-error.js';
import type { BackendCleanup } from '../../node/iptables-backend-shell.js';

const USAGE = `usage: margay cleanup [--dry-run] [--pods] [--cni-conf DIR] [--cni-conflist NAME] [--no-cni-conf]
                      [--iptables-backend auto|nft|legacy]

Removes margay's state from this node's kernel after 'helm uninstall' (run it as
root in the node's network namespace, on each node, once the agent is gone):
  - the CNI conflist (kubelet stops calling margay-cni)
  - the policy hook rules (margay:hook in INPUT/FORWARD/OUTPUT), MARGAY-* filter
    chains and margay* ipsets
  - the natOutgoing chain MARGAY-NAT-OUTGOING and its POSTROUTING jump (nat table)
  - margay's routes (protocol 80) in the main table; with --pods also the pod
    routes (protocol 81), which running pods still use
  - the VXLAN devices vxlan.margay and vxlan-v6.margay, and the address margay put
    on tunl0 (the device itself belongs to the ipip module and stays)
  - margay's hooks and chains in the iptables backend not chosen (as the agent
    removes them at start)
Nothing else is touched: foreign rules, routes and devices stay. Prints what it
removed; exit 1 when something could not be removed (the rest still is).

flags (environment variable in brackets):
  --dry-run                print what would be removed, remove nothing
  --pods                   also the pod routes (protocol 81)
  --cni-conf DIR           the CNI config directory (default /etc/cni/net.d)
  --cni-conflist NAME      the conflist's file name (default 10-margay.conflist, as the chart's cni.conflistName)
  --no-cni-conf            leave the CNI config alone
  --iptables-backend B     auto|nft|legacy (default auto) [MARGAY_IPTABLES_BACKEND]: as 'margay agent'`;

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  pods: { type: 'boolean' },
  'cni-conf': { type: 'string' },
  'cni-conflist': { type: 'string' },
  'no-cni-conf': { type: 'boolean' },
  'iptables-backend': { type: 'string' },
} as const;

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: "remove margay's routes, tunnels, iptables rules, ipsets and CNI config from this node (uninstall)",
  usage: USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, OPTIONS, USAGE);
    const conflist = values['cni-conflist'] ?? '10-margay.conflist';
    if (conflist === '' || conflist.includes('/')) throw new UsageError(`--cni-conflist must be a file name, got "${conflist}"`, USAGE);
    if (values['cni-conf'] === '') throw new UsageError('--cni-conf must be a directory', USAGE);
    if (values['no-cni-conf'] && values['cni-conf'] !== undefined) throw new UsageError('--cni-conf and --no-cni-conf exclude each other', USAGE);
    const { parseIptablesBackend } = await import('../../node/iptables-backend.js');
    const backendText = values['iptables-backend'] ?? process.env.MARGAY_IPTABLES_BACKEND;
    const backend = parseIptablesBackend(backendText);
    if (backend === undefined) throw new UsageError(`--iptables-backend must be auto, nft or legacy, got "${backendText ?? ''}"`, USAGE);
    const dryRun = values['dry-run'] === true;

    const { join } = await import('node:path');
    const { existsSync, rmSync } = await import('node:fs');
    const { selectIptablesBackend } = await import('../../node/iptables-backend-shell.js');
    let linkDir: string | undefined;
    const otherBackend: string[] = [];
    try {
      // as the agent: the chosen backend's tools first in PATH, for every tool run by name;
      // the selection also clears margay's rules from the backend not chosen (reported in
      // `cleaned`): a dry run hands it a restore that writes nothing
      const sel = await selectIptablesBackend({ setting: backend, ...(dryRun ? { runRestore: () => Promise.resolve() } : {}) });
      if (sel.backend !== undefined) {
        linkDir = sel.dir;
        process.env.PATH = `${sel.dir}:${process.env.PATH ?? ''}`;
        otherBackend.push(...otherBackendLines(sel.cleaned, dryRun));
      }
    } catch (err) {
      process.stderr.write(`margay cleanup: iptables backend: ${(err as Error).message}\n`);
      return 1;
    }
    try {
      const { openRtnl } = await import('../../dataplane/kernel/rtnl.js');
      const { hostExec } = await import('../../../policy/apply/exec.js');
      const { execIn } = await import('../../dataplane/nat-outgoing.js');
      const { cleanupNode, renderCleanupReport } = await import('../../dataplane/cleanup.js');
      let nl;
      try {
        nl = openRtnl();
      } catch (err) {
        process.stderr.write(`margay cleanup: netlink: ${(err as Error).message}\n`);
        return 1;
      }
      try {
        const dir = values['cni-conf'] ?? '/etc/cni/net.d';
        const cniFiles = values['no-cni-conf'] ? [] : [join(dir, conflist), join(dir, `.${conflist}.new`)];
        const report = await cleanupNode(
          { nl, exec: hostExec({ timeoutMs: 30_000 }), natExec: execIn(), fs: { exists: existsSync, remove: (p) => rmSync(p, { force: true }) } },
          { dryRun, pods: values.pods === true, cniFiles },
        );
        process.stdout.write(otherBackend.map((l) => `${l}\n`).join('') + renderCleanupReport(report, dryRun));
        return report.errors.length > 0 || otherBackend.some((l) => l.startsWith('error:')) ? 1 : 0;
      } finally {
        nl.close();
      }
    } finally {
      if (linkDir !== undefined) rmSync(linkDir, { recursive: true, force: true });
    }
  },
};

/** margay's rules the selection found in the backend not chosen, as report lines. */
export function otherBackendLines(cleaned: readonly BackendCleanup[], dryRun: boolean): string[] {
  return cleaned.map((c) => {
    const what = `${c.tool} (${c.backend}, the backend not chosen): ${c.rules} rule(s), chains ${c.chains.join(' ') || '-'}`;
    return c.error !== undefined ? `error: ${what}: ${c.error}` : `${dryRun ? 'would remove' : 'removed'} iptables: ${what}`;
  });
}

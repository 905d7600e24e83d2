import { groupCommand, type Command } from '../command.js';
import { choiceFlag, intFlag, parseFlags } from '../args.js';
import { UsageError } from '../usage-error.js';
import { createLab } from '../../lab/lab.js';
import { runDemo } from '../../lab/demo.js';
import { FABRIC_KINDS, MAX_NODES, podAddress } from '../../lab/plan.js';
import { newRunPrefix } from '../../lab/netns.js';
import { labHostProblems } from '../../lab/preflight.js';
import { lineWriter } from '../../lab/pipe-safe.js';
import { createInterruptController, onLabSignal, type LabInterrupt } from '../../lab/interrupt.js';
import { labStateRoot } from '../../lab/state.js';
import { labDown, labDownAll, type TeardownReport } from '../../lab/teardown.js';
import { renderLabSummary } from '../../lab/summary.js';
import { labProbeCommand } from '../../lab/probe/command.js';
import { renderTopologyHints, upLabTopology, type LabTopology } from '../../lab/topology/lab-up.js';
import { TOR_KINDS } from '../../lab/topology/manifests.js';

// Progress for a person at a terminal goes to stderr; the summary to stdout.
// A closed pipe (`lab up 2>&1 | head -3`) must not stop a build or a teardown half-way.
const progress = lineWriter(process.stderr, 'lab: ');
const out = lineWriter(process.stdout);
const problem = lineWriter(process.stderr, 'margay lab: ');

const MAX_PODS = 16;

const UP_USAGE = `usage: margay lab up [--nodes N] [--fabric l2|routed] [--pods K]
                    [--route-reflector NODE | --tor bird]

Builds a lab: a fabric namespace and N node namespaces (default 3, at most ${MAX_NODES}),
and leaves it running. Prints how to enter each namespace. Needs root.

  --nodes N        number of nodes (1..${MAX_NODES}, default 3)
  --fabric KIND    l2: one bridge, one subnet (default);
                   routed: a router between two subnets, nodes alternating
  --pods K         K pods on each node (0..${MAX_PODS}, default 0), wired like Calico
  --route-reflector NODE
                   run a margay agent on every node, node-to-node mesh off, NODE a
                   route reflector and every other node its client (docs/topologies.md)
  --tor bird       run a margay agent on every node, mesh off, each peering over eBGP
                   with BIRD (AS 65000) in the fabric namespace as top-of-rack router`;

const DOWN_USAGE = `usage: margay lab down [--prefix P | --all]

Tears a lab down: stops its processes by PID, deletes its namespaces.
  (no flag)     the latest lab started by 'margay lab up' or 'lab demo --keep'
  --prefix P    the lab P (e.g. mg3fa9), also after a crash
  --all         every recorded lab and every leftover mg* namespace
                (also those of tests still running: not while tests run)`;

const DEMO_USAGE = `usage: margay lab demo [--keep]

Builds 3 nodes on an L2 fabric, starts a real margay agent in each (file
datastore, BGP full mesh), creates pods through margay-cni, shows the peers table,
the routes and the pod-to-pod connectivity matrix before and after the example
NetworkPolicies (examples/policies 01 + 02), then tears the lab down. Needs root.
  --keep        leave the lab and its agents up afterwards ('margay lab down' removes it)`;

async function preflight(tools?: string[]): Promise<boolean> {
  const problems = await labHostProblems(tools);
  for (const p of problems) problem(p);
  return problems.length === 0;
}

/**
 * Runs `work` on a lab with a fresh prefix; until it returns, Ctrl-C (or SIGTERM)
 * tears down what exists of that lab instead of leaving namespaces behind. The
 * work gets the interrupt: once the signal came it starts no namespace or process,
 * and a process it was starting meanwhile is stopped (agent/lab/interrupt.ts).
 */
async function withInterruptCleanup<T>(work: (prefix: string, interrupt: LabInterrupt) => Promise<T>): Promise<T> {
  const prefix = newRunPrefix();
  const ctl = createInterruptController();
  const onSignal = (sig: NodeJS.Signals) => {
    progress(`${sig}: tearing down lab ${prefix.slice(0, -1)}`);
    // the recorded lab first, then any namespace of this prefix it did not record
    // (the demo's pods, created through margay-cni), until nothing is left
    void onLabSignal(sig, ctl, async () => (await labDown(labStateRoot(), prefix, progress)) !== undefined, { onError: (err) => progress(err.message) })
      .then((code) => process.exit(code));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const settled = await work(prefix, ctl.interrupt).then((v) => ({ v }), (err: unknown) => ({ err }));
    // interrupted: the signal handler tears down and exits; do not race it to an exit of our own
    if (ctl.interrupt.signal.aborted) await new Promise<never>(() => undefined);
    if ('err' in settled) throw settled.err;
    return settled.v;
  } finally {
    if (!ctl.interrupt.signal.aborted) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

const up: Command = {
  name: 'up',
  summary: 'build a lab and leave it running',
  usage: UP_USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, {
      nodes: { type: 'string' }, fabric: { type: 'string' }, pods: { type: 'string' }, 'route-reflector': { type: 'string' }, tor: { type: 'string' },
    }, UP_USAGE);
    const nodes = withUsage(() => intFlag(values.nodes, 'nodes', 3, 1, MAX_NODES));
    const fabric = withUsage(() => choiceFlag(values.fabric, 'fabric', FABRIC_KINDS, 'l2'));
    const pods = withUsage(() => intFlag(values.pods, 'pods', 0, 0, MAX_PODS));
    const rr = values['route-reflector'];
    const tor = values.tor === undefined ? undefined : withUsage(() => choiceFlag(values.tor, 'tor', TOR_KINDS, 'bird'));
    if (rr !== undefined && tor !== undefined) throw new UsageError('--route-reflector and --tor exclude each other', UP_USAGE);
    const rrIndex = rr === undefined ? undefined : /^n([1-9]\d*)$/.exec(rr)?.[1];
    if (rr !== undefined && rrIndex === undefined) throw new UsageError(`--route-reflector must name a node (n1..n${nodes}), got "${rr}"`, UP_USAGE);
    if (rr !== undefined && Number(rrIndex) > nodes) throw new UsageError(`--route-reflector ${rr}: the lab has nodes n1..n${nodes}`, UP_USAGE);
    const topology = rr !== undefined || tor !== undefined;
    if (topology && pods > 0) throw new UsageError('--pods wires static pods the agents do not know: with --route-reflector or --tor, create pods through margay-cni', UP_USAGE);
    if (!(await preflight(tor ? ['ip', 'sysctl', 'bird', 'birdc'] : undefined))) return 1;
    let topo: LabTopology | undefined;
    const lab = await withInterruptCleanup(async (prefix, interrupt) => {
      const built = await createLab({ nodes, fabric, prefix, origin: 'cli', onProgress: progress, interrupt });
      try {
        if (topology) topo = await upLabTopology(built, { ...(rr !== undefined ? { routeReflector: rr } : {}), ...(tor ? { tor } : {}) }, progress);
        for (const n of built.nodes) {
          for (let k = 1; k <= pods; k++) await built.addPod(n.name, `pod${k}`, podAddress(n.index, k));
        }
      } catch (err) {
        await built.destroy().catch(() => undefined);
        throw err;
      }
      return built;
    });
    out(renderLabSummary(lab).trimEnd());
    if (topo) out(`\n${renderTopologyHints(lab, topo).trimEnd()}`);
    return 0;
  },
};

const down: Command = {
  name: 'down',
  summary: 'tear a lab down (the latest, --prefix P, or --all)',
  usage: DOWN_USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, { all: { type: 'boolean' }, prefix: { type: 'string' } }, DOWN_USAGE);
    if (values.all && values.prefix !== undefined) throw new UsageError('--all and --prefix exclude each other', DOWN_USAGE);
    if (values.prefix !== undefined && !/^mg[a-z0-9]{1,8}-?$/.test(values.prefix)) {
      throw new UsageError(`--prefix must name a lab such as mg3fa9, got "${values.prefix}"`, DOWN_USAGE);
    }
    if (!(await preflight(['ip']))) return 1;
    const root = labStateRoot();
    if (values.all) {
      const reports = await labDownAll(root, progress);
      out(reports.length === 0 ? 'no labs to tear down' : reports.map(describe).join('\n'));
      return 0;
    }
    const report = await labDown(root, values.prefix, progress);
    if (!report) {
      out(values.prefix ? `no lab ${values.prefix.replace(/-$/, '')} here` : "no lab started by 'margay lab up' here (see --prefix, --all)");
      return values.prefix ? 1 : 0;
    }
    out(describe(report));
    return 0;
  },
};

const demo: Command = {
  name: 'demo',
  summary: 'build a 3-node lab, show it working, tear it down',
  usage: DEMO_USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, { keep: { type: 'boolean' } }, DEMO_USAGE);
    if (!(await preflight(['ip', 'sysctl', 'ping', 'iptables-restore', 'ipset']))) return 1;
    return withInterruptCleanup((prefix, interrupt) => runDemo({ prefix, keep: values.keep ?? false, out, progress, interrupt }));
  },
};

function describe(r: TeardownReport): string {
  const stopped = r.stopped.filter((s) => s.how !== 'gone').length;
  return `lab ${r.prefix.replace(/-$/, '')}: deleted ${r.deleted.length} namespaces, stopped ${stopped} processes`;
}

/** intFlag/choiceFlag throw UsageError without usage text: attach this command's. */
function withUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof UsageError && !err.usage) throw new UsageError(err.message, UP_USAGE);
    throw err;
  }
}

export const labCommand = groupCommand('lab', 'a cluster of network namespaces on this machine', [up, down, demo, labProbeCommand]);

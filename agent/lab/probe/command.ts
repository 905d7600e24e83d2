import type { Command } from '../../cli/command.js';
import { intFlag, parseFlags } from '../../cli/args.js';
import { UsageError } from '../../cli/usage-error.js';
import { loadManifests } from '../../cli/policy-compile.js';
import { buildModel, podId, type Model } from './model.js';
import { formatMatrix } from './matrix.js';
import { ProbeLab, type ProbeProtocol } from './session.js';
import { lineWriter } from '../pipe-safe.js';

// A closed pipe (`lab probe … 2>&1 | head`) must not stop the probe before its lab is torn down.
const out = lineWriter(process.stdout);
const say = lineWriter(process.stderr, 'probe: ');
const problem = lineWriter(process.stderr);

const USAGE = `usage: margay lab probe --policies DIR [--nodes N] [--protocols tcp,udp,sctp] [--json] [--print-model] [--direct]

Builds the conformance model in a lab — namespaces x, y, z; pods a, b, c in each;
every pod serving TCP and UDP on ports 80 and 81 — applies every NetworkPolicy in
DIR (Namespace objects and Pod stubs there relabel the model), probes every
(from, to, port, protocol) with real connections and prints truth tables
('.' connected, 'X' blocked). Tears the lab down afterwards. Needs root.

By default the real agents enforce the policies: \`margay agent\` runs in every
node on a shared file datastore, the pods are created through margay-cni (with
their labels and named container ports), and the Namespaces, Pods and
NetworkPolicies are written into the datastore; the probe starts once every
agent reports them enforced. Pod addresses then come from the agents' IPAM.

  --policies DIR     NetworkPolicy manifests (multi-document YAML allowed); a FILE works too
  --nodes N          nodes to spread the pods over (1..9, default 2)
  --protocols LIST   comma-separated tcp, udp, sctp (default tcp,udp); SCTP is
                     compiled and enforced but cannot be probed on this kernel
  --json             {"model": {...}, "results": [{from, to, port, protocol, allowed}]}
  --print-model      print the model (pods, labels, nodes, IPs) only; builds nothing.
                     The IPs are the deterministic plan addresses --direct uses;
                     with agents --json reports the addresses the agents assigned
  --direct           no agents: wire the pods with the lab harness and apply the
                     compiled rules on each node directly (faster)`;

function parseProtocols(v: string | undefined): ProbeProtocol[] {
  if (v === undefined) return ['TCP', 'UDP'];
  const list = v.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  for (const p of list) if (p !== 'TCP' && p !== 'UDP' && p !== 'SCTP') throw new UsageError(`--protocols: unknown protocol "${p.toLowerCase()}" (tcp, udp, sctp)`, USAGE);
  if (list.length === 0) throw new UsageError('--protocols needs at least one protocol', USAGE);
  return [...new Set(list)] as ProbeProtocol[];
}

const modelJson = (model: Model): object => ({
  nodes: model.nodes,
  namespaces: model.namespaces,
  pods: model.pods.map((p) => ({ namespace: p.namespace, name: p.name, labels: p.labels, node: p.node, ips: [p.ips.ipv4, p.ips.ipv6] })),
});

export const labProbeCommand: Command = {
  name: 'probe',
  summary: 'probe NetworkPolicy enforcement with real connections',
  usage: USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, {
      policies: { type: 'string' }, nodes: { type: 'string' }, protocols: { type: 'string' },
      json: { type: 'boolean' }, 'print-model': { type: 'boolean' }, direct: { type: 'boolean' },
    }, USAGE);
    if (values.policies === undefined) throw new UsageError('--policies is required', USAGE);
    const nodes = intFlag(values.nodes, 'nodes', 2, 1, 9);
    const protocols = parseProtocols(values.protocols);
    const objects = await loadManifests(values.policies);
    const model = buildModel(nodes, objects.filter((o) => o.kind === 'Namespace' || o.kind === 'Pod'));
    if (values['print-model']) {
      out(JSON.stringify(modelJson(model), null, 2));
      return 0;
    }
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      problem('margay lab probe: needs root (network namespaces, iptables)');
      return 1;
    }
    const lab = await ProbeLab.create({ nodes, mode: values.direct ? 'direct' : 'agents', onProgress: say });
    // Ctrl-C while probing: tear the lab down instead of leaving namespaces behind.
    const onSignal = (sig: NodeJS.Signals) => {
      say(`${sig}: tearing the lab down`);
      lab.close().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let exitCode = 0;
    try {
      const { rejected } = await lab.apply(objects);
      for (const r of rejected) for (const e of r.errors) problem(`margay: rejected NetworkPolicy ${r.name}: ${e.path}: ${e.message}`);
      if (rejected.length > 0) exitCode = 1;
      const results = await lab.probe(protocols);
      const plain = results.map((r) => ({ from: r.from, to: r.to, port: r.port, protocol: r.protocol, allowed: r.allowed, ...(r.skipped ? { skipped: r.skipped } : {}) }));
      if (values.json) out(JSON.stringify({ model: modelJson(lab.model), results: plain }));
      else out(formatMatrix(results, lab.model.pods.map(podId)).replace(/\n$/, ''));
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await lab.close();
    }
    return exitCode;
  },
};

/**
 * `margay lab up --route-reflector NODE` / `--tor bird` (shell): a lab whose nodes run
 * real agents in a chosen BGP topology. The file datastore lives in the lab's own
 * directory (`<state root>/<id>/datastore`, removed by `margay lab down`): the Node
 * objects with the topology's labels and annotations, the lab IPPool, the
 * BGPConfiguration (mesh off) and the BGPPeers. With `--tor bird` BIRD runs in the
 * fabric namespace. Agents and BIRD are started detached and recorded by PID in the
 * lab's state, so they outlive `lab up` and `lab down` stops them.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../lab.js';
import { POD_POOL_V4 } from '../plan.js';
import { labTopologyNodes } from './lab-nodes.js';
import { labNodeObject, planTopology, renderManifest, type DsObject, type TopologyOptions, type TopologyPlan } from './manifests.js';
import { startTorBird } from './bird.js';

const MARGAY_JS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'margay.js');

export interface LabTopologyRequest {
  routeReflector?: string;
  tor?: 'bird';
}

export interface LabTopology {
  plan: TopologyPlan;
  datastoreDir: string;
  statusSocket(node: string): string;
  cniSocket(node: string): string;
}

/** The request as topology options; throws a plain Error naming the problem. */
export function topologyOptionsOf(req: LabTopologyRequest): TopologyOptions {
  if (req.routeReflector !== undefined && req.tor !== undefined) throw new Error('--route-reflector and --tor exclude each other (the ToR topology has no mesh to reflect)');
  if (req.routeReflector !== undefined) return { kind: 'route-reflector', reflector: req.routeReflector };
  if (req.tor !== undefined) return { kind: 'tor' };
  return { kind: 'mesh' };
}

export function labPool(blockSize = 26): DsObject {
  return {
    apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool' },
    spec: { cidr: POD_POOL_V4, blockSize, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false },
  };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

/** Writes the datastore, starts the ToR (if any) and one agent per node. */
export async function upLabTopology(lab: Lab, req: LabTopologyRequest, say: (line: string) => void = () => undefined): Promise<LabTopology> {
  const nodes = labTopologyNodes(lab);
  const plan = planTopology(nodes, topologyOptionsOf(req));
  const datastoreDir = join(lab.logDir, 'datastore');
  const run = join(lab.logDir, 'run');
  await mkdir(datastoreDir, { recursive: true });
  await writeAtomic(join(datastoreDir, 'nodes.yaml'), renderManifest(nodes.map((n) => labNodeObject(n, plan))));
  await writeAtomic(join(datastoreDir, 'ippool.yaml'), renderManifest([labPool()]));
  await writeAtomic(join(datastoreDir, 'topology.yaml'), renderManifest(plan.objects));
  say(`datastore ${datastoreDir}: ${plan.kind} topology, node-to-node mesh ${plan.meshEnabled ? 'on' : 'off'}`);
  if (plan.tor) {
    const tor = await startTorBird(lab, plan, { detached: true });
    say(`top-of-rack BIRD in ${lab.fabric.ns} (AS ${plan.tor.asn}), pid ${tor.process.pid}: birdc -s ${tor.socket} show protocols`);
  }
  const statusSocket = (node: string): string => join(run, node, 'agent.sock');
  const cniSocket = (node: string): string => join(run, node, 'cni.sock');
  for (const n of lab.nodes) {
    await mkdir(join(run, n.name), { recursive: true });
    const argv = [process.execPath, MARGAY_JS, 'agent', '--node', n.name, '--datastore', 'file', '--datastore-dir', datastoreDir,
      '--cni-socket', cniSocket(n.name), '--status-socket', statusSocket(n.name)];
    const p = await lab.startProcess(n.ns, argv, { name: `agent-${n.name}`, detached: true });
    say(`agent on ${n.name} (AS ${plan.nodeAsn[n.name]}${plan.nodeAnnotations[n.name]?.['margay.io/route-reflector-cluster-id'] ? ', route reflector' : ''}), pid ${p.pid}`);
  }
  return { plan, datastoreDir, statusSocket, cniSocket };
}

/** Lines for the summary: how to look at the topology. */
export function renderTopologyHints(lab: Pick<Lab, 'nodes'>, t: LabTopology): string {
  const lines = [`topology: ${t.plan.kind}, node-to-node mesh ${t.plan.meshEnabled ? 'on' : 'off'}; datastore ${t.datastoreDir}`];
  for (const n of lab.nodes) lines.push(`  ${n.name}: ip netns exec ${n.ns} margay status --socket ${t.statusSocket(n.name)}`);
  return `${lines.join('\n')}\n`;
}

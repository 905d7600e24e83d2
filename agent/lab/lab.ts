import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecResult } from './exec.js';
import { addNetns, ipBatch, netnsExec, newRunPrefix, ping, setSysctls, type PingResult } from './netns.js';
import { planLab, planPod, type FabricKind, type LabPlan, type NodePlan, type SubnetPlan } from './plan.js';
import { processStartTime, startInNetns, stopRecorded, type StartOptions, type TrackedProcess } from './processes.js';
import { labLogDir, labStateRoot, writeLabState, type LabState } from './state.js';
import { teardownState, type Progress } from './teardown.js';
import { InterruptedError, type LabInterrupt } from './interrupt.js';
import { fabricSteps, nodeSteps, podSteps, type PodAddresses, type Step } from './wiring.js';

/**
 * The lab harness: a cluster of network namespaces on this machine, the test bed
 * of every end-to-end test and the `margay lab` commands. See docs/lab.md.
 *
 *   const lab = await createLab({ nodes: 3, fabric: 'l2' });
 *   try {
 *     const pod = await lab.addPod('n1', 'web', podAddress(1, 1));
 *     const agent = await lab.startProcess(lab.node('n1').ns, ['node', 'margay.js', 'agent', '--node', 'n1', '--datastore-dir', dir]);
 *     await lab.ping(pod.ns, lab.node('n2').address);
 *   } finally {
 *     await lab.destroy();
 *   }
 *
 * Layout and addresses: plan.ts. Kernel steps: wiring.ts. State file (so that
 * `margay lab down` can clean up a crashed run): state.ts. Processes: processes.ts.
 * Nothing is ever created in the root network namespace: every veth is created
 * inside a lab namespace with its peer sent into another lab namespace.
 * A Lab is used by one async flow at a time (calls that change it are serialised
 * by the caller awaiting them); destroy() is safe to call twice.
 */
export interface LabNode {
  name: string;
  index: number;
  ns: string;
  /** The node's IPv4 address on the fabric, e.g. 172.30.0.11. */
  address: string;
  address6: string;
  /** The node's fabric subnet, e.g. 172.30.0.0/24 (routed labs have two). */
  subnet: string;
  subnet6: string;
  gateway: string;
  uplink: string;
}

export interface LabPod {
  name: string;
  node: string;
  ns: string;
  hostVeth: string;
  ipv4: string;
  ipv6?: string;
}

export type LabProcess = TrackedProcess;

export interface Lab {
  readonly prefix: string;
  readonly fabric: { kind: FabricKind; ns: string; subnets: SubnetPlan[] };
  readonly nodes: readonly LabNode[];
  readonly pods: readonly LabPod[];
  /** Where process logs go (removed by destroy()). */
  readonly logDir: string;
  node(name: string): LabNode;
  /** A pod namespace wired to its node by a veth (Calico-style, see wiring.ts). */
  addPod(nodeName: string, podName: string, addrs: PodAddresses): Promise<LabPod>;
  /** Runs argv inside `ns`, tracked by PID, output to `<logDir>/<name>.log`. */
  startProcess(ns: string, argv: string[], opts?: StartOptions & { name?: string }): Promise<LabProcess>;
  /** SIGTERM, then SIGKILL after graceMs; forgets the process. */
  stopProcess(proc: LabProcess, graceMs?: number): Promise<void>;
  /** Runs a command inside `ns` and resolves with its output (rejects with ExecError). */
  exec(ns: string, argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  ping(fromNs: string, address: string, opts?: { count?: number; timeoutS?: number }): Promise<PingResult>;
  /** Records a directory the lab's users made (the agents' datastore): teardown, also `margay lab down`, removes it. */
  recordPath(path: string): Promise<void>;
  /** Stops every process by PID, deletes every namespace, removes the state file and logs. */
  destroy(opts?: { keepLogs?: boolean }): Promise<void>;
}

export interface CreateLabOptions {
  nodes: number;
  fabric?: FabricKind;
  /** Defaults to a fresh newRunPrefix(). */
  prefix?: string;
  /** 'cli' marks a lab a person started (plain `margay lab down` picks it). */
  origin?: 'cli' | 'api';
  /** Defaults to labStateRoot(). */
  stateRoot?: string;
  onProgress?: Progress;
  /** A signal handler's interrupt: once it fired, no namespace or process is created. */
  interrupt?: LabInterrupt;
}

export async function createLab(opts: CreateLabOptions): Promise<Lab> {
  const plan = planLab(opts.prefix ?? newRunPrefix(), opts.fabric ?? 'l2', opts.nodes);
  const root = opts.stateRoot ?? labStateRoot();
  const say = opts.onProgress ?? (() => undefined);
  const state: LabState = {
    version: 1,
    prefix: plan.prefix,
    fabric: plan.fabric.kind,
    origin: opts.origin ?? 'api',
    createdAt: new Date().toISOString(),
    owner: { pid: process.pid, startTime: processStartTime(process.pid) ?? '' },
    namespaces: [],
    processes: [],
    nodes: [],
    pods: [],
  };
  const logDir = labLogDir(root, plan.prefix);
  await mkdir(logDir, { recursive: true });
  const save = () => writeLabState(root, state);
  let destroyed = false;
  const steps = async (list: Step[]) => {
    if (destroyed) throw new Error(`lab ${plan.prefix} has been destroyed`);
    for (const step of list) {
      if (opts.interrupt?.signal.aborted) throw new InterruptedError(`lab ${plan.prefix}: interrupted`);
      if (step.kind === 'netns') {
        state.namespaces.push(step.ns);
        await save();
        await addNetns(step.ns);
      } else if (step.kind === 'sysctl') {
        await setSysctls(step.ns, step.settings);
      } else {
        await ipBatch(step.ns, step.lines);
      }
    }
  };
  const children = new Map<number, ChildProcess>();
  const nodes = plan.nodes.map(toLabNode);
  const pods: LabPod[] = [];

  const lab: Lab = {
    prefix: plan.prefix,
    fabric: plan.fabric,
    nodes,
    pods,
    logDir,
    node(name) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`lab ${plan.prefix}: no node "${name}" (nodes: ${nodes.map((x) => x.name).join(', ')})`);
      return n;
    },
    async addPod(nodeName, podName, addrs) {
      const nodePlan = findNodePlan(plan, nodeName);
      const pp = planPod(plan.prefix, nodeName, podName);
      if (pods.some((p) => p.ns === pp.ns)) throw new Error(`lab ${plan.prefix}: pod ${nodeName}/${podName} exists`);
      say(`pod ${podName} on ${nodeName}: ${addrs.ipv4}${addrs.ipv6 ? ` ${addrs.ipv6}` : ''}`);
      await steps(podSteps(nodePlan, pp, addrs));
      const pod: LabPod = { name: podName, node: nodeName, ns: pp.ns, hostVeth: pp.hostVeth, ipv4: addrs.ipv4 };
      if (addrs.ipv6 !== undefined) pod.ipv6 = addrs.ipv6;
      pods.push(pod);
      state.pods.push({ name: pod.name, node: pod.node, ns: pod.ns, ipv4: pod.ipv4, ...(pod.ipv6 ? { ipv6: pod.ipv6 } : {}) });
      await save();
      return pod;
    },
    async startProcess(ns, argv, o = {}) {
      if (destroyed || !state.namespaces.includes(ns)) throw new Error(`lab ${plan.prefix}: ${ns} is not one of its namespaces (any more)`);
      const base = o.name ?? `${ns.slice(plan.prefix.length)}-${(argv[0] ?? 'proc').split('/').pop()}`;
      let name = base;
      for (let i = 2; state.processes.some((p) => p.name === name); i++) name = `${base}-${i}`;
      const start = () => startInNetns(ns, name, argv, join(logDir, `${name}.log`), o);
      // an interrupt that comes while the process starts stops it: the signal handler's teardown may not see it
      const proc = opts.interrupt ? await opts.interrupt.guard(`${name} in ${ns}`, start, (p) => stopRecorded(p).then(() => undefined)) : await start();
      children.set(proc.pid, proc.child);
      state.processes.push({ name, ns, argv, pid: proc.pid, startTime: proc.startTime, logFile: proc.logFile });
      await save();
      return proc;
    },
    async stopProcess(proc, graceMs) {
      await stopRecorded(proc, graceMs);
      children.delete(proc.pid);
      state.processes = state.processes.filter((p) => p.pid !== proc.pid);
      await save();
    },
    async recordPath(path) {
      state.paths = [...(state.paths ?? []).filter((p) => p !== path), path];
      await save();
    },
    exec: netnsExec,
    ping,
    async destroy(o = {}) {
      if (destroyed) return;
      destroyed = true;
      await teardownState(root, state, { children, onProgress: say, keepLogs: o.keepLogs ?? false });
    },
  };

  try {
    say(`lab ${plan.prefix.slice(0, -1)}: ${plan.nodes.length} nodes on ${plan.fabric.kind === 'l2' ? 'an L2' : 'a routed'} fabric`);
    await steps(fabricSteps(plan));
    say(`fabric ${plan.fabric.ns}: ${plan.fabric.subnets.map((s) => `${s.bridge} ${s.v4}`).join(', ')}`);
    for (const node of plan.nodes) {
      await steps(nodeSteps(plan, node));
      state.nodes.push({ name: node.name, ns: node.ns, address: node.address, address6: node.address6, subnet: node.subnet.v4 });
      await save();
      say(`node ${node.name} (${node.ns}): ${node.address} ${node.address6}`);
    }
  } catch (err) {
    await lab.destroy().catch(() => undefined);
    throw err;
  }
  return lab;
}

function findNodePlan(plan: LabPlan, name: string): NodePlan {
  const n = plan.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`lab ${plan.prefix}: no node "${name}"`);
  return n;
}

function toLabNode(n: NodePlan): LabNode {
  return {
    name: n.name,
    index: n.index,
    ns: n.ns,
    address: n.address,
    address6: n.address6,
    subnet: n.subnet.v4,
    subnet6: n.subnet.v6,
    gateway: n.subnet.gateway,
    uplink: n.uplink,
  };
}

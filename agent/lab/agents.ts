/**
 * Real agents in a lab: one `margay agent` process inside each node namespace, all
 * sharing one file datastore directory (manifests + IPAM records) under a
 * temporary directory, and pods created through the real margay-cni plugin (run in
 * the node namespace, as a container runtime would). Used by the agent's
 * end-to-end tests and by `margay lab demo`.
 *
 * Pod namespaces are `<prefix><node>-<pod>` like the lab's own pods; this module
 * creates them and deletes them in destroy() (before the lab's teardown).
 * Nothing is created in the root namespace.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { queryControl } from '../../bgp/session/control.js';
import { cniPlugin } from '../cni/plugin-path.js';
import type { AgentStatus } from '../status/types.js';
import type { Lab, LabProcess } from './lab.js';
import { addNetns, deleteNetns } from './netns.js';
import { POD_POOL_V4, POD_POOL_V6 } from './plan.js';
import { AGENT_V8_FLAGS, v8FlagsFrom } from '../cli/v8-flags.js';

// built files: beside this one when it runs from dist/, else the repository's dist/ (tests run the sources)
const here = dirname(fileURLToPath(import.meta.url));
const distAgent = here.split(/[\\/]/).includes('dist') ? join(here, '..') : join(here, '..', '..', 'dist', 'agent');
export const MARGAY_JS = join(distAgent, 'cli', 'margay.js');
export const REPO_ROOT = join(distAgent, '..', '..');
export const MARGAY_CNI_JS = join(distAgent, 'cni', 'margay-cni.js');

export interface CniPod {
  name: string;
  namespace: string;
  node: string;
  netns: string;
  containerId: string;
  ipv4: string;
  ipv6?: string;
}

export interface AgentCluster {
  readonly lab: Lab;
  /** the shared file datastore directory */
  readonly dir: string;
  readonly pods: CniPod[];
  /** writes (or replaces) a manifest file in the datastore directory */
  writeManifest(file: string, docs: object[]): Promise<void>;
  removeManifest(file: string): Promise<void>;
  startAgent(node: string, extraArgs?: string[]): Promise<LabProcess>;
  stopAgent(node: string): Promise<void>;
  agentProcess(node: string): LabProcess | undefined;
  /** creates the pod's namespace and runs margay-cni ADD for it in the node namespace */
  addPod(node: string, name: string, opts?: { namespace?: string; labels?: Record<string, string>; ports?: { name?: string; containerPort: number; protocol?: string }[] }): Promise<CniPod>;
  /** runs margay-cni DEL for the pod, then deletes its namespace and its Pod manifest */
  delPod(pod: CniPod): Promise<void>;
  status(node: string, timeoutMs?: number): Promise<AgentStatus>;
  statusSocket(node: string): string;
  cniSocket(node: string): string;
  /** the pod namespaces this cluster created */
  readonly podNamespaces: readonly string[];
  destroy(): Promise<void>;
}

export interface AgentClusterOptions {
  /** extra manifests written before the agents start */
  manifests?: Record<string, object[]>;
  /** IPPool spec override (default: the lab pool, /26 blocks, no encapsulation) */
  pool?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** dual stack: an IPv6 pool too (the lab's fd44::/48, /122 blocks) and nodes' IPv6 BGP addresses */
  ipv6?: boolean;
  /** agents in their own process group, not waited for (they outlive a `--keep` demo) */
  detached?: boolean;
  /** extra labels / annotations per node (route reflectors, AS per rack) */
  nodeMeta?: (node: string) => { labels?: Record<string, string>; annotations?: Record<string, string> };
}

export async function createAgentCluster(lab: Lab, opts: AgentClusterOptions = {}): Promise<AgentCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'margay-agents-'));
  // in the lab's state, so that an interrupted run's teardown (or `margay lab down`) removes it too
  await lab.recordPath(dir);
  const run = join(dir, '.run');
  await mkdir(run, { recursive: true });
  const agents = new Map<string, LabProcess>();
  const podNs: string[] = [];
  const pods: CniPod[] = [];
  const writeManifest = async (file: string, docs: object[]): Promise<void> => {
    const tmp = join(dir, `.${file}.tmp`);
    await writeFile(tmp, docs.map((d) => stringify(d)).join('---\n'));
    const { rename } = await import('node:fs/promises');
    await rename(tmp, join(dir, file));
  };
  await writeManifest('nodes.yaml', lab.nodes.map((n) => ({
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: n.name,
      labels: { 'kubernetes.io/hostname': n.name, ...(opts.nodeMeta?.(n.name).labels ?? {}) },
      annotations: {
        'margay.io/bgp-ipv4-address': `${n.address}/${n.subnet.split('/')[1]}`,
        ...(opts.ipv6 ? { 'margay.io/bgp-ipv6-address': `${n.address6}/${n.subnet6.split('/')[1]}` } : {}),
        ...(opts.nodeMeta?.(n.name).annotations ?? {}),
      },
    },
  })));
  await writeManifest('ippool.yaml', [{
    apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool' },
    spec: { cidr: POD_POOL_V4, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, ...(opts.pool ?? {}) },
  }, ...(opts.ipv6 ? [{ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool-v6' }, spec: { cidr: POD_POOL_V6, blockSize: 122 } }] : [])]);
  for (const [file, docs] of Object.entries(opts.manifests ?? {})) await writeManifest(file, docs);
  const statusSocket = (node: string): string => join(run, node, 'agent.sock');
  const cniSocket = (node: string): string => join(run, node, 'cni.sock');

  /** margay-cni (the Go binary when built, else the Node one) run in the node namespace as a container runtime would */
  const plugin = cniPlugin();
  const cni = (command: 'ADD' | 'DEL', nodeNs: string, node: string, p: { containerId: string; netns: string; namespace: string; name: string }) => {
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'margay-cni', socket: cniSocket(node) });
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_CONTAINERID: p.containerId, CNI_NETNS: `/var/run/netns/${p.netns}`,
      CNI_IFNAME: 'eth0', CNI_PATH: dirname(plugin.path), CNI_ARGS: `K8S_POD_NAMESPACE=${p.namespace};K8S_POD_NAME=${p.name}`,
    };
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('ip', ['netns', 'exec', nodeNs, ...plugin.argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
      child.stdin.end(conf);
    });
  };

  const cluster: AgentCluster = {
    lab, dir, pods, writeManifest,
    async removeManifest(file) {
      await rm(join(dir, file), { force: true });
    },
    async startAgent(node, extraArgs = []) {
      const n = lab.node(node);
      const env: NodeJS.ProcessEnv = { ...process.env, MARGAY_LOG_LEVEL: 'info', ...(opts.env ?? {}) };
      // the agent's V8 flags (its defaults, or the environment's list) on Node's command line spare its restart to add them
      const v8 = v8FlagsFrom('MARGAY_AGENT_V8_FLAGS', env.MARGAY_AGENT_V8_FLAGS, AGENT_V8_FLAGS);
      const nodeFlags = 'flags' in v8 ? v8.flags : [];
      const argv = [process.execPath, ...nodeFlags, MARGAY_JS, 'agent', '--node', node, '--datastore', 'file', '--datastore-dir', dir,
        '--cni-socket', cniSocket(node), '--status-socket', statusSocket(node), '--bgp-sync-timeout', '5000', ...extraArgs];
      const proc = await lab.startProcess(n.ns, argv, {
        name: `agent-${node}`, env, ...(opts.detached ? { detached: true } : {}),
      });
      agents.set(node, proc);
      return proc;
    },
    async stopAgent(node) {
      const p = agents.get(node);
      if (!p) return;
      agents.delete(node);
      await lab.stopProcess(p, 5000);
    },
    agentProcess: (node) => agents.get(node),
    async addPod(node, name, o = {}) {
      const n = lab.node(node);
      const namespace = o.namespace ?? 'default';
      const netns = `${lab.prefix}${node}-${namespace === 'default' ? '' : `${namespace}-`}${name}`;
      await addNetns(netns);
      podNs.push(netns);
      const containerId = `${node}${namespace}${name}`.replace(/[^a-z0-9]/g, '').padEnd(12, '0');
      const out = await cni('ADD', n.ns, node, { containerId, netns, namespace, name });
      if (out.code !== 0) throw new Error(`margay-cni ADD for ${namespace}/${name} on ${node} failed (exit ${out.code}): ${out.stdout}${out.stderr}`);
      const result = JSON.parse(out.stdout) as { ips?: { address: string }[] };
      const v4 = result.ips?.map((i) => i.address.split('/')[0] as string).find((a) => !a.includes(':'));
      if (!v4) throw new Error(`margay-cni ADD for ${name}: no IPv4 address in ${out.stdout}`);
      const v6 = result.ips?.map((i) => i.address.split('/')[0] as string).find((a) => a.includes(':'));
      const pod: CniPod = { name, namespace, node, netns, containerId, ipv4: v4, ...(v6 ? { ipv6: v6 } : {}) };
      pods.push(pod);
      await writeManifest(`pod-${namespace}-${name}.yaml`, [{
        apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: o.labels ?? { app: name } },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'none', ...(o.ports ? { ports: o.ports } : {}) }] },
      }]);
      return pod;
    },
    async delPod(pod) {
      const out = await cni('DEL', lab.node(pod.node).ns, pod.node, pod);
      if (out.code !== 0) throw new Error(`margay-cni DEL for ${pod.namespace}/${pod.name} failed (exit ${out.code}): ${out.stdout}${out.stderr}`);
      await deleteNetns(pod.netns).catch(() => undefined);
      const i = podNs.indexOf(pod.netns);
      if (i >= 0) podNs.splice(i, 1);
      pods.splice(pods.indexOf(pod), 1);
      await rm(join(dir, `pod-${pod.namespace}-${pod.name}.yaml`), { force: true });
    },
    async status(node, timeoutMs = 3000) {
      const a = await queryControl(statusSocket(node), { cmd: 'status' }, timeoutMs);
      if (typeof a === 'object' && a !== null && 'error' in a) throw new Error(String((a as { error: unknown }).error));
      return a as AgentStatus;
    },
    statusSocket,
    cniSocket,
    podNamespaces: podNs,
    async destroy() {
      for (const node of [...agents.keys()]) await cluster.stopAgent(node).catch(() => undefined);
      for (const ns of podNs) await deleteNetns(ns).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

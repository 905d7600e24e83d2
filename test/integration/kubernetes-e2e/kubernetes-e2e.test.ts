/**
 * The kubernetes datastore end to end: the fake API server runs as its own process
 * inside the lab's fabric namespace (apiserver-main.ts), listening on the fabric
 * address 172.30.0.1; every agent runs with `--datastore kubernetes --kube-server
 * http://172.30.0.1:PORT` (IPAM as IPAMBlock/IPAMHandle objects). Objects created,
 * changed and deleted through the API show up in the kernel's routes and in the
 * iptables rules of the nodes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab, type LabProcess } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { netnsExec } from '../../../agent/lab/netns.js';
import type { AgentStatus } from '../../../agent/status/types.js';
import { MARGAY_CNI_JS, MARGAY_JS, REPO_ROOT } from '../../support/cli.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { apiCall } from './api-client.js';

const SERVER_JS = join(REPO_ROOT, 'dist', 'test', 'integration', 'kubernetes-e2e', 'apiserver-main.js');
const built = existsSync(MARGAY_JS) && existsSync(MARGAY_CNI_JS) && existsSync(SERVER_JS);
if (!built) process.stderr.write('test/integration/kubernetes-e2e: skipped, dist/ missing (run npx tsc -p tsconfig.json)\n');

const PORT = 6443;
const URL_ = `http://172.30.0.1:${PORT}`;
const NODES = ['n1', 'n2'];

describe.skipIf(needsRoot || !built)(`kubernetes datastore end to end, fake API server in the fabric namespace (${ROOT_SKIP_REASON})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  let server: LabProcess | undefined;
  let control = '';
  const pods: Record<string, CniPod> = {};
  const api = <T = unknown>(req: Record<string, unknown>): Promise<T> => apiCall<T>(control, req);
  const l = (): Lab => lab as Lab;
  const c = (): AgentCluster => cluster as AgentCluster;
  const status = (n: string): Promise<AgentStatus | undefined> => c().status(n, 2000).catch(() => undefined);
  const routes = async (n: string): Promise<string> => (await netnsExec(l().node(n).ns, ['ip', '-4', 'route', 'show', 'proto', '80'])).stdout;
  const rules = async (n: string): Promise<string> => (await netnsExec(l().node(n).ns, ['iptables-save', '-t', 'filter'])).stdout;
  const reach = async (from: CniPod, to: CniPod): Promise<boolean> => (await l().ping(from.netns, to.ipv4, { count: 1, timeoutS: 1 })).ok;
  const nodeObject = (n: string, extra: Record<string, string> = {}) => ({
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: n, labels: { 'kubernetes.io/hostname': n }, annotations: { 'margay.io/bgp-ipv4-address': `${l().node(n).address}/24`, ...extra } },
  });
  const blockOf = async (n: string): Promise<string> => {
    const s = await waitFor(async () => { const x = await status(n); return x && x.blocks.length > 0 ? x : undefined; }, 10_000, `${n} block`, 100);
    return s.blocks[0]!.cidr;
  };

  beforeAll(async () => {
    lab = await createLab({ nodes: NODES.length, fabric: 'l2' });
    control = join(lab.logDir, 'api.sock');
    server = await lab.startProcess(lab.fabric.ns, [process.execPath, SERVER_JS, '--listen', `172.30.0.1:${PORT}`, '--control', control], { name: 'fake-apiserver' });
    await waitFor(() => existsSync(control), 20_000, 'fake API server control socket', 50);
    await api({ op: 'create', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } });
    for (const n of NODES) await api({ op: 'create', object: nodeObject(n) });
    await api({ op: 'create', object: { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false } } });
    await api({ op: 'create', object: { apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 64512, nodeToNodeMeshEnabled: true } } });
    cluster = await createAgentCluster(lab);
    for (const n of NODES) await cluster.startAgent(n, ['--datastore', 'kubernetes', '--kube-server', URL_, '--health-port', '0']);
    for (const n of NODES) await waitFor(() => existsSync(cluster!.statusSocket(n)), 30_000, `agent ${n} status socket`, 50);
    pods.a = await cluster.addPod('n1', 'a');
    pods.b = await cluster.addPod('n2', 'b');
    for (const p of [pods.a, pods.b]) {
      await api({ op: 'create', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: 'default', labels: { app: p.name } }, spec: { nodeName: p.node, containers: [{ name: 'c', image: 'none' }] }, status: { phase: 'Running', podIP: p.ipv4, podIPs: [{ ip: p.ipv4 }] } } });
    }
  }, 150_000);

  afterAll(async () => {
    await cluster?.destroy().catch(() => undefined);
    if (lab && server) await lab.stopProcess(server).catch(() => undefined);
    await lab?.destroy({ keepLogs: process.env.MARGAY_KEEP_LOGS !== undefined });
  }, 60_000);

  it('agents read the cluster from the API: mesh up, IPAM blocks are IPAMBlock objects, routes in both kernels', async () => {
    for (const n of NODES) {
      await waitFor(async () => { const s = await status(n); return s && s.peers.length === 1 && s.peers[0]!.fsm === 'Established'; }, 30_000, `${n} Established`, 200);
    }
    const blocks = await api<{ metadata: { name: string }; spec: { cidr: string } }[]>({ op: 'list', kind: 'IPAMBlock' });
    const [b1, b2] = [await blockOf('n1'), await blockOf('n2')];
    expect(blocks.map((b) => b.spec.cidr).sort()).toEqual([b1, b2].sort());
    expect((await api<unknown[]>({ op: 'list', kind: 'IPAMHandle' })).length).toBe(2);
    await waitFor(async () => (await routes('n1')).includes(`${b2} via 172.30.0.12 dev eth0`), 10_000, 'n1 route to n2 block', 100);
    await waitFor(async () => (await routes('n2')).includes(`${b1} via 172.30.0.11 dev eth0`), 10_000, 'n2 route to n1 block', 100);
    expect(await waitFor(() => reach(pods.a!, pods.b!), 10_000, 'a → b', 100)).toBe(true);
  }, 60_000);

  it('a NetworkPolicy created, changed and deleted through the API changes n2\'s iptables rules and what reaches b', async () => {
    const policy = (from: string) => ({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'b-ingress', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: from } } }] }] },
    });
    await api({ op: 'create', object: policy('nobody') });
    await waitFor(async () => (await rules('n2')).includes('b-ingress'), 10_000, 'b-ingress rules on n2', 50);
    await waitFor(async () => !(await reach(pods.a!, pods.b!)), 10_000, 'a → b blocked', 100);
    expect(await reach(pods.b!, pods.a!)).toBe(true); // egress from b and ingress to a stay open

    await api({ op: 'update', object: policy('a') });
    expect(await waitFor(() => reach(pods.a!, pods.b!), 10_000, 'a → b allowed by the changed policy', 100)).toBe(true);

    await api({ op: 'delete', kind: 'NetworkPolicy', name: 'b-ingress', namespace: 'default' });
    await waitFor(async () => !(await rules('n2')).includes('b-ingress'), 10_000, 'b-ingress rules gone from n2', 50);
    expect(await reach(pods.a!, pods.b!)).toBe(true);
  }, 60_000);

  it('a Node deleted through the API: its peer and its block\'s route go away; created again: they come back', async () => {
    const b2 = await blockOf('n2');
    await api({ op: 'delete', kind: 'Node', name: 'n2' });
    await waitFor(async () => (await status('n1'))?.peers.length === 0, 15_000, 'n1 drops its n2 session', 100);
    await waitFor(async () => !(await routes('n1')).includes(b2), 15_000, `n1 withdraws ${b2}`, 100);
    await api({ op: 'create', object: nodeObject('n2') });
    await waitFor(async () => (await status('n1'))?.peers[0]?.fsm === 'Established', 30_000, 'n1 ↔ n2 again', 100);
    await waitFor(async () => (await routes('n1')).includes(`${b2} via 172.30.0.12 dev eth0`), 15_000, `n1 route to ${b2} again`, 100);
    expect(await waitFor(() => reach(pods.a!, pods.b!), 10_000, 'a → b again', 100)).toBe(true);
  }, 90_000);

  it('Nodes and the IPPool changed through the API (VXLAN tunnel addresses, vxlanMode Always) move the remote block into the tunnel', async () => {
    const b2 = await blockOf('n2');
    for (const n of NODES) await api({ op: 'update', object: nodeObject(n, { 'margay.io/vxlan-tunnel-address': `10.255.0.${l().node(n).index}` }) });
    await api({ op: 'update', object: { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: false } } });
    const vx = await waitFor(async () => { const r = await routes('n1'); return r.split('\n').find((x) => x.startsWith(b2) && !x.includes('dev eth0')); }, 15_000, `${b2} through the VXLAN device`, 100);
    expect(vx).toMatch(/via 10\.255\.0\.2 dev \S+ .*onlink/);
    expect(await waitFor(() => reach(pods.a!, pods.b!), 10_000, 'a → b through VXLAN', 100)).toBe(true);
    await api({ op: 'update', object: { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false } } });
    await waitFor(async () => (await routes('n1')).includes(`${b2} via 172.30.0.12 dev eth0`), 15_000, `${b2} direct again`, 100);
  }, 60_000);
});

/**
 * Real agents on the kubernetes datastore, against the fake API server (the real
 * list/watch protocol). The fake server listens on a unix socket in this process;
 * inside each node namespace `socat` bridges 127.0.0.1:6443 to it, so nothing
 * listens or connects in the root network namespace. IPAM records are IPAMBlock /
 * IPAMHandle objects in the API. Objects created, changed and deleted through the
 * API show up in the agents' sessions, routes and rules.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, MARGAY_JS as AGENT_JS, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { KINDS } from '../../../agent/datastore/resources.js';
import type { AgentStatus } from '../../../agent/status/types.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { waitMeshedAndReady } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });
const NODES = ['n1', 'n2'];
/** how the session waits poll the status socket */
const POLL = { intervalMs: 200, statusTimeoutMs: 2000 };

describe.skipIf(needs.skip)(`agents on the kubernetes datastore (fake API server) (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  let api: FakeApiServer | undefined;
  let server: Server | undefined;
  let dir: string | undefined;
  const pods: Record<string, CniPod> = {};
  const c = (): AgentCluster => cluster as AgentCluster;
  const a = (): FakeApiServer => api as FakeApiServer;

  const podObject = (p: CniPod, labels: Record<string, string>) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels }, spec: { nodeName: p.node, containers: [{ name: 'c', image: 'none' }] },
    // as the kubelet writes it after the CNI ADD
    status: { phase: 'Running', podIP: p.ipv4, podIPs: [{ ip: p.ipv4 }] },
  });
  const reach = async (from: CniPod, to: CniPod): Promise<boolean> => (await c().lab.ping(from.netns, to.ipv4, { count: 1, timeoutS: 1 })).ok;
  const status = (n: string): Promise<AgentStatus | undefined> => c().status(n, 2000).catch(() => undefined);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-k8s-agents-'));
    api = new FakeApiServer([
      ...KINDS.map((k) => ({ kind: k.kind, group: k.group, version: k.version, plural: k.plural, namespaced: k.namespaced })),
      { kind: 'IPAMBlock', group: 'margay.io', version: 'v1', plural: 'ipamblocks', namespaced: false },
      { kind: 'IPAMHandle', group: 'margay.io', version: 'v1', plural: 'ipamhandles', namespaced: false },
      { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true },
    ], { bookmarkIntervalMs: 1000 });
    const sock = join(dir, 'api.sock');
    const handle = (api as unknown as { handle(req: IncomingMessage, res: ServerResponse): void }).handle.bind(api);
    server = createServer(handle);
    await new Promise<void>((resolve) => server!.listen(sock, resolve));
    lab = await createLab({ nodes: 2, fabric: 'l2' });
    cluster = await createAgentCluster(lab);
    for (const n of lab.nodes) {
      // as a kubelet registers it: no margay annotation, an InternalIP without prefix length
      a().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name }, status: { addresses: [{ type: 'InternalIP', address: n.address }, { type: 'Hostname', address: n.name }] } });
    }
    a().create({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never' } });
    for (const n of lab.nodes) {
      await lab.startProcess(n.ns, ['socat', 'TCP-LISTEN:6443,bind=127.0.0.1,fork,reuseaddr', `UNIX-CONNECT:${sock}`], { name: `socat-${n.name}` });
      await lab.exec(n.ns, ['ip', 'link', 'set', 'lo', 'up']);
      await lab.startProcess(n.ns, [process.execPath, AGENT_JS, 'agent', '--node', n.name, '--datastore', 'kubernetes', '--kube-server', 'http://127.0.0.1:6443',
        '--cni-socket', cluster.cniSocket(n.name), '--status-socket', cluster.statusSocket(n.name), '--bgp-sync-timeout', '3000', '--ipam-gc-interval', '1000'], { name: `agent-${n.name}` });
    }
    for (const n of NODES) await waitFor(() => existsSync(cluster!.statusSocket(n)), 30_000, `agent ${n}`, 100);
    pods.a = await cluster.addPod('n1', 'a');
    pods.b = await cluster.addPod('n2', 'b');
    for (const p of Object.values(pods)) a().create(podObject(p, { app: p.name }));
  }, 120_000);

  afterAll(async () => {
    await cluster?.destroy();
    await lab?.destroy();
    api?.dropWatches();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the mesh comes up from Node objects in the API (InternalIP, subnet from the kernel); IPAM blocks are IPAMBlock objects; pods reach each other', async () => {
    await waitMeshedAndReady(c(), NODES, 1, { also: (s) => s.routes.length === 2, what: 'established with both blocks routed', ...POLL });
    expect(a().list('IPAMBlock').map((b) => (b.spec as { cidr: string }).cidr).sort()).toEqual(['10.244.0.0/26', '10.244.0.64/26']);
    // same subnet by the kernel's prefix: a direct route, no problem reported
    const s1 = (await status('n1'))!;
    expect(s1.routes.find((r) => r.reason === 'direct to n2')?.via).toBe(`via ${c().lab.node('n2').address} dev eth0`);
    expect(s1.problems).toEqual([]);
    expect(a().list('IPAMHandle')).toHaveLength(2);
    expect(await waitFor(() => reach(pods.a!, pods.b!), 10_000, 'a → b', 100)).toBe(true);
  }, 60_000);

  it('a NetworkPolicy created, changed and deleted through the API is enforced, changed and lifted', async () => {
    const np = (from: string) => ({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'b-in', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: from } } }] }] },
    });
    a().create(np('nobody'));
    await waitFor(async () => !(await reach(pods.a!, pods.b!)), 10_000, 'a → b blocked', 50);
    a().update(np('a'));
    await waitFor(() => reach(pods.a!, pods.b!), 10_000, 'a → b allowed again by the changed policy', 50);
    // a relabelled pod leaves the policy's peers
    a().update(podObject(pods.a!, { app: 'other' }));
    await waitFor(async () => !(await reach(pods.a!, pods.b!)), 10_000, 'a → b blocked after relabel', 50);
    a().delete('NetworkPolicy', 'b-in', 'default');
    await waitFor(() => reach(pods.a!, pods.b!), 10_000, 'a → b open after delete', 50);
  }, 60_000);

  it('a BGPConfiguration change through the API (AS number) restarts the sessions with the new AS', async () => {
    a().create({ apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 65123 } });
    await waitMeshedAndReady(c(), NODES, 1, { also: (s) => s.asn === 65123 && s.peers[0]!.asn === 65123, what: 're-established in AS 65123', ...POLL });
    expect(await waitFor(() => reach(pods.a!, pods.b!), 15_000, 'a → b after the AS change', 100)).toBe(true);
  }, 60_000);

  it('a BGPPeer whose TCP MD5 password is a secretKeyRef: a missing Secret is a reported problem, the Secret brings the session up with MD5', async () => {
    a().create({
      apiVersion: 'margay.io/v1', kind: 'BGPPeer', metadata: { name: 'md5-mesh' },
      spec: { nodeSelector: 'all()', peerSelector: 'all()', password: { secretKeyRef: { name: 'bgp-auth', key: 'password' } } },
    });
    const s1 = await waitFor(async () => {
      const s = await status('n1');
      return s?.problems.some((p) => p.includes('cannot read Secret bgp-auth')) ? s : undefined;
    }, 15_000, 'n1 reports the missing Secret', 200);
    expect(s1.peers).toEqual([]); // never opened without the key it was asked to have
    a().create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bgp-auth', namespace: 'kube-system' }, data: { password: Buffer.from('s3cret-md5').toString('base64') } });
    // Secrets are not watched: the agent retries a missing one every few seconds
    await waitMeshedAndReady(c(), NODES, 1, { also: (s) => s.peers[0]!.type === 'node-specific', what: 'established over the MD5 session', ...POLL });
    // the kernel holds the MD5 key for the peer (ss shows md5 on the BGP connection)
    const ss = await c().lab.exec(c().lab.node('n1').ns, ['ss', '-tni', 'state', 'established', '( sport = :179 or dport = :179 )']);
    expect(ss.stdout).toMatch(/md5/);
  }, 90_000);

  it('the password rotated in the Secret, nothing else changed: both agents pick it up (re-read every 30 s) and the MD5 session comes back with the new key', async () => {
    const rotated = Date.now();
    a().update({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bgp-auth', namespace: 'kube-system' }, data: { password: Buffer.from('rotated-md5').toString('base64') } });
    // before the fix the session stayed up on the old key forever: it must restart (since > rotated) and establish, which it
    // only does when both ends hold the new key (one agent on the old key drops the other's SYNs)
    await waitMeshedAndReady(c(), NODES, 1, {
      also: (s) => Date.parse(s.peers[0]!.since) > rotated, what: 're-established over the rotated MD5 key', timeoutMs: 80_000, ...POLL,
    });
    const ss = await c().lab.exec(c().lab.node('n1').ns, ['ss', '-tni', 'state', 'established', '( sport = :179 or dport = :179 )']);
    expect(ss.stdout).toMatch(/md5/);
  }, 120_000);

  it('IPAM garbage collection: the addresses of a pod deleted without a CNI DEL are released, nobody else\'s', async () => {
    const g = await c().addPod('n1', 'g');
    a().create(podObject(g, { app: 'g' }));
    const handles = (): string[] => a().list('IPAMHandle').map((h) => (h.spec as { handle: string }).handle);
    expect(handles().some((h) => h.includes(g.containerId))).toBe(true);
    await new Promise((r) => setTimeout(r, 2500)); // two GC passes with the Pod present: nothing released
    expect(handles().some((h) => h.includes(g.containerId))).toBe(true);
    a().delete('Pod', 'g', 'default');
    await waitFor(() => !handles().some((h) => h.includes(g.containerId)), 15_000, 'g\'s handle released', 200);
    expect(handles().filter((h) => h.includes(pods.a!.containerId) || h.includes(pods.b!.containerId))).toHaveLength(2);
  }, 60_000);
});

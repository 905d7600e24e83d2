/**
 * Real agents in a 3-node L2 lab: one `margay agent` per node namespace, one shared
 * file datastore, pods created through the real margay-cni. Full mesh, pod
 * connectivity across nodes, status CLI, health/metrics, NetworkPolicy enforced
 * across nodes (and how fast), and agent restarts under a continuous ping.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { netnsExec } from '../../../agent/lab/netns.js';
import type { AgentStatus } from '../../../agent/status/types.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab, margayRoutes, startAgents, waitMeshedAndReady } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

const NODES = ['n1', 'n2', 'n3'];

describe.skipIf(needs.skip)(`node agents in a 3-node lab (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  const c = (): AgentCluster => cluster as AgentCluster;
  const pods: Record<string, CniPod> = {};

  const reach = async (from: CniPod, to: CniPod): Promise<boolean> => (await c().lab.ping(from.netns, to.ipv4, { count: 1, timeoutS: 1 })).ok;

  beforeAll(async () => {
    lab = await createLab({ nodes: 3, fabric: 'l2' });
    cluster = await createAgentCluster(lab);
    await startAgents(cluster, NODES);
    pods.a = await cluster.addPod('n1', 'a', { labels: { app: 'a' } });
    pods.b = await cluster.addPod('n2', 'b', { labels: { app: 'b' } });
    pods.c = await cluster.addPod('n3', 'c', { labels: { app: 'c' } });
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('full mesh converges: every agent has both peers Established, one active side per pair, and every other node\'s block in its kernel', async () => {
    const sts = await waitMeshedAndReady(c(), NODES, 2, { intervalMs: 200, statusTimeoutMs: 2000 });
    for (const [n, s] of sts) {
      expect(s.asn).toBe(64512);
      expect(s.peers.map((p) => p.type)).toEqual(['node-to-node mesh', 'node-to-node mesh']);
      expect(s.blocks).toHaveLength(1);
      expect(s.blocks[0]).toMatchObject({ pool: 'lab-pool', used: 1, size: 64 });
      // exactly one side of each pair is passive: the higher address
      for (const p of s.peers) {
        const other = sts.get(p.node as string)!.peers.find((x) => x.node === n)!;
        expect(p.passive !== other.passive).toBe(true);
      }
    }
    for (const n of NODES) {
      const routes = await waitFor(async () => {
        const text = await margayRoutes(c().lab, n);
        return NODES.filter((m) => m !== n).every((m) => text.includes(`${sts.get(m)!.blocks[0]!.cidr} via ${lab!.node(m).address} dev eth0`)) ? text : undefined;
      }, 10_000, `${n} kernel routes`, 100);
      expect(routes).toContain(`blackhole ${sts.get(n)!.blocks[0]!.cidr}`);
    }
  }, 60_000);

  it('pods created through margay-cni on different nodes reach each other', async () => {
    for (const [x, y] of [['a', 'b'], ['a', 'c'], ['b', 'c'], ['c', 'a']] as const) {
      expect(await waitFor(() => reach(pods[x]!, pods[y]!), 10_000, `${x} → ${y}`, 100), `${x} → ${y}`).toBe(true);
    }
  }, 60_000);

  it('margay status prints the peers table (text) and the same facts as JSON', async () => {
    const text = spawnSync(process.execPath, [MARGAY_JS, 'status', '--socket', c().statusSocket('n2')], { encoding: 'utf8', timeout: 15_000 });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/\| PEER ADDRESS \| PEER TYPE\s+\| STATE \| SINCE\s+\| INFO\s+\|/);
    expect(text.stdout).toMatch(/\| 172\.30\.0\.11\s+\| node-to-node mesh \| up\s+\| \d\d:\d\d:\d\d \| Established \|/);
    expect(text.stdout).toContain('own block');
    const json = spawnSync(process.execPath, [MARGAY_JS, 'status', '--json', '--socket', c().statusSocket('n2')], { encoding: 'utf8', timeout: 15_000 });
    const st = JSON.parse(json.stdout) as AgentStatus;
    expect(st.node).toBe('n2');
    expect(st.peers.map((p) => [p.address, p.state])).toEqual([['172.30.0.11', 'up'], ['172.30.0.13', 'up']]);
    const gone = spawnSync(process.execPath, [MARGAY_JS, 'status', '--socket', '/nonexistent/agent.sock'], { encoding: 'utf8', timeout: 15_000 });
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('is \'margay agent\' running?');
  }, 30_000);

  it('serves /readyz and /metrics inside the node namespace', async () => {
    const ns = c().lab.node('n1').ns;
    const ready = await netnsExec(ns, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9099/readyz']);
    expect(ready.stdout).toBe('200');
    // a loaded machine may still be re-establishing a session: wait (bounded) for both
    const scrape = async (): Promise<string> => (await netnsExec(ns, ['curl', '-s', 'http://127.0.0.1:9099/metrics'])).stdout;
    const m = await waitFor(async () => { const t = await scrape(); return t.includes('margay_bgp_sessions{state="Established"} 2') ? t : undefined; }, 15_000, 'both sessions Established in /metrics', 200)
      .catch(scrape);
    expect(m, m).toContain('margay_bgp_sessions{state="Established"} 2');
    expect(m, m).toMatch(/margay_bgp_prefixes_received\{peer="172\.30\.0\.12"\} 1/);
    expect(m, m).toMatch(/margay_ipam_addresses_used\{pool="lab-pool"\} 1/);
    expect(m, m).toMatch(/margay_policy_sync_seconds_count [1-9]/);
    // every component's applies count its successes too (an IPAM error ratio is errors over attempts)
    expect(m, m).toMatch(/margay_applies_total\{component="ipam"\} [1-9]/);
    expect(m, m).toMatch(/margay_apply_errors_total\{component="ipam"\} 0/);
  }, 30_000);

  it('a NetworkPolicy written to the datastore dir is enforced across nodes, a change within 100 ms (median of 5)', async () => {
    expect(await reach(pods.b!, pods.c!)).toBe(true);
    const policy = (allowFrom: string) => [{
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'c-ingress', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'c' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: allowFrom } } }] }] },
    }];
    const n3 = c().lab.node('n3').ns;
    const rules = async (): Promise<string> => (await netnsExec(n3, ['iptables-save', '-t', 'filter'])).stdout;
    const timings: number[] = [];
    // each change: write the file, then watch the kernel of the node that must enforce it
    for (const allow of ['a', 'b', 'a', 'b', 'a']) {
      const before = await rules();
      const t0 = performance.now();
      await c().writeManifest('policy-c.yaml', policy(allow));
      await waitFor(async () => (await rules()) !== before, 5000, `rules for allow-from-${allow}`, 2);
      timings.push(performance.now() - t0);
      await waitFor(async () => (await c().status('n3')).policy.synced, 5000, 'policy synced', 20);
    }
    // allow a: a (n1) → c (n3) passes, b (n2) → c does not
    expect(await waitFor(() => reach(pods.a!, pods.c!), 5000, 'a → c allowed', 50)).toBe(true);
    expect(await reach(pods.b!, pods.c!)).toBe(false);
    // unaffected directions stay open
    expect(await reach(pods.c!, pods.b!)).toBe(true);
    process.stderr.write(`policy enforcement (file written → n3's rules changed): ${timings.map((t) => `${t.toFixed(1)} ms`).join(', ')}\n`);
    // the median of 5 changes: one change may queue behind a resync or another engineer's load on this shared machine
    const sorted = [...timings].sort((x, y) => x - y);
    expect(sorted[2]).toBeLessThan(100);
    await c().removeManifest('policy-c.yaml');
    expect(await waitFor(() => reach(pods.b!, pods.c!), 5000, 'b → c open again', 50)).toBe(true);
  }, 60_000);

  it('an invalid object in the datastore dir is reported with its field path and ignored; everything else keeps working', async () => {
    await c().writeManifest('bad-peer.yaml', [{ apiVersion: 'margay.io/v1', kind: 'BGPPeer', metadata: { name: 'bad' }, spec: { peerIP: 'not-an-ip', asNumber: 65000 } }]);
    const s = await waitFor(async () => {
      const st = await c().status('n1');
      return st.problems.some((p) => p.includes('BGPPeer bad') && p.includes('peerIP')) ? st : undefined;
    }, 10_000, 'n1 reports the invalid BGPPeer', 100);
    expect(s.peers.map((p) => p.fsm)).toEqual(['Established', 'Established']);
    expect(await reach(pods.a!, pods.c!)).toBe(true);
    await c().removeManifest('bad-peer.yaml');
    // removed, the invalid object is no problem any more
    await waitFor(async () => ((await c().status('n1')).problems.some((p) => p.includes('BGPPeer bad')) ? undefined : true), 10_000, 'n1 forgets the removed invalid BGPPeer', 100);
  }, 30_000);

  it('a CNI DEL releases the address and removes the pod from policy; a new pod on the same node works', async () => {
    const d = await c().addPod('n2', 'd', { labels: { app: 'd' } });
    expect(await waitFor(() => reach(pods.a!, d), 10_000, 'a → d', 50)).toBe(true);
    const before = await waitFor(async () => {
      const st = await c().status('n2');
      return st.policy.localPods === 2 ? st : undefined;
    }, 10_000, 'n2 knows 2 local pods', 50);
    expect(before.blocks[0]?.used).toBe(2);
    await c().delPod(d);
    const after = await waitFor(async () => {
      const st = await c().status('n2');
      return st.policy.localPods === 1 && st.blocks[0]?.used === 1 ? st : undefined;
    }, 10_000, 'n2 forgets d and frees its address', 50);
    expect(after.blocks).toHaveLength(1);
    const e = await c().addPod('n2', 'e', { labels: { app: 'e' } });
    expect(await waitFor(() => reach(pods.a!, e), 10_000, 'a → e', 50)).toBe(true);
  }, 60_000);

  const pingUnderRestart = async (restart: string[]): Promise<{ sent: number; received: number }> => {
    const count = 200; // 10 s at 0.05 s
    const pinging = netnsExec(pods.a!.netns, ['ping', '-n', '-q', '-c', String(count), '-i', '0.05', '-W', '1', pods.c!.ipv4], { timeoutMs: 40_000 }).then((r) => r.stdout, (e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 1000));
    // one after the other (the lab's state file is written per call), well inside one restart window
    for (const n of restart) await c().stopAgent(n);
    for (const n of restart) await c().startAgent(n);
    await waitMeshedAndReady(c(), restart, 2, { timeoutMs: 20_000, statusTimeoutMs: 2000, what: 'meshed and ready again' });
    const out = await pinging;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
    if (!m) throw new Error(`unexpected ping output: ${out}`);
    return { sent: Number(m[1]), received: Number(m[2]) };
  };

  it('an agent restart under a continuous ping (0.05 s) between pods on two nodes loses nothing', async () => {
    const r = await pingUnderRestart(['n1']);
    expect(r.sent).toBe(200);
    expect(r.received).toBe(200);
    // after the restart n1 still has both remote blocks, learned again over BGP
    const s = await c().status('n1');
    expect(s.routes.filter((x) => x.reason.startsWith('direct to'))).toHaveLength(2);
  }, 60_000);

  it('two agents restarting at once (each waiting for the other\'s End-of-RIB) still lose nothing and converge within the bound', async () => {
    const t0 = Date.now();
    const r = await pingUnderRestart(['n1', 'n3']);
    expect(r.received).toBe(r.sent);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);
});

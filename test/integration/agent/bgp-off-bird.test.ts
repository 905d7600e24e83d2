/**
 * Agents with margay's BGP off (`margay agent --bgp off`) and an external speaker on
 * each node — BIRD, Calico's architecture: the agent writes its blocks' blackholes
 * (proto 80), BIRD exports them from the kernel (`krt_source = 80`) over an iBGP
 * mesh, and the remote BIRD installs what it learns (proto bird). Checked: no agent
 * listens on the BGP port or opens a session; readiness does not wait for BGP;
 * `margay status` says BGP is off; every node ends up with the others' blocks from
 * BIRD and pods on different nodes reach each other; the agents' reconcile deletes
 * only its own protocol's stale routes, never BIRD's or another protocol's. Then,
 * with no speaker at all, a VXLAN pool (Always): the agents route the other nodes'
 * blocks through vxlan.margay from IPAM alone.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { netnsExec } from '../../../agent/lab/netns.js';
import { startNodeBirds, type LabBird } from '../../../agent/lab/topology/bird.js';
import type { AgentStatus } from '../../../agent/status/types.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab, startAgents, waitMeshedAndReady } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

const NODES = ['n1', 'n2', 'n3'];
const AGENT_ARGS = ['--bgp', 'off', '--resync', '1000'];

/** Starts every node's agent with BGP off and waits until each is ready, with no session. */
async function startBgpOffAgents(cluster: AgentCluster): Promise<void> {
  await startAgents(cluster, NODES, () => AGENT_ARGS);
  await waitMeshedAndReady(cluster, NODES, 0, { statusTimeoutMs: 2000, what: 'ready with no BGP session' });
}

describe.skipIf(needs.skip)(`agents with --bgp off + BIRD on each node (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  let birds: LabBird[] = [];
  const c = (): AgentCluster => cluster as AgentCluster;
  const pods: Record<string, CniPod> = {};
  /** `ss` listeners on the BGP port in each node namespace, before BIRD started */
  const listeners: Record<string, string> = {};
  const statusBeforeBird: Record<string, AgentStatus> = {};
  const routes = async (node: string, proto: string): Promise<string> => (await c().lab.exec(c().lab.node(node).ns, ['ip', '-4', 'route', 'show', 'proto', proto])).stdout;

  beforeAll(async () => {
    lab = await createLab({ nodes: 3, fabric: 'l2' });
    cluster = await createAgentCluster(lab);
    await startBgpOffAgents(cluster);
    // ready with no speaker anywhere: readiness does not wait for BGP
    for (const n of NODES) {
      statusBeforeBird[n] = await cluster.status(n);
      listeners[n] = (await netnsExec(lab.node(n).ns, ['ss', '-Htln', 'sport = :179'])).stdout.trim();
    }
    birds = await startNodeBirds(lab, { kernelProtocol: 80 });
    pods.a = await cluster.addPod('n1', 'a');
    pods.b = await cluster.addPod('n2', 'b');
    pods.c = await cluster.addPod('n3', 'c');
  }, 120_000);

  afterAll(async () => {
    for (const b of birds) await b.stop().catch(() => undefined);
    await destroyAgentLab(lab, cluster);
  }, 60_000);

  it('no agent listens on the BGP port or has a peer; each is ready before any speaker runs', () => {
    for (const n of NODES) {
      expect(listeners[n], `${n} listeners on :179`).toBe('');
      const s = statusBeforeBird[n]!;
      expect(s.ready, s.reasons.join('; ')).toBe(true);
      expect(s.bgp).toBe('off');
      expect(s.peers).toEqual([]);
    }
  });

  it('BIRD exports each agent\'s blackhole; every node gets the other blocks from BIRD (proto bird), its own stays margay\'s', async () => {
    const blocks = new Map<string, string>();
    for (const n of NODES) {
      const s = await waitFor(async () => { const st = await c().status(n); return st.blocks.length === 1 ? st : undefined; }, 10_000, `${n} block`, 100);
      blocks.set(n, s.blocks[0]!.cidr);
    }
    for (const n of NODES) {
      const learned = await waitFor(async () => {
        const t = await routes(n, 'bird');
        return NODES.filter((m) => m !== n).every((m) => t.includes(`${blocks.get(m)} via ${c().lab.node(m).address} dev eth0`)) ? t : undefined;
      }, 15_000, `${n}: BIRD routes`, 100);
      expect(learned).not.toContain(blocks.get(n));
      expect(await routes(n, '80')).toContain(`blackhole ${blocks.get(n)}`);
    }
  }, 40_000);

  it('pods created through margay-cni on different nodes reach each other', async () => {
    for (const [x, y] of [['a', 'b'], ['a', 'c'], ['b', 'c'], ['c', 'a']] as const) {
      const ok = await waitFor(async () => (await c().lab.ping(pods[x]!.netns, pods[y]!.ipv4, { count: 1, timeoutS: 1 })).ok, 15_000, `${x} → ${y}`, 100);
      expect(ok, `${x} → ${y}`).toBe(true);
    }
  }, 60_000);

  it('margay status says BGP is off (text and JSON)', () => {
    const text = spawnSync(process.execPath, [MARGAY_JS, 'status', '--socket', c().statusSocket('n1')], { encoding: 'utf8', timeout: 15_000 });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain('BGP is off (--bgp off)');
    expect(text.stdout).not.toContain('BGP status');
    const json = JSON.parse(spawnSync(process.execPath, [MARGAY_JS, 'status', '--json', '--socket', c().statusSocket('n1')], { encoding: 'utf8', timeout: 15_000 }).stdout) as AgentStatus;
    expect(json.bgp).toBe('off');
  });

  it('the reconcile deletes its own stale routes (proto 80) and never BIRD\'s or another protocol\'s', async () => {
    const ns = c().lab.node('n1').ns;
    const before = await routes('n1', 'bird');
    await c().lab.exec(ns, ['ip', 'route', 'add', 'blackhole', '10.98.0.0/24', 'proto', '80']);
    await c().lab.exec(ns, ['ip', 'route', 'add', '10.99.0.0/24', 'via', c().lab.node('n2').address, 'proto', 'static']);
    // a full pass (--resync 1000) removes margay's stale route
    await waitFor(async () => !(await routes('n1', '80')).includes('10.98.0.0/24'), 10_000, 'stale proto 80 route deleted', 100);
    await new Promise((r) => setTimeout(r, 1500)); // and one more full pass
    expect(await routes('n1', 'static')).toContain('10.99.0.0/24');
    expect(await routes('n1', 'bird')).toBe(before);
  }, 30_000);
});

describe.skipIf(needs.skip)(`agents with --bgp off, no speaker, a VXLAN pool: routes from IPAM (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  const c = (): AgentCluster => cluster as AgentCluster;

  beforeAll(async () => {
    lab = await createLab({ nodes: 3, fabric: 'l2' });
    cluster = await createAgentCluster(lab, { pool: { vxlanMode: 'Always' } });
    await startBgpOffAgents(cluster);
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('each agent routes the other nodes\' blocks through vxlan.margay, and pods reach each other', async () => {
    const pods = [await c().addPod('n1', 'a'), await c().addPod('n2', 'b'), await c().addPod('n3', 'c')];
    const blocks = new Map<string, string>();
    for (const n of NODES) blocks.set(n, (await waitFor(async () => (await c().status(n)).blocks[0]?.cidr, 10_000, `${n} block`, 100)));
    for (const n of NODES) {
      await waitFor(async () => {
        const t = (await c().lab.exec(c().lab.node(n).ns, ['ip', '-4', 'route', 'show', 'proto', '80'])).stdout;
        return NODES.filter((m) => m !== n).every((m) => new RegExp(`${blocks.get(m)!.replace(/\./g, '\\.')} via \\S+ dev vxlan\\.margay`).test(t)) ? t : undefined;
      }, 15_000, `${n}: VXLAN routes from IPAM`, 100);
    }
    for (const [x, y] of [[0, 1], [0, 2], [2, 1]] as const) {
      const ok = await waitFor(async () => (await c().lab.ping(pods[x]!.netns, pods[y]!.ipv4, { count: 1, timeoutS: 1 })).ok, 15_000, `${x} → ${y}`, 100);
      expect(ok).toBe(true);
    }
  }, 60_000);
});

/**
 * Real agents in the lab's BGP topologies (issue 6): a route-reflector topology
 * (n1 reflects, mesh off) and a BIRD top-of-rack peering (mesh off, every node
 * peers over eBGP with BIRD in the fabric namespace). One `margay agent` per node
 * namespace on a shared file datastore, pods through the real margay-cni.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { startTorBird, type LabBird } from '../../../agent/lab/topology/bird.js';
import { labTopologyNodes } from '../../../agent/lab/topology/lab-nodes.js';
import { labNodeObject, planTopology, type TopologyOptions, type TopologyPlan } from '../../../agent/lab/topology/manifests.js';
import type { AgentStatus } from '../../../agent/status/types.js';
import { MARGAY_CNI_JS, MARGAY_JS } from '../../support/cli.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';

const built = existsSync(MARGAY_JS) && existsSync(MARGAY_CNI_JS);
if (!built) process.stderr.write('test/integration/topology: skipped, dist/ missing (run npx tsc -p tsconfig.json)\n');

const FOREIGN = ['0.0.0.0/0', '192.0.2.0/24'];

interface Env { lab: Lab; cluster: AgentCluster; plan: TopologyPlan; pods: CniPod[]; tor?: LabBird }

/** A 3-node lab with agents in topology `opts`, one pod per node. */
async function setUp(opts: TopologyOptions, withTor: boolean): Promise<Env> {
  const lab = await createLab({ nodes: 3, fabric: 'l2' });
  const env: Partial<Env> = { lab };
  try {
    const nodes = labTopologyNodes(lab);
    const plan = planTopology(nodes, opts);
    env.plan = plan;
    // The ToR also announces a default route and a foreign prefix, as real ones do:
    // the nodes must accept only what lies inside their IPPools.
    if (withTor) env.tor = await startTorBird(lab, plan, { announceForeign: FOREIGN });
    const cluster = await createAgentCluster(lab, {
      manifests: { 'nodes.yaml': nodes.map((n) => labNodeObject(n, plan)), 'topology.yaml': plan.objects },
    });
    env.cluster = cluster;
    for (const n of lab.nodes) await cluster.startAgent(n.name);
    for (const n of lab.nodes) await waitFor(() => existsSync(cluster.statusSocket(n.name)), 20_000, `agent ${n.name} status socket`, 50);
    env.pods = [];
    for (const n of lab.nodes) env.pods.push(await cluster.addPod(n.name, `p${n.index}`));
    return env as Env;
  } catch (err) {
    await env.cluster?.destroy().catch(() => undefined);
    await lab.destroy().catch(() => undefined);
    throw err;
  }
}

async function tearDown(env: Env | undefined): Promise<void> {
  await env?.cluster.destroy().catch(() => undefined);
  await env?.lab.destroy({ keepLogs: process.env.MARGAY_KEEP_LOGS !== undefined });
}

const status = (env: Env, node: string): Promise<AgentStatus | undefined> => env.cluster.status(node, 2000).catch(() => undefined);
const established = async (env: Env, node: string, peers: number): Promise<AgentStatus | undefined> => {
  const s = await status(env, node);
  return s && s.peers.length === peers && s.peers.every((p) => p.fsm === 'Established') ? s : undefined;
};
const kernelRoutes = async (env: Env, node: string): Promise<string> => (await env.lab.exec(env.lab.node(node).ns, ['ip', '-4', 'route', 'show', 'proto', '80'])).stdout;
const ownBlock = async (env: Env, node: string): Promise<string> => {
  const s = await waitFor(async () => { const x = await status(env, node); return x && x.blocks.length > 0 ? x : undefined; }, 10_000, `${node} block`, 100);
  return s.blocks[0]!.cidr;
};

async function everyPodReachesEveryOther(env: Env): Promise<void> {
  for (const a of env.pods) {
    for (const b of env.pods) {
      if (a === b) continue;
      const ok = await waitFor(async () => (await env.lab.ping(a.netns, b.ipv4, { count: 1, timeoutS: 1 })).ok, 10_000, `${a.name} → ${b.name}`, 100)
        .catch(() => false);
      expect(ok, `${a.node}/${a.name} → ${b.node}/${b.name} (${b.ipv4})`).toBe(true);
    }
  }
}

describe.skipIf(needsRoot || !built)(`route-reflector topology: n1 reflects, mesh off (${ROOT_SKIP_REASON})`, () => {
  let env: Env | undefined;
  beforeAll(async () => { env = await setUp({ kind: 'route-reflector', reflector: 'n1' }, false); }, 120_000);
  afterAll(() => tearDown(env), 60_000);

  it('n1 has a route-reflector session with each client; clients peer only with n1', async () => {
    const e = env as Env;
    const rr = await waitFor(() => established(e, 'n1', 2), 30_000, 'n1 sessions', 200);
    expect(rr.peers.map((p) => [p.address, p.type])).toEqual([['172.30.0.12', 'route reflector'], ['172.30.0.13', 'route reflector']]);
    for (const c of ['n2', 'n3']) {
      const s = await waitFor(() => established(e, c, 1), 30_000, `${c} session`, 200);
      expect(s.peers.map((p) => [p.address, p.type])).toEqual([['172.30.0.11', 'route reflector']]);
    }
  }, 60_000);

  it('every node\'s kernel has every remote block, with the owning node as next hop (reflected between clients)', async () => {
    const e = env as Env;
    const blocks = new Map<string, string>();
    for (const n of e.lab.nodes) blocks.set(n.name, await ownBlock(e, n.name));
    for (const n of e.lab.nodes) {
      const text = await waitFor(async () => {
        const t = await kernelRoutes(e, n.name);
        return e.lab.nodes.filter((m) => m !== n).every((m) => t.includes(`${blocks.get(m.name)} via ${m.address} dev eth0`)) ? t : undefined;
      }, 15_000, `${n.name} kernel routes`, 100).catch(async () => kernelRoutes(e, n.name));
      for (const m of e.lab.nodes) if (m !== n) expect(text, `${n.name} kernel`).toContain(`${blocks.get(m.name)} via ${m.address} dev eth0`);
    }
  }, 60_000);

  it('pods on different nodes reach each other (n2 ↔ n3 only through reflected routes)', async () => {
    await everyPodReachesEveryOther(env as Env);
  }, 90_000);
});

describe.skipIf(needsRoot || !built)(`BIRD top-of-rack peering, mesh off (${ROOT_SKIP_REASON})`, () => {
  let env: Env | undefined;
  beforeAll(async () => { env = await setUp({ kind: 'tor' }, true); }, 120_000);
  afterAll(() => tearDown(env), 60_000);

  it('every node has exactly one session, with the ToR, and BIRD learns every block', async () => {
    const e = env as Env;
    for (const n of e.lab.nodes) {
      const s = await waitFor(() => established(e, n.name, 1), 30_000, `${n.name} ToR session`, 200);
      expect(s.peers.map((p) => [p.address, p.asn, p.type])).toEqual([['172.30.0.1', 65000, 'node-specific']]);
    }
    const blocks = await Promise.all(e.lab.nodes.map((n) => ownBlock(e, n.name)));
    const tor = e.tor as LabBird;
    await waitFor(async () => (await tor.routeCount()) === blocks.length + FOREIGN.length, 15_000, 'BIRD routes', 100).catch(() => undefined);
    expect(await tor.routeCount()).toBe(blocks.length + FOREIGN.length); // the blocks, and its own foreign routes
    const shown = await tor.birdc('show route');
    e.lab.nodes.forEach((n, i) => expect(shown).toMatch(new RegExp(`${blocks[i]!.replaceAll('.', '\\.')}\\s+unicast \\[node_${n.name} [^\\n]*\\[AS64512i\\]\\n\\s+via ${n.address.replaceAll('.', '\\.')}`)));
    const fabric = (await e.lab.exec(e.lab.fabric.ns, ['ip', '-4', 'route', 'show', 'proto', 'bird'])).stdout;
    e.lab.nodes.forEach((n, i) => expect(fabric).toContain(`${blocks[i]} via ${n.address} dev br0`));
  }, 60_000);

  it('every node\'s kernel reaches every remote block through the ToR', async () => {
    const e = env as Env;
    const blocks = await Promise.all(e.lab.nodes.map((n) => ownBlock(e, n.name)));
    for (const n of e.lab.nodes) {
      const want = blocks.filter((_, i) => e.lab.nodes[i] !== n).map((b) => `${b} via 172.30.0.1 dev eth0`);
      const text = await waitFor(async () => { const t = await kernelRoutes(e, n.name); return want.every((w) => t.includes(w)) ? t : undefined; }, 15_000, `${n.name} routes`, 100)
        .catch(async () => kernelRoutes(e, n.name));
      // the agent must program routes learned from a BGP peer that is no node (the ToR, next hop self)
      const problems = (await status(e, n.name))?.problems.join('; ') ?? '';
      for (const w of want) expect(text, `${n.name} kernel (agent problems: ${problems})`).toContain(w);
    }
  }, 60_000);

  it('nodes refuse what the ToR announces outside the IPPools (its default route, a foreign prefix)', async () => {
    const e = env as Env;
    for (const n of e.lab.nodes) {
      // the ToR has sent its whole table (2 remote blocks + 2 foreign prefixes) before we look
      await waitFor(async () => ((await status(e, n.name))?.peers[0]?.received ?? 0) >= e.lab.nodes.length - 1 + FOREIGN.length, 15_000, `${n.name} ToR table`, 100);
      const text = await kernelRoutes(e, n.name);
      expect(text).not.toContain('192.0.2.0/24');
      const def = (await e.lab.exec(n.ns, ['ip', '-4', 'route', 'show', 'default'])).stdout;
      expect(def).toMatch(/^default via \S+ dev eth0/m);
      expect(def).not.toContain('proto 80');
    }
    const tor = e.tor as LabBird;
    expect(await tor.birdc('show route 192.0.2.0/24')).toContain('192.0.2.0/24');
  }, 60_000);

  it('pods on different nodes reach each other through the ToR', async () => {
    await everyPodReachesEveryOther(env as Env);
  }, 90_000);
});

describe.skipIf(needsRoot || !built)(`BIRD top-of-rack, AS per node from Node annotations (${ROOT_SKIP_REASON})`, () => {
  let env: Env | undefined;
  beforeAll(async () => { env = await setUp({ kind: 'tor', asPerNode: true }, true); }, 120_000);
  afterAll(() => tearDown(env), 60_000);

  it('each agent speaks its annotated AS, BIRD sees each node in its own AS and learns every block with that origin AS', async () => {
    const e = env as Env;
    for (const n of e.lab.nodes) {
      const s = await waitFor(() => established(e, n.name, 1), 30_000, `${n.name} ToR session`, 200);
      expect(s.asn).toBe(65100 + n.index);
      expect(s.peers[0]?.asn).toBe(65000);
    }
    const tor = e.tor as LabBird;
    for (const n of e.lab.nodes) {
      expect(await tor.birdc(`show protocols all node_${n.name}`)).toMatch(new RegExp(`Neighbor AS:\\s+${65100 + n.index}`));
    }
    const blocks = await Promise.all(e.lab.nodes.map((n) => ownBlock(e, n.name)));
    await waitFor(async () => (await tor.routeCount()) === blocks.length + FOREIGN.length, 15_000, 'BIRD routes', 100).catch(() => undefined);
    expect(await tor.routeCount()).toBe(blocks.length + FOREIGN.length); // the blocks, and its own foreign routes
    for (const [i, n] of e.lab.nodes.entries()) {
      expect(await tor.birdc(`show route ${blocks[i]} all`)).toMatch(new RegExp(`BGP\\.as_path: ${65100 + n.index}\\s*$`, 'm'));
    }
    await everyPodReachesEveryOther(e);
  }, 90_000);
});

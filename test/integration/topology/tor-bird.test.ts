import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { podAddress } from '../../../agent/lab/plan.js';
import { renderBirdSpeakerConfig } from '../../../agent/lab/topology/bird-config.js';
import { startBird, startTorBird, type LabBird } from '../../../agent/lab/topology/bird.js';
import { planTopology, type TopologyPlan } from '../../../agent/lab/topology/manifests.js';
import { labTopologyNodes } from '../../../agent/lab/topology/lab-nodes.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { waitFor } from '../../support/daemons/common.js';

/**
 * The ToR BIRD of `margay lab up --tor bird`, checked with BIRD as every node's
 * speaker (the agent-independent half): nodes share the cluster AS, mesh off; the
 * ToR learns every block, sends each node the others' blocks with itself as next
 * hop (and the cluster AS overridden), installs them in the fabric namespace, and
 * pods on different nodes reach each other through it.
 */
const NODES = 3;
const block = (k: number) => `10.244.${k}.0/24`;

describe.skipIf(needsRoot)(`ToR BIRD with BIRD node speakers (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  let lab: Lab;
  let plan: TopologyPlan;
  let tor: LabBird;
  const speakers: LabBird[] = [];

  beforeAll(async () => {
    lab = await createLab({ nodes: NODES, fabric: 'l2' });
    plan = planTopology(labTopologyNodes(lab), { kind: 'tor' });
    tor = await startTorBird(lab, plan);
    for (const n of lab.nodes) {
      await lab.addPod(n.name, 'p1', podAddress(n.index, 1));
      await lab.exec(n.ns, ['ip', 'route', 'add', 'blackhole', block(n.index)]);
      const config = renderBirdSpeakerConfig({
        routerId: n.address, asn: plan.clusterAsn, local: n.address, originatePrefixes: ['10.244.0.0/16'],
        peers: [{ name: 'tor', address: n.gateway, asn: plan.tor?.asn as number }],
      });
      speakers.push(await startBird(lab, n.ns, `${n.name}-bird`, config));
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('the ToR establishes a session with every node and learns every block', async () => {
    await waitFor('ToR sessions', async () => Object.values(await tor.bgpStates()).filter((s) => s.startsWith('Established')).length === NODES, 30_000);
    await waitFor('ToR routes', async () => (await tor.routeCount()) === NODES, 20_000);
    const routes = (await lab.exec(lab.fabric.ns, ['ip', '-4', 'route', 'show', 'proto', 'bird'])).stdout;
    for (const n of lab.nodes) expect(routes).toContain(`${block(n.index)} via ${n.address} dev br0`);
  });

  it('every node learns every remote block with the ToR as next hop and the cluster AS overridden', async () => {
    for (const n of lab.nodes) {
      await waitFor(`${n.name} routes`, async () => {
        const out = (await lab.exec(n.ns, ['ip', '-4', 'route', 'show', 'proto', 'bird'])).stdout;
        return lab.nodes.filter((m) => m !== n).every((m) => out.includes(`${block(m.index)} via ${n.gateway}`));
      }, 20_000);
      const own = (await lab.exec(n.ns, ['ip', '-4', 'route', 'show', 'proto', 'bird'])).stdout;
      expect(own).not.toContain(block(n.index));
    }
    const s2 = speakers[1] as LabBird;
    const detail = await s2.birdc(`show route ${block(1)} all`);
    expect(detail).toMatch(/BGP\.as_path: 65000\s*$/m);
  });

  it('pods on different nodes reach each other, through the ToR', async () => {
    for (const a of lab.pods) {
      for (const b of lab.pods) {
        if (a === b) continue;
        const r = await lab.ping(a.ns, b.ipv4, { count: 1, timeoutS: 2 });
        expect(r.ok, `${a.node}/${a.name} → ${b.ipv4}`).toBe(true);
      }
    }
    const n1 = lab.nodes[0]!;
    const get = (await lab.exec(n1.ns, ['ip', 'route', 'get', '10.244.2.2'])).stdout;
    expect(get).toContain(`via ${n1.gateway}`);
  });

  it('a withdrawn block disappears from the ToR and from the other nodes', async () => {
    const n3 = lab.nodes[2]!;
    await lab.exec(n3.ns, ['ip', 'route', 'del', 'blackhole', block(3)]);
    await waitFor('ToR withdraw', async () => (await tor.routeCount()) === NODES - 1, 20_000);
    await waitFor('n1 withdraw', async () => !(await lab.exec(lab.nodes[0]!.ns, ['ip', '-4', 'route', 'show', 'proto', 'bird'])).stdout.includes(block(3)), 20_000);
  });
});

/**
 * End to end on an L2 lab (both nodes on one subnet): CrossSubnet and Never both
 * route pod blocks directly via the owning node — no encapsulation — and pods reach
 * each other; Always goes through VXLAN even there.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { applyDataplane } from '../../../agent/dataplane/apply.js';
import { openRtnl, type KernelRtnl } from '../../../agent/dataplane/kernel/rtnl.js';
import { execIn } from '../../../agent/dataplane/nat-outgoing.js';
import { DEFAULT_CONFIG, type EncapMode, type NodeSpec } from '../../../agent/dataplane/plan/types.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

describe.skipIf(needsRoot)(`same-subnet nodes on an L2 lab (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  let lab: Lab;
  let stateRoot: string;
  const sockets = new Map<string, KernelRtnl>();
  let nodes: NodeSpec[] = [];

  beforeAll(async () => {
    stateRoot = await mkdtemp(join(tmpdir(), 'margay-dp-l2-'));
    lab = await createLab({ nodes: 2, fabric: 'l2', stateRoot });
    await lab.addPod('n1', 'a', { ipv4: '10.244.1.2' });
    await lab.addPod('n2', 'b', { ipv4: '10.244.2.2' });
    nodes = lab.nodes.map((n, i) => ({ name: n.name, address: `${n.address}/${n.subnet.split('/')[1]}`, vxlanTunnelAddress: `10.244.${i + 1}.0` }));
    for (const n of lab.nodes) sockets.set(n.name, openRtnl({ netns: n.ns }));
  });
  afterAll(async () => {
    for (const s of sockets.values()) s.close();
    await lab?.destroy();
    if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  });

  const apply = async (vxlan: EncapMode): Promise<void> => {
    for (const n of lab.nodes) {
      const r = await applyDataplane(sockets.get(n.name) as KernelRtnl, execIn(n.ns), {
        localNode: n.name, nodes,
        blocks: [{ cidr: '10.244.1.0/26', node: 'n1' }, { cidr: '10.244.2.0/26', node: 'n2' }],
        pools: [{ cidr: '10.244.0.0/16', vxlanMode: vxlan, ipipMode: 'Never', natOutgoing: false }],
        config: { ...DEFAULT_CONFIG, uplink: n.uplink, uplinkMtu: 1500 },
      });
      expect(r.problems).toEqual([]);
    }
  };
  const routeToB = async (): Promise<string> => (await lab.exec(lab.node('n1').ns, ['ip', 'route', 'show', '10.244.2.0/26'])).stdout.trim();
  const reach = async (): Promise<boolean> => (await lab.ping(lab.pods.find((p) => p.name === 'a')?.ns as string, '10.244.2.2', { count: 1, timeoutS: 1 })).ok;

  it.each(['CrossSubnet', 'Never'] as const)('%s: direct via the owning node, and pods reach each other', async (mode) => {
    await apply(mode);
    expect(await routeToB()).toBe(`10.244.2.0/26 via ${lab.node('n2').address} dev eth0 proto 80`);
    expect(await reach()).toBe(true);
  });

  it('Always: through VXLAN even on one subnet', async () => {
    await apply('Always');
    expect(await routeToB()).toBe('10.244.2.0/26 via 10.244.2.0 dev vxlan.margay proto 80 onlink');
    expect(await reach()).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { planLab } from '../../../../agent/lab/plan.js';
import { renderLabSummary } from '../../../../agent/lab/summary.js';

describe('lab summary', () => {
  const plan = planLab('mgab12-', 'l2', 2);
  const view = {
    prefix: plan.prefix,
    fabric: plan.fabric,
    nodes: plan.nodes.map((n) => ({ name: n.name, ns: n.ns, address: n.address, address6: n.address6, subnet: n.subnet.v4 })),
    pods: [{ name: 'web', node: 'n1', ns: 'mgab12-n1-web', ipv4: '10.244.1.2' }],
  };

  it('lists the fabric, every node and pod with namespace and addresses, and how to get in', () => {
    const text = renderLabSummary(view);
    expect(text.split('\n')[0]).toBe('lab mgab12: 2 nodes on an L2 fabric (one bridge)');
    expect(text).toMatch(/^ {2}fabric br0 +mgab12-fabric +172\.30\.0\.1 +fd30::1 +172\.30\.0\.0\/24$/m);
    expect(text).toMatch(/^ {2}node n2 +mgab12-n2 +172\.30\.0\.12 +fd30::12 +172\.30\.0\.0\/24$/m);
    expect(text).toMatch(/^ {2}pod n1\/web +mgab12-n1-web +10\.244\.1\.2 +-$/m);
    expect(text).toContain('ip netns exec mgab12-n1 bash');
    expect(text).toContain('ip netns exec mgab12-n1 ping -c 3 172.30.0.12');
    expect(text).toContain('margay lab down --prefix mgab12');
  });

  it('says "node" for a single node and leaves out the cross-node ping', () => {
    const one = planLab('mgab12-', 'routed', 1);
    const text = renderLabSummary({ ...view, fabric: one.fabric, nodes: view.nodes.slice(0, 1), pods: [] });
    expect(text.split('\n')[0]).toBe('lab mgab12: 1 node on a routed fabric (a router between two subnets)');
    expect(text).not.toContain('ping -c 3');
  });
});

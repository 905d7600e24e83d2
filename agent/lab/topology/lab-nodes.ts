import type { Lab } from '../lab.js';
import type { TopologyNode } from './manifests.js';

/** A lab's nodes as the topology planner sees them (address, subnet bridge and gateway). */
export function labTopologyNodes(lab: Pick<Lab, 'nodes' | 'fabric'>): TopologyNode[] {
  return lab.nodes.map((n) => {
    const subnet = lab.fabric.subnets.find((s) => s.gateway === n.gateway);
    if (!subnet) throw new Error(`node ${n.name}: no fabric subnet with gateway ${n.gateway}`);
    return { name: n.name, index: n.index, address: n.address, address6: n.address6, subnet: { bridge: subnet.bridge, gateway: subnet.gateway } };
  });
}

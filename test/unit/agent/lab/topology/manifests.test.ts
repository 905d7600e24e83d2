import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../../../agent/datastore/manifests.js';
import { schemaValidator } from '../../../../../agent/datastore/index.js';
import { ObjectCache } from '../../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../../agent/datastore/resources.js';
import { planNodeBgp } from '../../../../../agent/node-config/node-config.js';
import { ANNOTATIONS } from '../../../../../agent/node-config/types.js';
import {
  labNodeObject, planTopology, renderManifest, RR_CLUSTER_ID, TOR_ASN, type TopologyNode,
} from '../../../../../agent/lab/topology/manifests.js';

const l2 = (k: number): TopologyNode => ({ name: `n${k}`, index: k, address: `172.30.0.${10 + k}`, subnet: { bridge: 'br0', gateway: '172.30.0.1' } });
const routed = (k: number): TopologyNode => {
  const b = k % 2 === 1 ? { bridge: 'br-a', gateway: '172.30.1.1' } : { bridge: 'br-b', gateway: '172.30.2.1' };
  return { name: `n${k}`, index: k, address: `${b.gateway.slice(0, -2)}.${10 + k}`, subnet: b };
};
const nodes3 = [1, 2, 3].map(l2);

function snapshotOf(objs: Resource[]) {
  const c = new ObjectCache();
  for (const o of objs) c.set(o);
  return c.snapshot();
}

/** The whole lab manifest, parsed and validated as the file datastore does, then planned per node. */
function planAll(nodes: TopologyNode[], plan: ReturnType<typeof planTopology>) {
  const text = renderManifest([...nodes.map((n) => labNodeObject(n, plan)), ...plan.objects]);
  const parsed = parseManifest(text, schemaValidator);
  expect(parsed.rejected).toEqual([]);
  const snap = snapshotOf(parsed.resources);
  return Object.fromEntries(nodes.map((n) => [n.name, planNodeBgp(snap, n.name)]));
}

describe('planTopology', () => {
  it('mesh: mesh on, every node peers with every other', () => {
    const plan = planTopology(nodes3, { kind: 'mesh' });
    expect(plan.meshEnabled).toBe(true);
    expect(plan.objects.map((o) => o.kind)).toEqual(['BGPConfiguration']);
    const all = planAll(nodes3, plan);
    for (const n of nodes3) {
      expect(all[n.name]?.problems).toEqual([]);
      expect(all[n.name]?.peers.map((p) => p.type)).toEqual(['node-to-node mesh', 'node-to-node mesh']);
    }
  });

  it('route reflector: mesh off, n1 reflects for every other node, clients peer only with n1', () => {
    const nodes = [1, 2, 3, 4].map(l2);
    const plan = planTopology(nodes, { kind: 'route-reflector', reflector: 'n1' });
    expect(plan.meshEnabled).toBe(false);
    expect(plan.nodeAnnotations.n1?.[ANNOTATIONS.routeReflectorClusterId]).toBe(RR_CLUSTER_ID);
    expect(plan.nodeAnnotations.n2?.[ANNOTATIONS.routeReflectorClusterId]).toBeUndefined();
    const all = planAll(nodes, plan);
    const rr = all.n1;
    expect(rr?.problems).toEqual([]);
    expect(rr?.local?.clusterId).toBe(RR_CLUSTER_ID);
    expect(rr?.peers.map((p) => [p.address, p.type, p.routeReflectorClient])).toEqual([
      ['172.30.0.12', 'route reflector', true], ['172.30.0.13', 'route reflector', true], ['172.30.0.14', 'route reflector', true],
    ]);
    for (const c of ['n2', 'n3', 'n4']) {
      expect(all[c]?.peers.map((p) => [p.address, p.type, p.routeReflectorClient])).toEqual([['172.30.0.11', 'route reflector', false]]);
    }
  });

  it('route reflector: an unknown node or a bad cluster ID is refused', () => {
    expect(() => planTopology(nodes3, { kind: 'route-reflector', reflector: 'n9' })).toThrow(/n9.*not a node/);
    expect(() => planTopology(nodes3, { kind: 'route-reflector', reflector: 'n1', clusterId: '1.2.3.256' })).toThrow(/dotted quad/);
  });

  it('tor: mesh off, every node peers only with the gateway of its subnet over eBGP', () => {
    const nodes = [1, 2, 3, 4].map(routed);
    const plan = planTopology(nodes, { kind: 'tor' });
    expect(plan.objects.filter((o) => o.kind === 'BGPPeer').map((o) => o.metadata.name)).toEqual(['tor-br-a', 'tor-br-b']);
    const all = planAll(nodes, plan);
    for (const n of nodes) {
      expect(all[n.name]?.peers.map((p) => [p.address, p.asn, p.type])).toEqual([[n.subnet.gateway, TOR_ASN, 'node-specific']]);
      expect(all[n.name]?.local?.asn).toBe(64512);
    }
    expect(plan.tor?.peers).toEqual(nodes.map((n) => ({ node: n.name, address: n.address, asn: 64512, local: n.subnet.gateway })));
  });

  it('tor with AS per node: each node its own AS by annotation, the ToR sees the same numbers', () => {
    const plan = planTopology(nodes3, { kind: 'tor', asPerNode: true, torAsn: 65010 });
    const all = planAll(nodes3, plan);
    expect(nodes3.map((n) => all[n.name]?.local?.asn)).toEqual([65101, 65102, 65103]);
    expect(plan.tor?.peers.map((p) => p.asn)).toEqual([65101, 65102, 65103]);
    expect(all.n2?.peers.map((p) => [p.address, p.asn])).toEqual([['172.30.0.1', 65010]]);
  });

  it('tor: the ToR AS must differ from the cluster AS', () => {
    expect(() => planTopology(nodes3, { kind: 'tor', torAsn: 64512 })).toThrow(/eBGP/);
    expect(() => planTopology([], { kind: 'mesh' })).toThrow(/at least one node/);
  });
});

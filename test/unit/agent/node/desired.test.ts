import { describe, expect, it } from 'vitest';
import { ObjectCache, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import { DEFAULT_CONFIG } from '../../../../agent/dataplane/plan/types.js';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { Block, Handle } from '../../../../agent/ipam/types.js';
import { readNodes } from '../../../../agent/node-config/node-config.js';
import { parseAddressPrefix } from '../../../../agent/node-config/node-info.js';
import { planDataplane } from '../../../../agent/dataplane/plan/route-plan.js';
import { dataplaneInputOf, dataplanePoolsOf, externalImportPrefixes, originatedPrefixes, ownBlocks, policyInputOf, allocateTunnels, tunnelAddresses, tunnelHandle, tunnelHandles, tunnelRequests, staleTunnels, wantedTunnels, withNodeAddress } from '../../../../agent/node/desired.js';

function snap(...objs: Resource[]): Snapshot {
  const c = new ObjectCache();
  for (const o of objs) c.set(o);
  return c.snapshot();
}
const node = (name: string, addr: string): Resource => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, annotations: { 'margay.io/bgp-ipv4-address': addr } } });
const block = (cidr: string, owner: string | null, used = 1): Block => ({ cidr, pool: 'p', affinity: owner ? `host:${owner}` : null, allocations: Array.from({ length: 4 }, (_, i) => (i < used ? 'h' : null)), attributes: {} });
const handle = (id: string, node: string, pod: { namespace: string; name: string } | undefined, address: string): Handle => ({
  handle: id, addresses: [{ family: 4, address, block: 'b', pool: 'p' }], attrs: { node, ...(pod ? { pod } : {}), containerId: id.split('.')[1] as string },
});
const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };

describe('agent desired state', () => {
  it('own blocks and originated prefixes (blocks, then service IPs, no duplicates)', () => {
    const blocks = [block('10.0.0.64/26', 'n1'), block('10.0.0.0/26', 'n1'), block('10.0.1.0/26', 'n2'), block('10.0.2.0/26', null)];
    expect(ownBlocks(blocks, 'n1').map((b) => b.cidr)).toEqual(['10.0.0.0/26', '10.0.0.64/26']);
    expect(originatedPrefixes(ownBlocks(blocks, 'n1'), ['10.96.0.0/12', '10.0.0.0/26'])).toEqual(['10.0.0.0/26', '10.0.0.64/26', '10.96.0.0/12']);
  });

  it('learned routes map next hops to nodes; next hops that are no node become external routes; own blocks are not programmed; ECMP keeps every owner', () => {
    const s = snap(node('n1', '172.30.0.11/24'), node('n2', '172.30.0.12/24'), node('n3', '172.30.0.13/24'),
      { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16', vxlanMode: 'CrossSubnet', natOutgoing: true } });
    const learned = new Map([
      ['10.0.1.0/26', ['172.30.0.12']],
      ['10.0.2.0/26', ['172.30.0.12', '172.30.0.13']],
      ['10.0.0.0/26', ['172.30.0.12']], // our own block reflected back
      ['192.0.2.0/24', ['172.30.0.1']], // a router's route
      ['10.0.3.0/26', ['172.30.0.13', '172.30.0.1']], // a node and a router (ECMP)
      ['10.0.4.0/26', ['172.30.0.11']], // only this node itself
    ]);
    const r = dataplaneInputOf({ node: 'n1', nodes: readNodes(s), pools: dataplanePoolsOf(s), own: [block('10.0.0.0/26', 'n1')], learned, config });
    expect(r.input.blocks).toEqual([
      { cidr: '10.0.0.0/26', node: 'n1' }, { cidr: '10.0.1.0/26', node: 'n2' }, { cidr: '10.0.2.0/26', node: 'n2' }, { cidr: '10.0.2.0/26', node: 'n3' },
      { cidr: '10.0.3.0/26', node: 'n3' },
    ]);
    expect(r.input.external).toEqual([{ cidr: '10.0.3.0/26', nextHops: ['172.30.0.1'] }, { cidr: '192.0.2.0/24', nextHops: ['172.30.0.1'] }]);
    expect(r.unmapped).toEqual([{ prefix: '10.0.4.0/26', nextHops: ['172.30.0.11'] }]);
    const none = dataplaneInputOf({ node: 'n1', nodes: readNodes(s), pools: [], own: [], learned: new Map([['10.0.1.0/26', ['172.30.0.12']]]), config });
    expect(none.input.external).toBeUndefined();
    expect(r.input.pools).toEqual([{ cidr: '10.0.0.0/16', ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: true }]);
    expect(r.input.nodes.map((n) => [n.name, n.address])).toEqual([['n1', '172.30.0.11/24'], ['n2', '172.30.0.12/24'], ['n3', '172.30.0.13/24']]);
  });

  it('a learned prefix inside one of this node\'s own blocks (a ToR\'s /32 for a local pod, a /27) is not programmed: own blocks are authoritative', () => {
    const s = snap(node('n1', '172.30.0.11/24'), node('n2', '172.30.0.12/24'));
    const learned = new Map([
      ['10.244.1.5/32', ['172.30.0.1']], // a pod of this node, from the ToR
      ['10.244.1.32/27', ['172.30.0.1', '172.30.0.12']], // part of the block, from the ToR and a node
      ['10.244.1.64/32', ['172.30.0.1']], // just outside the block: a real external route
      ['fd44:1::/122', ['fd30::1']], // other family, same rule in IPv6
    ]);
    const r = dataplaneInputOf({ node: 'n1', nodes: readNodes(s), pools: [], own: [block('10.244.1.0/26', 'n1'), block('fd44:1::/120', 'n1')], learned, config });
    expect(r.input.external).toEqual([{ cidr: '10.244.1.64/32', nextHops: ['172.30.0.1'] }]);
    expect(r.input.blocks).toEqual([{ cidr: '10.244.1.0/26', node: 'n1' }, { cidr: 'fd44:1::/120', node: 'n1' }]);
    expect(r.shadowed).toEqual([
      { prefix: '10.244.1.32/27', nextHops: ['172.30.0.1', '172.30.0.12'], block: '10.244.1.0/26' },
      { prefix: '10.244.1.5/32', nextHops: ['172.30.0.1'], block: '10.244.1.0/26' },
      { prefix: 'fd44:1::/122', nextHops: ['fd30::1'], block: 'fd44:1::/120' },
    ]);
  });

  it('a node known only by its IPv6 address is in the dataplane input (its IPv6 blocks map to it)', () => {
    const v6only: Resource = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n6', annotations: { 'margay.io/bgp-ipv6-address': 'fd30::16/64' } } };
    const s = snap(node('n1', '172.30.0.11/24'), v6only);
    const r = dataplaneInputOf({ node: 'n1', nodes: readNodes(s), pools: [], own: [], learned: new Map([['fd44:6::/122', ['fd30::16']]]), config });
    expect(r.input.nodes.find((n) => n.name === 'n6')).toEqual({ name: 'n6', address6: 'fd30::16/64' });
    expect(r.input.blocks).toEqual([{ cidr: 'fd44:6::/122', node: 'n6' }]);
  });

  it('policy pods: status.podIPs first, else IPAM handles; local interface from the handle; CNI pods without an object still appear', () => {
    const pod = (name: string, nodeName: string, ips?: string[]): Resource => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'x', labels: { app: name } }, spec: { nodeName },
      ...(ips ? { status: { podIPs: ips.map((ip) => ({ ip })) } } : {}),
    });
    const s = snap(pod('a', 'n1'), pod('b', 'n2', ['10.9.9.9']), pod('c', 'n2'));
    const handles = [
      handle('k8s-pod-network.cid1.eth0', 'n1', { namespace: 'x', name: 'a' }, '10.0.0.1'),
      handle('k8s-pod-network.cid2.eth0', 'n2', { namespace: 'x', name: 'b' }, '10.0.1.1'),
      handle('k8s-pod-network.cid3.net1', 'n1', { namespace: 'y', name: 'orphan' }, '10.0.0.2'),
      handle('k8s-pod-network.cid4.eth0', 'n2', undefined, '10.0.1.9'),
    ];
    const r = policyInputOf(s, handles, 'n1', (cid, ifName) => `if-${cid}-${ifName}`);
    const byName = new Map(r.snapshot.pods.map((p) => [p.name, p]));
    expect(byName.get('a')).toMatchObject({ ips: ['10.0.0.1'], node: 'n1', interface: 'if-cid1-eth0', labels: { app: 'a' } });
    expect(byName.get('b')).toMatchObject({ ips: ['10.9.9.9'], node: 'n2' });
    expect(byName.get('b')?.interface).toBeUndefined();
    expect(byName.get('c')).toMatchObject({ ips: [], node: 'n2' });
    expect(byName.get('orphan')).toMatchObject({ namespace: 'y', ips: ['10.0.0.2'], node: 'n1', interface: 'if-cid3-net1', labels: {} });
    expect(r.snapshot.pods).toHaveLength(4);
    expect(r.localPods.map((p) => p.name).sort()).toEqual(['a', 'orphan']);
  });

  it("policy pods: a local pod's addresses come from its handles on this node, over a stale status (sandbox re-created, kubelet not caught up); remote pods keep status", () => {
    const pod = (name: string, nodeName: string, ips: string[]): Resource => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'x' }, spec: { nodeName }, status: { phase: 'Running', podIPs: ips.map((ip) => ({ ip })) },
    });
    const s = snap(pod('a', 'n1', ['10.0.0.5']), pod('b', 'n2', ['10.0.1.5']), pod('m', 'n2', ['10.0.1.6']), pod('w', 'n1', ['10.0.0.6']), pod('e', 'n1', ['10.0.0.8']));
    const handles = [
      handle('k8s-pod-network.new.eth0', 'n1', { namespace: 'x', name: 'a' }, '10.0.0.9'), // IPAM gave the new sandbox B; status still says A
      handle('k8s-pod-network.cidb.eth0', 'n2', { namespace: 'x', name: 'b' }, '10.0.1.9'), // remote: status stays
      handle('k8s-pod-network.old.eth0', 'n1', { namespace: 'x', name: 'm' }, '10.0.0.7'), // m now runs on n2; a handle left here is not its address
      { ...handle('k8s-pod-network.cide.eth0', 'n1', { namespace: 'x', name: 'e' }, '10.0.0.8'), addresses: [] }, // a handle holding nothing: status stays
    ];
    const r = policyInputOf(s, handles, 'n1', (cid, ifName) => `if-${cid}-${ifName}`);
    const byName = new Map(r.snapshot.pods.map((p) => [p.name, p]));
    expect(byName.get('a')).toMatchObject({ ips: ['10.0.0.9'], node: 'n1', interface: 'if-new-eth0' });
    expect(r.localPods.find((p) => p.name === 'a')).toEqual({ namespace: 'x', name: 'a', ips: ['10.0.0.9'], interface: 'if-new-eth0' });
    expect(byName.get('b')).toMatchObject({ ips: ['10.0.1.5'], node: 'n2' });
    expect(byName.get('m')).toMatchObject({ ips: ['10.0.1.6'], node: 'n2' });
    expect(byName.get('w')).toMatchObject({ ips: ['10.0.0.6'], node: 'n1' }); // local, no handle (wired before IPAM records): status
    expect(byName.get('e')).toMatchObject({ ips: ['10.0.0.8'], node: 'n1' });
  });

  it('policy pods: with the node\'s interfaces known, a leaked handle of an earlier sandbox (its veth gone) gives neither the interface nor an address', () => {
    const s = snap({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'x' }, spec: { nodeName: 'n1' }, status: { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }] } });
    const handles = [
      handle('k8s-pod-network.aaa.eth0', 'n1', { namespace: 'x', name: 'a' }, '10.0.0.5'), // the earlier sandbox: DEL never ran, its veth is gone
      handle('k8s-pod-network.bbb.eth0', 'n1', { namespace: 'x', name: 'a' }, '10.0.0.9'), // the live one
    ];
    const hostIf = (cid: string, ifName: string): string => `if-${cid}-${ifName}`;
    const live = policyInputOf(s, handles, 'n1', hostIf, new Set(['lo', 'eth0', 'if-bbb-eth0']));
    expect(live.localPods).toEqual([{ namespace: 'x', name: 'a', ips: ['10.0.0.9'], interface: 'if-bbb-eth0' }]);
    // interfaces unknown, or none of the handles' veths there (an ADD under way): every local handle counts, as before
    expect(policyInputOf(s, handles, 'n1', hostIf).localPods).toEqual([{ namespace: 'x', name: 'a', ips: ['10.0.0.5', '10.0.0.9'], interface: 'if-aaa-eth0' }]);
    expect(policyInputOf(s, handles, 'n1', hostIf, new Set(['eth0'])).localPods[0]?.ips).toEqual(['10.0.0.5', '10.0.0.9']);
  });

  it('policy pods: CNI hostIfName wins over the annotation; the annotation names only pods without a CNI handle here', () => {
    const pod = (name: string, iface: string): Resource => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'x', annotations: { 'margay.io/interface': iface } }, spec: { nodeName: 'n1' },
      status: { podIPs: [{ ip: name === 'a' ? '10.0.0.1' : '10.0.0.3' }] },
    });
    // a claims b's veth name through the annotation; c has no CNI handle on this node
    const s = snap(pod('a', 'mgw0000000000b'), pod('c', 'mgw000000000c'));
    const handles = [handle('k8s-pod-network.cid1.eth0', 'n1', { namespace: 'x', name: 'a' }, '10.0.0.1')];
    const r = policyInputOf(s, handles, 'n1', (cid, ifName) => `mgw-${cid}-${ifName}`);
    const byName = new Map(r.snapshot.pods.map((p) => [p.name, p]));
    expect(byName.get('a')?.interface).toBe('mgw-cid1-eth0');
    expect(byName.get('c')?.interface).toBe('mgw000000000c');
    expect(r.localPods.find((p) => p.name === 'a')?.interface).toBe('mgw-cid1-eth0');
  });

  it('VXLAN tunnel addresses come from IPAM handles named after their node; a Node annotation wins', () => {
    const handles = [
      handle(tunnelHandle('vxlan', 'n2'), 'n2', undefined, '10.0.1.7'),
      handle(tunnelHandle('vxlan', 'n2'), 'n3', undefined, '10.0.2.7'), // n3 holding n2's handle name: not n3's address
      handle('k8s-pod-network.cid.eth0', 'n3', undefined, '10.0.2.1'),
    ];
    const tunnels = tunnelAddresses(handles);
    expect([...tunnels]).toEqual([['n2', { vxlan: '10.0.1.7' }]]);
    const s = snap(node('n1', '172.30.0.11/24'), node('n2', '172.30.1.12/24'),
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n3', annotations: { 'margay.io/bgp-ipv4-address': '172.30.0.13/24', 'margay.io/vxlan-tunnel-address': '10.9.9.9' } } });
    const r = dataplaneInputOf({ node: 'n1', nodes: readNodes(s), pools: [], own: [], learned: new Map(), config, tunnels: new Map([...tunnels, ['n3', { vxlan: '10.0.2.9' }]]) });
    expect(r.input.nodes.map((n) => [n.name, n.vxlanTunnelAddress])).toEqual([['n1', undefined], ['n2', '10.0.1.7'], ['n3', '10.9.9.9']]);
    expect(wantedTunnels([{ cidr: '10.0.0.0/16', ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: false }])).toEqual(['vxlan']);
    expect(wantedTunnels([{ cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'Always', natOutgoing: false, disabled: true }])).toEqual([]);
    // an IPv6 pool needs no IPv4 tunnel address (its next hops are VTEP link-locals)
    expect(wantedTunnels([{ cidr: 'fd44::/48', ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: false }])).toEqual([]);
  });

  it('IPIP: a pool in IPIP mode asks for one IPv4 address under ipip-tunnel-addr-<node> from an IPIP pool; IPAM records → the local node\'s ipipTunnelAddress → tunl0 <addr>/32', () => {
    const ipip = { cidr: '10.0.0.0/16', ipipMode: 'CrossSubnet' as const, vxlanMode: 'Never' as const, natOutgoing: false };
    expect(wantedTunnels([ipip])).toEqual(['ipip']);
    expect(tunnelRequests([ipip], 'n1', undefined)).toEqual([{ handle: 'ipip-tunnel-addr-n1', families: [4], encap: 'ipip' }]);
    expect(tunnelRequests([ipip, { ...ipip, cidr: '10.1.0.0/16', ipipMode: 'Never', vxlanMode: 'Always' }], 'n1', { vxlan: '10.1.0.1' }))
      .toEqual([{ handle: 'ipip-tunnel-addr-n1', families: [4], encap: 'ipip' }]);
    expect(tunnelRequests([ipip], 'n1', { ipip: '10.0.0.1' })).toEqual([]); // kept: allocated once
    expect(tunnelRequests([{ ...ipip, disabled: true }, { ...ipip, cidr: 'fd44::/48' }], 'n1', undefined)).toEqual([]);
    expect(tunnelHandles('n1')).toEqual(['vxlan-tunnel-addr-n1', 'ipip-tunnel-addr-n1']);

    const handles = [handle(tunnelHandle('ipip', 'n1'), 'n1', undefined, '10.0.0.1'), handle(tunnelHandle('ipip', 'n2'), 'n2', undefined, '10.0.1.1'),
      handle(tunnelHandle('vxlan', 'n2'), 'n2', undefined, '10.0.1.2')];
    const tunnels = tunnelAddresses(handles);
    expect([...tunnels]).toEqual([['n1', { ipip: '10.0.0.1' }], ['n2', { ipip: '10.0.1.1', vxlan: '10.0.1.2' }]]);
    const s = snap(node('n1', '172.30.0.11/24'), node('n2', '172.30.1.12/24'));
    const { input } = dataplaneInputOf({ node: 'n1', nodes: readNodes(s), pools: [ipip], own: [], learned: new Map(), config, tunnels });
    expect(input.nodes.find((n) => n.name === 'n1')?.ipipTunnelAddress).toBe('10.0.0.1');
    expect(planDataplane(input).ipip?.address).toBe('10.0.0.1/32');
    // without the record: no address on tunl0
    const bare = dataplaneInputOf({ node: 'n1', nodes: readNodes(s), pools: [ipip], own: [], learned: new Map(), config }).input;
    expect(planDataplane(bare).ipip).toBeDefined();
    expect(planDataplane(bare).ipip?.address).toBeUndefined();
  });

  it('the agent\'s tunnel allocation with an IPIP pool: one IPv4 address under ipip-tunnel-addr-<node>, from the IPIP pool, once; no pool selecting the node: skipped', async () => {
    const store = new MemoryIpamStore();
    const ipam = new Ipam({ store, node: 'n1', nodeLabels: { zone: 'a' }, pools: [
      { name: 'plain', spec: { cidr: '10.0.0.0/24' } }, { name: 'ip', spec: { cidr: '10.2.0.0/24', ipipMode: 'Always' } },
      { name: 'v6', spec: { cidr: 'fd44::/120' } },
    ] });
    const pools = [{ cidr: '10.0.0.0/24', ipipMode: 'Never' as const, vxlanMode: 'Never' as const, natOutgoing: false }, { cidr: '10.2.0.0/24', ipipMode: 'Always' as const, vxlanMode: 'Never' as const, natOutgoing: false }];
    const asked: unknown[] = [];
    const assign = (req: Parameters<Ipam['assign']>[0]) => { asked.push(req); return ipam.assign(req); };
    expect(await allocateTunnels(assign, pools, 'n1', undefined)).toEqual([{ kind: 'ipip', addresses: ['10.2.0.0'] }]);
    expect(asked).toEqual([{ handle: 'ipip-tunnel-addr-n1', families: [4], encap: 'ipip' }]);
    const records = (await store.list('handle')).map((r) => r.value);
    expect(records.map((h) => [h.handle, h.addresses.map((a) => `${a.pool} ${a.address}`)])).toEqual([['ipip-tunnel-addr-n1', ['ip 10.2.0.0']]]);
    // the next pass reads it from the records and asks for nothing
    expect(await allocateTunnels(assign, pools, 'n1', tunnelAddresses(records).get('n1'))).toEqual([]);
    expect(asked).toHaveLength(1);
    // the IPIP pool selects other nodes only: skipped with IPAM's reason, not thrown
    const n2 = new Ipam({ store, node: 'n2', nodeLabels: { zone: 'a' }, pools: [
      { name: 'plain', spec: { cidr: '10.0.0.0/24' } }, { name: 'ip', spec: { cidr: '10.2.0.0/24', ipipMode: 'Always', nodeSelector: "zone == 'b'" } },
    ] });
    const out = await allocateTunnels((req) => n2.assign(req), pools, 'n2', undefined);
    expect(out).toEqual([{ kind: 'ipip', skipped: expect.stringMatching(/no enabled IPv4 IPIP IPPool selects node/) }]);
  });

  it('--node-address fills in the local Node\'s BGP address only when the Node object has none', () => {
    const bare: Resource = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { a: 'b' } } };
    const s = snap(bare, node('n2', '172.30.0.12/24'));
    const w = withNodeAddress(s, 'n1', '172.30.0.11/24');
    expect(readNodes(w).map((n) => [n.name, n.address])).toEqual([['n1', '172.30.0.11/24'], ['n2', '172.30.0.12/24']]);
    expect(readNodes(s)[0]?.address).toBeUndefined(); // the original snapshot is untouched
    expect(withNodeAddress(s, 'n2', '10.0.0.1/8')).toBe(s); // an annotated node keeps its own
    expect(withNodeAddress(s, 'zz', '10.0.0.1/8')).toBe(s);
    // a later snapshot with the same Node map (a pod or policy change) gets the same patched map: routing sees no change
    const later = { revision: 2, objects: new Map([...s.objects, ['Pod', new Map()]]) } as typeof s;
    expect(withNodeAddress(later, 'n1', '172.30.0.11/24').objects.get('Node')).toBe(w.objects.get('Node'));
    // another address, or a new Node map: patched again
    expect(withNodeAddress(later, 'n1', '172.30.0.99/24').objects.get('Node')).not.toBe(w.objects.get('Node'));
  });
});

describe('externalImportPrefixes', () => {
  it('accepts from routers only what lies inside the IPPools', () => {
    const c = new ObjectCache();
    c.set({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'v4' }, spec: { cidr: '10.244.0.0/16' } });
    c.set({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'v6' }, spec: { cidr: 'fd44::/48' } });
    expect(externalImportPrefixes(c.snapshot()).sort()).toEqual(['10.244.0.0/16', 'fd44::/48']);
    expect(externalImportPrefixes(new ObjectCache().snapshot())).toEqual([]);
  });
});

describe('node addresses in non-canonical text (FD00:10:0:0::2/64)', () => {
  const pools = [{ cidr: 'fd00:99::/64', vxlanMode: 'Never' as const, ipipMode: 'Never' as const, natOutgoing: false }];
  const learned = new Map([['fd00:99::/122', ['fd00:10::2']]]); // the speaker's next hops are canonical

  it('a BGP next hop in canonical form still names the node (not a router), whatever text its address was given in', () => {
    const nodes = [{ name: 'a', labels: {}, asn: 64512, address6: 'fd00:10::1/64' }, { name: 'b', labels: {}, asn: 64512, address6: 'FD00:10:0:0::2/64' }];
    const r = dataplaneInputOf({ node: 'a', nodes, pools, own: [], learned, config });
    expect(r.input.blocks).toEqual([{ cidr: 'fd00:99::/122', node: 'b' }]);
    expect(r.input.external).toBeUndefined();
  });

  it('end to end from the Node annotation: the address is read canonical and the route goes via fd00:10::2', () => {
    expect(parseAddressPrefix('FD00:10:0:0::2/64', 6)).toBe('fd00:10::2/64');
    const n6 = (name: string, a6: string): Resource => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, annotations: { 'margay.io/bgp-ipv6-address': a6 } } });
    const s = snap(n6('a', 'fd00:10::1/64'), n6('b', 'FD00:10:0:0::2/64'));
    const { input } = dataplaneInputOf({ node: 'a', nodes: readNodes(s), pools, own: [], learned, config });
    expect(planDataplane(input).routes.map((r) => [r.dst, r.nexthops.map((h) => h.gateway)])).toEqual([['fd00:99::/122', ['fd00:10::2']]]);
  });
});

describe('tunnel addresses no tunnelling pool covers any more (its pool switched to Never, disabled or deleted)', () => {
  const v = (cidr: string, vxlanMode: 'Always' | 'CrossSubnet' | 'Never', extra: { disabled?: true; ipipMode?: 'Always' | 'Never' } = {}) =>
    ({ cidr, vxlanMode, ipipMode: extra.ipipMode ?? ('Never' as const), natOutgoing: false, ...(extra.disabled ? { disabled: true as const } : {}) });

  it('the old VXLAN pool deleted after migrating to a new one: the address is asked for again and the old one released', () => {
    expect(tunnelRequests([v('10.2.0.0/16', 'Always')], 'a', { vxlan: '10.1.0.1' })).toEqual([{ handle: 'vxlan-tunnel-addr-a', families: [4], encap: 'vxlan' }]);
    expect(staleTunnels([v('10.2.0.0/16', 'Always')], 'a', { vxlan: '10.1.0.1' })).toEqual([{ kind: 'vxlan', handle: 'vxlan-tunnel-addr-a', address: '10.1.0.1' }]);
  });

  it('switched to Never, or disabled, while another pool tunnels: stale; still covered by a tunnelling pool: kept', () => {
    for (const old of [v('10.1.0.0/16', 'Never'), v('10.1.0.0/16', 'Always', { disabled: true }), v('10.1.0.0/16', 'Never', { ipipMode: 'Always' })]) {
      expect(staleTunnels([old, v('10.2.0.0/16', 'CrossSubnet')], 'a', { vxlan: '10.1.0.1' }).map((x) => x.kind)).toEqual(['vxlan']);
      // (the IPIP pool of the third case also asks for the IPIP address the node lacks)
      expect(tunnelRequests([old, v('10.2.0.0/16', 'CrossSubnet')], 'a', { vxlan: '10.1.0.1' }).map((r) => r.encap)).toEqual(old.ipipMode === 'Always' ? ['vxlan', 'ipip'] : ['vxlan']);
    }
    for (const pools of [[v('10.1.0.0/16', 'CrossSubnet')], [v('10.1.0.0/16', 'Always'), v('10.2.0.0/16', 'Always')]]) {
      expect(staleTunnels(pools, 'a', { vxlan: '10.1.0.1' })).toEqual([]);
      expect(tunnelRequests(pools, 'a', { vxlan: '10.1.0.1' })).toEqual([]); // never released while valid
    }
  });

  it('IPIP the same way; a kind no pool wants any more is kept (nothing to move it to), not released', () => {
    const ip = (cidr: string, ipipMode: 'Always' | 'Never') => v(cidr, 'Never', { ipipMode });
    expect(staleTunnels([ip('10.1.0.0/16', 'Never'), ip('10.2.0.0/16', 'Always')], 'a', { ipip: '10.1.0.1', vxlan: '10.1.0.2' }))
      .toEqual([{ kind: 'ipip', handle: 'ipip-tunnel-addr-a', address: '10.1.0.1' }]);
    expect(staleTunnels([ip('10.2.0.0/16', 'Always')], 'a', { ipip: '10.1.0.1' }).map((x) => x.kind)).toEqual(['ipip']);
    // a VXLAN pool covering the IPIP address does not keep it
    expect(staleTunnels([v('10.1.0.0/16', 'Always'), ip('10.2.0.0/16', 'Always')], 'a', { ipip: '10.1.0.1' }).map((x) => x.kind)).toEqual(['ipip']);
    expect(staleTunnels([v('10.1.0.0/16', 'Never')], 'a', { vxlan: '10.1.0.1', ipip: '10.1.0.2' })).toEqual([]);
    expect(staleTunnels([], 'a', { vxlan: '10.1.0.1' })).toEqual([]);
  });

  it('the agent\'s allocation: releases the stale handle, then assigns one from the tunnelling pool; the record holds only the new address', async () => {
    const store = new MemoryIpamStore();
    const ipam = new Ipam({ store, node: 'a', nodeLabels: {}, pools: [{ name: 'old', spec: { cidr: '10.1.0.0/24', vxlanMode: 'Always' } }] });
    const first = await allocateTunnels((r) => ipam.assign(r), [v('10.1.0.0/24', 'Always')], 'a', undefined, (h) => ipam.release(h));
    expect(first).toEqual([{ kind: 'vxlan', addresses: ['10.1.0.0'] }]);
    ipam.setPools([{ name: 'old', spec: { cidr: '10.1.0.0/24' } }, { name: 'new', spec: { cidr: '10.2.0.0/24', vxlanMode: 'Always' } }]);
    const pools = [v('10.1.0.0/24', 'Never'), v('10.2.0.0/24', 'Always')];
    const released: string[] = [];
    const have = tunnelAddresses((await store.list('handle')).map((r) => r.value)).get('a');
    const out = await allocateTunnels((r) => ipam.assign(r), pools, 'a', have, async (h) => { released.push(h); return ipam.release(h); });
    expect(released).toEqual(['vxlan-tunnel-addr-a']);
    expect(out).toEqual([{ kind: 'vxlan', addresses: ['10.2.0.0'], released: ['10.1.0.0'] }]);
    const records = (await store.list('handle')).map((r) => r.value);
    expect(tunnelAddresses(records).get('a')).toEqual({ vxlan: '10.2.0.0' });
    // valid now: the next pass neither releases nor asks
    expect(await allocateTunnels((r) => ipam.assign(r), pools, 'a', tunnelAddresses(records).get('a'), async (h) => { released.push(h); return []; })).toEqual([]);
    expect(released).toHaveLength(1);
  });

  it('without a release function a stale address is left alone (assign would only return it again, every pass)', async () => {
    const asked: unknown[] = [];
    const out = await allocateTunnels(async (r) => { asked.push(r); return []; }, [v('10.2.0.0/16', 'Always')], 'a', { vxlan: '10.1.0.1' });
    expect(out).toEqual([]);
    expect(asked).toEqual([]);
  });
});

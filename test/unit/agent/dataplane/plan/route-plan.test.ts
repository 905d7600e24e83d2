import { describe, expect, it } from 'vitest';
import { planDataplane } from '../../../../../agent/dataplane/plan/route-plan.js';
import { DEFAULT_CONFIG, type DataplaneInput, type EncapMode, type NodeSpec } from '../../../../../agent/dataplane/plan/types.js';
import { vtepLinkLocal, vtepMac } from '../../../../../agent/dataplane/plan/vtep.js';

const nodes: NodeSpec[] = [
  { name: 'a', address: '10.10.1.11/24', vxlanTunnelAddress: '10.244.1.0', ipipTunnelAddress: '10.244.1.1' },
  { name: 'b', address: '10.10.1.12/24', vxlanTunnelAddress: '10.244.2.0' },
  { name: 'c', address: '10.10.2.13/24', vxlanTunnelAddress: '10.244.3.0' },
];
const input = (vxlan: EncapMode, ipip: EncapMode = 'Never', extra: Partial<DataplaneInput> = {}): DataplaneInput => ({
  localNode: 'a',
  nodes,
  blocks: [{ cidr: '10.244.1.0/26', node: 'a' }, { cidr: '10.244.2.0/26', node: 'b' }, { cidr: '10.244.3.0/26', node: 'c' }],
  pools: [{ cidr: '10.244.0.0/16', vxlanMode: vxlan, ipipMode: ipip, natOutgoing: false }],
  config: { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 },
  ...extra,
});
const hopsByDst = (i: DataplaneInput): Record<string, string> => Object.fromEntries(planDataplane(i).routes.map((r) => [r.dst,
  r.type === 'blackhole' ? 'blackhole' : r.nexthops.map((n) => `${n.gateway} dev ${n.dev}${n.onlink ? ' onlink' : ''}`).join(' + ')]));

describe('desired routes', () => {
  it('own block → blackhole; the rest per mode (rows read: mode → block of b (same subnet), block of c (other subnet))', () => {
    expect(hopsByDst(input('Always'))).toEqual({
      '10.244.1.0/26': 'blackhole',
      '10.244.2.0/26': '10.244.2.0 dev vxlan.margay onlink',
      '10.244.3.0/26': '10.244.3.0 dev vxlan.margay onlink',
    });
    expect(hopsByDst(input('CrossSubnet'))).toEqual({
      '10.244.1.0/26': 'blackhole',
      '10.244.2.0/26': '10.10.1.12 dev eth0',
      '10.244.3.0/26': '10.244.3.0 dev vxlan.margay onlink',
    });
    expect(hopsByDst(input('Never'))).toEqual({ '10.244.1.0/26': 'blackhole', '10.244.2.0/26': '10.10.1.12 dev eth0' });
    expect(hopsByDst(input('Never', 'Always'))).toEqual({
      '10.244.1.0/26': 'blackhole',
      '10.244.2.0/26': '10.10.1.12 dev tunl0 onlink',
      '10.244.3.0/26': '10.10.2.13 dev tunl0 onlink',
    });
    expect(hopsByDst(input('Never', 'CrossSubnet'))).toEqual({
      '10.244.1.0/26': 'blackhole', '10.244.2.0/26': '10.10.1.12 dev eth0', '10.244.3.0/26': '10.10.2.13 dev tunl0 onlink',
    });
  });

  it('names the block that has no path when nothing encapsulates and the fabric does not route pods', () => {
    expect(planDataplane(input('Never')).problems).toEqual(['block 10.244.3.0/26: node c is on another subnet and its pool does not encapsulate']);
    const fabric = input('Never', 'Never', { config: { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500, fabricCarriesPodRoutes: true } });
    expect(planDataplane(fabric).problems).toEqual([]);
    expect(planDataplane(fabric).routes.find((r) => r.dst === '10.244.3.0/26')).toBeUndefined();
  });

  it('makes one ECMP route when several nodes own a block', () => {
    const i = input('Always', 'Never', { blocks: [{ cidr: '10.244.9.0/26', node: 'c' }, { cidr: '10.244.9.0/26', node: 'b' }] });
    expect(hopsByDst(i)).toEqual({ '10.244.9.0/26': '10.244.2.0 dev vxlan.margay onlink + 10.244.3.0 dev vxlan.margay onlink' });
  });

  it('reports unknown owners and nodes without a VXLAN address, and keeps the rest', () => {
    const i = input('Always', 'Never', {
      nodes: [...nodes.slice(0, 2), { name: 'c', address: '10.10.2.13/24' }],
      blocks: [{ cidr: '10.244.2.0/26', node: 'b' }, { cidr: '10.244.3.0/26', node: 'c' }, { cidr: '10.244.4.0/26', node: 'zz' }],
    });
    const plan = planDataplane(i);
    expect(plan.problems).toEqual(['block 10.244.3.0/26: node c has no VXLAN tunnel address', 'block 10.244.4.0/26: owner node zz is unknown']);
    expect(plan.routes.map((r) => r.dst)).toEqual(['10.244.2.0/26']);
    expect(planDataplane({ ...i, localNode: 'nobody' }).problems).toEqual(['local node nobody is not among the nodes']);
  });

  it('plans the VXLAN device 50 below the uplink MTU, with a peer per remote VTEP, and tunl0 20 below', () => {
    const p = planDataplane(input('Always'));
    expect(p.vxlan).toEqual({
      device: 'vxlan.margay', vni: 4096, port: 4789, mtu: 1450, mac: vtepMac('a'), local: '10.10.1.11', address: '10.244.1.0/32',
      peers: [
        { node: 'b', mac: vtepMac('b'), underlay: '10.10.1.12', tunnelAddress: '10.244.2.0' },
        { node: 'c', mac: vtepMac('c'), underlay: '10.10.2.13', tunnelAddress: '10.244.3.0' },
      ],
    });
    expect(p.ipip).toBeUndefined();
    expect(planDataplane(input('Never', 'Always')).ipip).toEqual({ device: 'tunl0', mtu: 1480, address: '10.244.1.1/32' });
    expect(planDataplane(input('Never')).vxlan).toBeUndefined();
  });

  it('derives VTEP MACs from the node name only: stable, locally administered, unicast, distinct', () => {
    expect(vtepMac('a')).toBe(vtepMac('a'));
    expect(vtepMac('a')).not.toBe(vtepMac('b'));
    expect(vtepMac('node-1')).toMatch(/^66(:[0-9a-f]{2}){5}$/);
  });
});

describe('IPv6 blocks', () => {
  const v6nodes: NodeSpec[] = [
    { ...nodes[0] as NodeSpec, address6: 'fd30:1::11/64' },
    { ...nodes[1] as NodeSpec, address6: 'fd30:1::12/64' },
    { ...nodes[2] as NodeSpec },
  ];
  const v6 = (vxlan: EncapMode): DataplaneInput => input(vxlan, 'Never', {
    nodes: v6nodes,
    blocks: [{ cidr: 'fd44:1::/122', node: 'a' }, { cidr: 'fd44:2::/122', node: 'b' }, { cidr: 'fd44:3::/122', node: 'c' }],
    pools: [{ cidr: 'fd44::/16', vxlanMode: vxlan, ipipMode: 'Never', natOutgoing: false }],
  });
  it('go direct over the IPv6 underlay on the same subnet with Never; a node without an IPv6 address then has no path', () => {
    expect(hopsByDst(v6('Never'))).toEqual({ 'fd44:1::/122': 'blackhole', 'fd44:2::/122': 'fd30:1::12 dev eth0' });
    expect(planDataplane(v6('Never')).problems).toEqual(['block fd44:3::/122: node c has no IPv6 address']);
    expect(planDataplane(v6('Never')).vxlan).toBeUndefined();
  });

  // rows: mode → block of b (same IPv6 subnet), block of c (no IPv6 address: only VXLAN reaches it)
  it('VXLAN carries them over the IPv4-underlay device via the owner VTEP link-local (Always; CrossSubnet only where direct is impossible)', () => {
    const llB = vtepLinkLocal(vtepMac('b'));
    const llC = vtepLinkLocal(vtepMac('c'));
    expect(hopsByDst(v6('Always'))).toEqual({ 'fd44:1::/122': 'blackhole', 'fd44:2::/122': `${llB} dev vxlan.margay`, 'fd44:3::/122': `${llC} dev vxlan.margay` });
    expect(hopsByDst(v6('CrossSubnet'))).toEqual({ 'fd44:1::/122': 'blackhole', 'fd44:2::/122': 'fd30:1::12 dev eth0', 'fd44:3::/122': `${llC} dev vxlan.margay` });
    for (const m of ['Always', 'CrossSubnet'] as const) expect(planDataplane(v6(m)).problems).toEqual([]);
    // another IPv6 subnet counts as another subnet, even when the IPv4 subnets are one
    const apart = { ...v6('CrossSubnet'), nodes: [v6nodes[0] as NodeSpec, { ...nodes[1] as NodeSpec, address6: 'fd30:9::12/64' }] };
    expect(hopsByDst(apart)['fd44:2::/122']).toBe(`${llB} dev vxlan.margay`);
    expect(planDataplane(v6('Always')).routes.find((r) => r.dst === 'fd44:3::/122')?.reason).toBe('vxlan to c');
  });

  it('plans a permanent IPv6 neighbour per peer (link-local → VTEP MAC) only when an IPv6 pool encapsulates; peers need no IPv4 tunnel address for it', () => {
    const p = planDataplane(v6('Always')).vxlan;
    expect(p?.peers).toEqual([
      { node: 'b', mac: vtepMac('b'), underlay: '10.10.1.12', tunnelAddress: '10.244.2.0', tunnelAddress6: vtepLinkLocal(vtepMac('b')) },
      { node: 'c', mac: vtepMac('c'), underlay: '10.10.2.13', tunnelAddress: '10.244.3.0', tunnelAddress6: vtepLinkLocal(vtepMac('c')) },
    ]);
    const noTunnels = { ...v6('Always'), nodes: v6nodes.map(({ vxlanTunnelAddress: _t, ...n }) => n) };
    expect(planDataplane(noTunnels).vxlan?.peers.map((x) => [x.node, x.tunnelAddress, x.tunnelAddress6])).toEqual([
      ['b', undefined, vtepLinkLocal(vtepMac('b'))], ['c', undefined, vtepLinkLocal(vtepMac('c'))],
    ]);
    // an IPv4 pool alone: no IPv6 neighbours (the IPv4-only plan is unchanged)
    expect(planDataplane(input('Always')).vxlan?.peers.every((x) => x.tunnelAddress6 === undefined)).toBe(true);
    // dual stack: both pools, each block by its own family
    const dual = v6('Always');
    dual.pools = [...dual.pools, { cidr: '10.244.0.0/16', vxlanMode: 'Always', ipipMode: 'Never', natOutgoing: false }];
    dual.blocks = [...dual.blocks, { cidr: '10.244.3.0/26', node: 'c' }];
    expect(hopsByDst(dual)['10.244.3.0/26']).toBe('10.244.3.0 dev vxlan.margay onlink');
    expect(hopsByDst(dual)['fd44:3::/122']).toBe(`${vtepLinkLocal(vtepMac('c'))} dev vxlan.margay`);
  });

  it('IPIP on an IPv6 pool (validation rejects it) is reported and treated as Never: no tunl0, direct where possible', () => {
    const i = v6('Never');
    i.pools = [{ cidr: 'fd44::/16', vxlanMode: 'Never', ipipMode: 'Always', natOutgoing: false }];
    const plan = planDataplane(i);
    expect(plan.ipip).toBeUndefined();
    expect(hopsByDst(i)['fd44:2::/122']).toBe('fd30:1::12 dev eth0');
    expect(plan.problems.filter((x) => x.includes('IPIP carries IPv4 only'))).toEqual(['pool fd44::/16: IPIP carries IPv4 only; it must use ipipMode Never (treated as Never)']);
  });

  describe('IPv6-only nodes: a second device over the IPv6 underlay (vxlan-v6.margay)', () => {
    // a: dual stack; b: IPv6 only (another IPv6 subnet); c: IPv4 only (another IPv4 subnet)
    const mixed: NodeSpec[] = [
      { name: 'a', address: '10.10.1.11/24', address6: 'fd30:1::11/64', vxlanTunnelAddress: '10.244.1.0' },
      { name: 'b', address6: 'fd30:2:0::12/64' },
      { name: 'c', address: '10.10.2.13/24', vxlanTunnelAddress: '10.244.3.0' },
    ];
    const at = (localNode: string, vxlan: EncapMode = 'Always'): DataplaneInput => input(vxlan, 'Never', {
      localNode, nodes: mixed,
      blocks: [
        { cidr: 'fd44:1::/122', node: 'a' }, { cidr: 'fd44:2::/122', node: 'b' }, { cidr: 'fd44:3::/122', node: 'c' },
        { cidr: '10.244.1.0/26', node: 'a' }, { cidr: '10.244.2.0/26', node: 'b' }, { cidr: '10.244.3.0/26', node: 'c' },
      ],
      pools: [{ cidr: '10.244.0.0/16', vxlanMode: vxlan, ipipMode: 'Never', natOutgoing: false }, { cidr: 'fd44::/16', vxlanMode: vxlan, ipipMode: 'Never', natOutgoing: false }],
    });
    const ll = (n: string): string => vtepLinkLocal(vtepMac(n));

    it('on a dual-stack node: IPv6 blocks of an IPv6-only node via its VTEP link-local on vxlan-v6.margay, of an IPv4 node on vxlan.margay', () => {
      const plan = planDataplane(at('a'));
      expect(hopsByDst(at('a'))).toMatchObject({
        'fd44:2::/122': `${ll('b')} dev vxlan-v6.margay`, 'fd44:3::/122': `${ll('c')} dev vxlan.margay`, '10.244.3.0/26': '10.244.3.0 dev vxlan.margay onlink',
      });
      expect(plan.routes.find((r) => r.dst === 'fd44:2::/122')?.reason).toBe('vxlan to b (IPv6 underlay)');
      expect(plan.problems).toEqual(['block 10.244.2.0/26: node b has no IPv4 address']);
      expect(plan.vxlan6).toEqual({
        device: 'vxlan-v6.margay', vni: 4096, port: 4789, mtu: 1430, mac: vtepMac('a'), local: 'fd30:1::11',
        peers: [{ node: 'b', mac: vtepMac('b'), underlay: 'fd30:2::12', tunnelAddress6: ll('b') }],
      });
      expect(plan.vxlan?.peers.map((p) => p.node)).toEqual(['c']);
    });

    it('on an IPv6-only node: no IPv4 device, the IPv6 device toward every node with an IPv6 address; others are reported', () => {
      const plan = planDataplane(at('b'));
      expect(plan.vxlan).toBeUndefined();
      expect(plan.vxlan6?.local).toBe('fd30:2::12');
      expect(plan.vxlan6?.peers.map((p) => [p.node, p.underlay])).toEqual([['a', 'fd30:1::11']]);
      expect(hopsByDst(at('b'))['fd44:1::/122']).toBe(`${ll('a')} dev vxlan-v6.margay`);
      expect(plan.problems).toEqual([
        'block fd44:3::/122: nodes b and c share no underlay address family for VXLAN',
        'block 10.244.1.0/26: node b has no IPv4 address',
        'block 10.244.3.0/26: node b has no IPv4 address',
      ]);
    });

    it('no IPv6-underlay device where every peer is reachable over IPv4, or where no IPv6 pool encapsulates', () => {
      expect(planDataplane(v6('Always')).vxlan6).toBeUndefined();
      expect(planDataplane(at('a', 'Never')).vxlan6).toBeUndefined();
    });
  });

  it('VTEP link-local addresses are the kernel\'s EUI-64 of the MAC (U/L bit flipped, ff:fe in the middle)', () => {
    expect(vtepLinkLocal('66:8b:3b:ba:2a:13')).toBe('fe80::648b:3bff:feba:2a13');
    expect(vtepLinkLocal('9a:83:3b:ba:2a:13')).toBe('fe80::9883:3bff:feba:2a13');
    expect(vtepLinkLocal('02:00:00:00:00:01')).toBe('fe80::ff:fe00:1'); // RFC 5952 text (zero groups compressed)
    expect(() => vtepLinkLocal('66:8b')).toThrow(/bad MAC/);
  });
});

describe('learned routes via a router that is no node (a top-of-rack switch)', () => {
  // local node a is 10.10.1.11/24: the ToR 10.10.1.1 is on its subnet, 10.10.9.1 is not
  const tor = (external: DataplaneInput['external'], vxlan: EncapMode = 'Never'): DataplaneInput =>
    input(vxlan, 'Never', { blocks: [{ cidr: '10.244.1.0/26', node: 'a' }], external });

  it('a next hop on the local subnet → a plain unicast route via it on the uplink (no onlink), reason naming the router', () => {
    const i = tor([{ cidr: '10.244.2.0/26', nextHops: ['10.10.1.1'] }, { cidr: '192.0.2.0/24', nextHops: ['10.10.1.1'] }]);
    expect(hopsByDst(i)).toEqual({ '10.244.1.0/26': 'blackhole', '10.244.2.0/26': '10.10.1.1 dev eth0', '192.0.2.0/24': '10.10.1.1 dev eth0' });
    const plan = planDataplane(i);
    expect(plan.problems).toEqual([]);
    expect(plan.routes.find((r) => r.dst === '10.244.2.0/26')).toEqual({
      dst: '10.244.2.0/26', type: 'unicast', nexthops: [{ gateway: '10.10.1.1', dev: 'eth0', onlink: false, weight: 1 }], reason: 'via router 10.10.1.1',
    });
  });

  it('several routers → one ECMP route', () => {
    expect(hopsByDst(tor([{ cidr: '10.244.2.0/26', nextHops: ['10.10.1.2', '10.10.1.1', '10.10.1.2'] }]))['10.244.2.0/26'])
      .toBe('10.10.1.1 dev eth0 + 10.10.1.2 dev eth0');
  });

  it('a next hop not on the local subnet is not programmed and is reported as not directly reachable; reachable ones of the same route stay', () => {
    const plan = planDataplane(tor([{ cidr: '10.244.2.0/26', nextHops: ['10.10.9.1'] }, { cidr: '10.244.3.0/26', nextHops: ['10.10.9.1', '10.10.1.1'] }]));
    expect(plan.routes.map((r) => [r.dst, r.nexthops.map((n) => n.gateway)])).toEqual([['10.244.1.0/26', []], ['10.244.3.0/26', ['10.10.1.1']]]);
    const why = "next hop is no node of the cluster and not on this node's subnet (10.10.1.11/24), so not directly reachable; not programmed (recursive next hops are not resolved)";
    expect(plan.problems).toEqual([`route 10.244.2.0/26 via 10.10.9.1: ${why}`, `route 10.244.3.0/26 via 10.10.9.1: ${why}`]);
  });

  it('reports a next hop that is this node, or of the other family; an own block is never overridden', () => {
    const plan = planDataplane(tor([
      { cidr: '10.244.2.0/26', nextHops: ['10.10.1.11'] }, { cidr: '10.244.3.0/26', nextHops: ['fd30:1::1'] }, { cidr: '10.244.1.0/26', nextHops: ['10.10.1.1'] },
    ]));
    expect(hopsByDst({ ...tor([{ cidr: '10.244.1.0/26', nextHops: ['10.10.1.1'] }]) })).toEqual({ '10.244.1.0/26': 'blackhole' });
    expect(plan.routes.map((r) => r.dst)).toEqual(['10.244.1.0/26']);
    expect(plan.problems).toEqual([
      'route 10.244.2.0/26 via 10.10.1.11: the next hop is this node itself; not programmed',
      'route 10.244.3.0/26 via fd30:1::1: an IPv6 next hop for an IPv4 prefix is not supported; not programmed',
    ]);
  });

  it('IPv6: via a router on the IPv6 subnet; a node without an IPv6 address reports it', () => {
    const withV6 = { ...tor([{ cidr: 'fd44:2::/122', nextHops: ['fd30:1::1'] }]), nodes: [{ ...nodes[0] as NodeSpec, address6: 'fd30:1::11/64' }, ...nodes.slice(1)] };
    expect(hopsByDst(withV6)['fd44:2::/122']).toBe('fd30:1::1 dev eth0');
    expect(planDataplane(tor([{ cidr: 'fd44:2::/122', nextHops: ['fd30:1::1'] }])).problems)
      .toEqual(['route fd44:2::/122 via fd30:1::1: node a has no IPv6 address; not programmed']);
  });

  it('mixed: node next hops keep their encapsulation and merge with router next hops into one ECMP route', () => {
    const i = input('CrossSubnet', 'Never', {
      blocks: [{ cidr: '10.244.9.0/26', node: 'b' }, { cidr: '10.244.9.0/26', node: 'c' }],
      external: [{ cidr: '10.244.9.0/26', nextHops: ['10.10.1.1'] }],
    });
    expect(hopsByDst(i)).toEqual({ '10.244.9.0/26': '10.10.1.1 dev eth0 + 10.10.1.12 dev eth0 + 10.244.3.0 dev vxlan.margay onlink' });
    expect(planDataplane(i).routes[0]?.reason).toBe('direct to b, vxlan to c, via router 10.10.1.1');
    expect(planDataplane(i).vxlan).toBeDefined();
  });
});

describe('disabled pools (disabled only stops new allocations; pool migration disables the old pool while its pods run)', () => {
  const fresh = { cidr: '172.16.0.0/16', vxlanMode: 'Never', ipipMode: 'Never', natOutgoing: false } as const;
  const migrating = (vxlan: EncapMode, ipip: EncapMode): DataplaneInput => input(vxlan, ipip, {
    pools: [{ cidr: '10.244.0.0/16', vxlanMode: vxlan, ipipMode: ipip, natOutgoing: false, disabled: true }, fresh],
  });

  it('a disabled VXLAN pool with a remote block still plans vxlan: the device, its peers and the route through it', () => {
    const i = migrating('Always', 'Never');
    const plan = planDataplane(i);
    expect(hopsByDst(i)['10.244.3.0/26']).toBe('10.244.3.0 dev vxlan.margay onlink');
    expect(plan.vxlan?.device).toBe('vxlan.margay');
    expect(plan.vxlan?.peers.map((p) => `${p.node} ${p.underlay} ${p.tunnelAddress ?? ''}`)).toEqual(['b 10.10.1.12 10.244.2.0', 'c 10.10.2.13 10.244.3.0']);
    expect(plan.ipip).toBeUndefined();
    expect(plan.problems).toEqual([]);
  });

  it('a disabled IPIP pool with a remote block still plans ipip: tunl0 stays, the route goes through it', () => {
    const i = migrating('Never', 'Always');
    const plan = planDataplane(i);
    expect(hopsByDst(i)['10.244.3.0/26']).toBe('10.10.2.13 dev tunl0 onlink');
    expect(plan.ipip).toEqual({ device: 'tunl0', mtu: 1480, address: '10.244.1.1/32' });
    expect(plan.vxlan).toBeUndefined();
  });

  it('a disabled IPv6 VXLAN pool still plans the IPv6 neighbours its routes need', () => {
    const dual = nodes.map((n, k) => ({ ...n, address6: `fd00:10::${k + 1}/64` }));
    const i = input('Never', 'Never', {
      nodes: dual,
      blocks: [{ cidr: 'fd44::/122', node: 'c' }],
      pools: [{ cidr: 'fd44::/48', vxlanMode: 'Always', ipipMode: 'Never', natOutgoing: false, disabled: true }],
    });
    const plan = planDataplane(i);
    expect(hopsByDst(i)['fd44::/122']).toBe(`${vtepLinkLocal(vtepMac('c'))} dev vxlan.margay`);
    expect(plan.vxlan?.peers.find((p) => p.node === 'c')?.tunnelAddress6).toBe(vtepLinkLocal(vtepMac('c')));
  });
});

describe('node addresses in non-canonical text', () => {
  it('a direct IPv6 route goes via the owner\'s address in canonical form (the kernel reports fd00:10::2; anything else replaces the route every pass)', () => {
    const i: DataplaneInput = {
      localNode: 'a',
      nodes: [{ name: 'a', address6: 'fd00:10::1/64' }, { name: 'b', address6: 'FD00:10:0:0::2/64' }],
      blocks: [{ cidr: 'fd00:99::/122', node: 'b' }],
      pools: [{ cidr: 'fd00:99::/64', vxlanMode: 'Never', ipipMode: 'Never', natOutgoing: false }],
      config: { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 },
    };
    expect(planDataplane(i).routes.map((r) => r.nexthops.map((n) => n.gateway))).toEqual([['fd00:10::2']]);
  });
});

import { describe, expect, it } from 'vitest';
import { ObjectCache, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import { planNodeBgp } from '../../../../agent/node-config/node-config.js';
import { parseDuration, parseAddressPrefix } from '../../../../agent/node-config/node-info.js';

const node = (name: string, addr: string, opts: { labels?: Record<string, string>; ann?: Record<string, string> } = {}): Resource => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, labels: opts.labels ?? {}, annotations: { 'margay.io/bgp-ipv4-address': addr, ...(opts.ann ?? {}) } },
});
const bgpConfig = (name: string, spec: object): Resource => ({ apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name }, spec });
const bgpPeer = (name: string, spec: object): Resource => ({ apiVersion: 'margay.io/v1', kind: 'BGPPeer', metadata: { name }, spec });

function snap(...objs: Resource[]): Snapshot {
  const c = new ObjectCache();
  for (const o of objs) c.set(o);
  return c.snapshot();
}

const three = [node('n1', '172.30.0.11/24'), node('n2', '172.30.0.12/24'), node('n3', '172.30.0.13/24')];

describe('node-config: defaults and the node-to-node mesh', () => {
  it('defaults: AS 64512, mesh on, port 179, router ID = the IPv4 address', () => {
    const p = planNodeBgp(snap(...three), 'n2');
    expect(p.problems).toEqual([]);
    expect(p.local).toMatchObject({ name: 'n2', asn: 64512, meshEnabled: true, listenPort: 179, routerId: '172.30.0.12', address: '172.30.0.12/24' });
    expect(p.peers.map((x) => [x.address, x.type, x.asn, x.port])).toEqual([
      ['172.30.0.11', 'node-to-node mesh', 64512, 179],
      ['172.30.0.13', 'node-to-node mesh', 64512, 179],
    ]);
  });

  it('exactly one side of every pair is active: the node with the higher address is passive toward the lower', () => {
    const nodes = [node('a', '10.0.0.9/24'), node('b', '10.0.0.10/24'), node('c', '10.0.0.100/24'), node('d', '10.0.1.2/24')];
    const s = snap(...nodes);
    const plans = new Map(nodes.map((n) => [n.metadata.name, planNodeBgp(s, n.metadata.name)]));
    for (const x of nodes) {
      for (const y of nodes) {
        if (x === y) continue;
        const xy = plans.get(x.metadata.name)!.peers.find((p) => p.node === y.metadata.name)!;
        const yx = plans.get(y.metadata.name)!.peers.find((p) => p.node === x.metadata.name)!;
        expect(xy.passive !== yx.passive, `${x.metadata.name}↔${y.metadata.name}`).toBe(true);
      }
    }
    // numeric, not textual, order: 10.0.0.9 < 10.0.0.10 < 10.0.0.100
    expect(plans.get('a')!.peers.every((p) => !p.passive)).toBe(true);
    expect(plans.get('b')!.peers.find((p) => p.node === 'a')!.passive).toBe(true);
    expect(plans.get('b')!.peers.find((p) => p.node === 'c')!.passive).toBe(false);
  });

  it('BGPConfiguration sets AS, port and service IPs; node.NAME overrides for that node; mesh off removes mesh peers', () => {
    const s = snap(...three, bgpConfig('default', { asNumber: 65000, listenPort: 1179, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }),
      bgpConfig('node.n1', { asNumber: 65001 }));
    const p1 = planNodeBgp(s, 'n1');
    expect(p1.local).toMatchObject({ asn: 65001, listenPort: 1179, serviceClusterIPs: ['10.96.0.0/12'] });
    expect(p1.peers.map((x) => [x.asn, x.port])).toEqual([[65000, 1179], [65000, 1179]]);
    expect(planNodeBgp(s, 'n2').local?.asn).toBe(65000);
    expect(planNodeBgp(s, 'n2').local?.logLevel).toBeUndefined();
    expect(planNodeBgp(snap(...three, bgpConfig('default', { logSeverityScreen: 'Warning' })), 'n2').local?.logLevel).toBe('warn');
    const capped = planNodeBgp(snap(...three, bgpConfig('default', { nodeMeshMaxRestartTime: '30s' })), 'n2');
    expect(capped.peers.map((p) => p.maxRestartTime)).toEqual([30, 30]);
    const off = planNodeBgp(snap(...three, bgpConfig('default', { nodeToNodeMeshEnabled: false })), 'n1');
    expect(off.peers).toEqual([]);
  });

  it('the agent\'s defaults (flags / chart values) apply when no BGPConfiguration says otherwise', () => {
    const defaults = { asn: 65500, meshEnabled: false, listenPort: 1790 };
    const p = planNodeBgp(snap(...three), 'n1', defaults);
    expect(p.local).toMatchObject({ asn: 65500, meshEnabled: false, listenPort: 1790 });
    expect(p.peers).toEqual([]);
    const q = planNodeBgp(snap(...three, bgpConfig('default', { asNumber: 65000, nodeToNodeMeshEnabled: true })), 'n1', defaults);
    expect(q.local).toMatchObject({ asn: 65000, meshEnabled: true, listenPort: 1790 });
    expect(q.peers.map((x) => [x.asn, x.port])).toEqual([[65000, 1790], [65000, 1790]]);
  });

  it('annotations: per-node AS (and peers see it), router ID, bad values are problems and fall back', () => {
    const s = snap(node('n1', '172.30.0.11/24', { ann: { 'margay.io/as-number': '65101', 'margay.io/router-id': '1.1.1.1' } }),
      node('n2', '172.30.0.12/24', { ann: { 'margay.io/as-number': 'x' } }));
    const p1 = planNodeBgp(s, 'n1');
    expect(p1.local).toMatchObject({ asn: 65101, routerId: '1.1.1.1' });
    const p2 = planNodeBgp(s, 'n2');
    expect(p2.local?.asn).toBe(64512);
    expect(p2.peers[0]).toMatchObject({ address: '172.30.0.11', asn: 65101 });
    expect(p2.problems.join('\n')).toContain('margay.io/as-number');
  });

  it('an InternalIP is used without the annotation; an unknown node or one without address has no peers', () => {
    const n: Resource = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'k1' }, status: { addresses: [{ type: 'Hostname', address: 'k1' }, { type: 'InternalIP', address: '192.168.1.5' }] } };
    expect(planNodeBgp(snap(n, ...three), 'k1').local?.address).toBe('192.168.1.5/32');
    expect(planNodeBgp(snap(...three), 'zz').problems.join()).toContain('not in the datastore');
    const bare: Resource = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'b' } };
    expect(planNodeBgp(snap(bare, ...three), 'b')).toMatchObject({ peers: [] });
  });

  it('dual-stack nodes carry both families on the IPv4 session', () => {
    const a = node('a', '10.0.0.1/24', { ann: { 'margay.io/bgp-ipv6-address': 'fd00::1/64' } });
    const b = node('b', '10.0.0.2/24', { ann: { 'margay.io/bgp-ipv6-address': 'fd00::2/64' } });
    expect(planNodeBgp(snap(a, b), 'a').peers[0]?.families).toEqual(['ipv4', 'ipv6']);
    expect(planNodeBgp(snap(a, node('c', '10.0.0.3/24')), 'a').peers[0]?.families).toEqual(['ipv4']);
  });
});

describe('node-config: BGPPeer', () => {
  const rrNodes = [
    node('rr', '172.30.0.10/24', { labels: { 'route-reflector': 'true' }, ann: { 'margay.io/route-reflector-cluster-id': '224.0.0.1' } }),
    ...three,
  ];
  const rrPeer = bgpPeer('rr', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" });
  const meshOff = bgpConfig('default', { nodeToNodeMeshEnabled: false });

  it('route reflector topology: clients peer with the RR only; the RR peers back with every client and marks them clients', () => {
    const s = snap(...rrNodes, rrPeer, meshOff);
    const rr = planNodeBgp(s, 'rr');
    expect(rr.local?.clusterId).toBe('224.0.0.1');
    expect(rr.peers.map((p) => [p.address, p.type, p.routeReflectorClient, p.passive])).toEqual([
      ['172.30.0.11', 'route reflector', true, false],
      ['172.30.0.12', 'route reflector', true, false],
      ['172.30.0.13', 'route reflector', true, false],
    ]);
    const c = planNodeBgp(s, 'n2');
    expect(c.peers.map((p) => [p.address, p.type, p.routeReflectorClient, p.passive, p.source])).toEqual([
      ['172.30.0.10', 'route reflector', false, true, 'BGPPeer rr'],
    ]);
  });

  it('two reflectors of one cluster are not each other\'s clients', () => {
    const rr2 = node('rr2', '172.30.0.9/24', { labels: { 'route-reflector': 'true' }, ann: { 'margay.io/route-reflector-cluster-id': '224.0.0.1' } });
    const p = planNodeBgp(snap(...rrNodes, rr2, rrPeer, meshOff), 'rr');
    expect(p.peers.find((x) => x.node === 'rr2')).toMatchObject({ routeReflectorClient: false, passive: true });
  });

  it('global, per-node and nodeSelector peers with peerIP; password, keepOriginalNextHop, maxRestartTime', () => {
    const s = snap(...[node('n1', '172.30.0.11/24', { labels: { rack: 'r1' } }), node('n2', '172.30.0.12/24', { labels: { rack: 'r2' } })],
      meshOff,
      bgpPeer('tor-all', { peerIP: '172.30.0.1', asNumber: 65010, password: { value: 's3cret' }, maxRestartTime: '2m' }),
      bgpPeer('tor-r1', { nodeSelector: "rack == 'r1'", peerIP: '172.30.0.2', asNumber: 65011, keepOriginalNextHop: true }),
      bgpPeer('just-n2', { node: 'n2', peerIP: 'fd30::1', asNumber: 65012, password: { secretKeyRef: { name: 's', key: 'k' } } }));
    const p1 = planNodeBgp(s, 'n1');
    expect(p1.peers.map((p) => [p.address, p.type, p.asn])).toEqual([['172.30.0.1', 'global', 65010], ['172.30.0.2', 'node-specific', 65011]]);
    expect(p1.peers[0]).toMatchObject({ password: { value: 's3cret' }, maxRestartTime: 120, keepOriginalNextHop: false, passive: false });
    expect(p1.peers[1]).toMatchObject({ keepOriginalNextHop: true });
    const p2 = planNodeBgp(s, 'n2');
    expect(p2.peers.map((p) => [p.address, p.type, p.families])).toEqual([['172.30.0.1', 'global', ['ipv4']], ['fd30::1', 'node-specific', ['ipv6']]]);
    expect(p2.peers[1]?.password).toEqual({ secretKeyRef: { name: 's', key: 'k' } });
  });

  it('one session per address: an explicit BGPPeer to another node wins over the mesh and keeps the passive rule', () => {
    const s = snap(...three, bgpPeer('to-n3', { node: 'n1', peerIP: '172.30.0.13', asNumber: 64512, password: { value: 'pw' } }));
    const p1 = planNodeBgp(s, 'n1');
    expect(p1.peers.filter((p) => p.address === '172.30.0.13')).toHaveLength(1);
    expect(p1.peers.find((p) => p.address === '172.30.0.13')).toMatchObject({ type: 'node-specific', node: 'n3', passive: false, password: { value: 'pw' } });
  });

  it('a bad selector is a problem naming the object, and other peers still apply', () => {
    const s = snap(...three, meshOff, bgpPeer('bad', { nodeSelector: 'rack ==', peerIP: '1.2.3.4', asNumber: 1 }), bgpPeer('ok', { peerIP: '1.2.3.5', asNumber: 2 }));
    const p = planNodeBgp(s, 'n1');
    expect(p.problems.join()).toContain('BGPPeer bad: nodeSelector');
    expect(p.peers.map((x) => x.address)).toEqual(['1.2.3.5']);
  });
});

describe('node-config: parsing helpers', () => {
  it('durations and address prefixes', () => {
    expect(parseDuration('120s')).toBe(120);
    expect(parseDuration('1m30s')).toBe(90);
    expect(parseDuration('1.5h')).toBe(5400);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseAddressPrefix('10.0.0.1', 4)).toBe('10.0.0.1/32');
    expect(parseAddressPrefix('10.0.0.1/33', 4)).toBeUndefined();
    expect(parseAddressPrefix('fd00::1/64', 4)).toBeUndefined();
  });
});

const node6 = (name: string, addr6: string, id: string): Resource => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, labels: {}, annotations: { 'margay.io/bgp-ipv6-address': addr6, 'margay.io/router-id': id } },
});

describe('node-config: addresses compared in canonical form', () => {
  it('a BGPPeer peerIP written fd30:0:0::12 and the node fd30::12 are one session, planned at the canonical address', () => {
    const s = snap(node6('n1', 'fd30::11/64', '1.1.1.1'), node6('n2', 'fd30::12/64', '1.1.1.2'),
      bgpPeer('p', { peerIP: 'fd30:0:0::12', asNumber: 64512, keepOriginalNextHop: true }));
    const p = planNodeBgp(s, 'n1');
    expect(p.peers.map((x) => [x.address, x.source, x.node])).toEqual([['fd30::12', 'BGPPeer p', 'n2']]);
  });

  it('an upper-case node annotation FD30::12/64 and a peerIP fd30::12 are one session; the node address is canonical', () => {
    const s = snap(node6('n1', 'fd30::11/64', '1.1.1.1'), node6('n2', 'FD30:0::12/64', '1.1.1.2'),
      bgpPeer('p', { peerIP: 'fd30::12', asNumber: 64512 }));
    const p = planNodeBgp(s, 'n1');
    expect(p.peers.map((x) => [x.address, x.source, x.node])).toEqual([['fd30::12', 'BGPPeer p', 'n2']]);
    expect(planNodeBgp(s, 'n2').local?.address6).toBe('fd30::12/64');
  });

  it('a peerIP that is not an address is a problem naming the BGPPeer, not a session', () => {
    const p = planNodeBgp(snap(...three, bgpPeer('typo', { peerIP: '10.0.0.300', asNumber: 65000 })), 'n1');
    expect(p.peers.map((x) => x.address)).toEqual(['172.30.0.12', '172.30.0.13']);
    expect(p.problems).toEqual(['BGPPeer typo: peerIP "10.0.0.300" is not an IP address or IPv4:port / [IPv6]:port']);
  });
});

describe('node-config: a BGPPeer to the node\'s own address', () => {
  it('is skipped on that node (said in `skipped`, not a problem); other nodes peer with it', () => {
    const s = snap(node('n1', '172.30.0.11/24', { ann: { 'margay.io/route-reflector-cluster-id': '244.0.0.1' } }), node('n2', '172.30.0.12/24'),
      bgpConfig('default', { nodeToNodeMeshEnabled: false }), bgpPeer('to-rr', { peerIP: '172.30.0.11', asNumber: 64512 }));
    const p1 = planNodeBgp(s, 'n1');
    expect(p1.peers).toEqual([]);
    expect(p1.problems).toEqual([]);
    expect(p1.skipped).toEqual(['BGPPeer to-rr: peerIP 172.30.0.11 is this node\'s own address']);
    expect(planNodeBgp(s, 'n2').peers.map((x) => [x.address, x.node])).toEqual([['172.30.0.11', 'n1']]);
    expect(planNodeBgp(s, 'n2').skipped).toBeUndefined();
  });

  it('IPv6: the node\'s own address in another text form is skipped too', () => {
    const s = snap(node6('n1', 'fd30::11/64', '1.1.1.1'), node6('n2', 'fd30::12/64', '1.1.1.2'), bgpPeer('p', { peerIP: 'FD30:0::12', asNumber: 64512 }));
    expect(planNodeBgp(s, 'n2').peers.map((x) => x.address)).toEqual(['fd30::11']);
    expect(planNodeBgp(s, 'n1').peers.map((x) => [x.address, x.source])).toEqual([['fd30::12', 'BGPPeer p']]);
  });
});

describe('node-config: the port of a peer that is a node', () => {
  it('is that node\'s own listenPort (node.NAME over default): mesh, peerSelector and a BGPPeer at its address', () => {
    const objs = [...three, bgpConfig('default', { listenPort: 1179 }), bgpConfig('node.n2', { listenPort: 1790 })];
    const mesh = snap(...objs);
    expect(planNodeBgp(mesh, 'n2').local?.listenPort).toBe(1790);
    expect(planNodeBgp(mesh, 'n1').peers.map((x) => [x.address, x.port])).toEqual([['172.30.0.12', 1790], ['172.30.0.13', 1179]]);
    expect(planNodeBgp(mesh, 'n2').peers.map((x) => [x.address, x.port])).toEqual([['172.30.0.11', 1179], ['172.30.0.13', 1179]]);
    const sel = snap(...objs, bgpConfig('default', { listenPort: 1179, nodeToNodeMeshEnabled: false }),
      bgpPeer('all', { peerSelector: 'all()' }), bgpPeer('ext', { peerIP: '172.30.0.12', asNumber: 64512, node: 'n3' }));
    expect(planNodeBgp(sel, 'n1').peers.map((x) => [x.address, x.port])).toEqual([['172.30.0.12', 1790], ['172.30.0.13', 1179]]);
    expect(planNodeBgp(sel, 'n3').peers.map((x) => [x.address, x.source, x.port])).toEqual([['172.30.0.11', 'BGPPeer all', 1179], ['172.30.0.12', 'BGPPeer ext', 1790]]);
  });
});

describe('planNodeBgp: PEER TYPE is derived the same way for peerSelector and peerIP', () => {
  const meshOff = bgpConfig('default', { nodeToNodeMeshEnabled: false });
  const rr = node('rr', '172.30.0.9/24', { labels: { rr: 'y' }, ann: { 'margay.io/route-reflector-cluster-id': '224.0.0.1' } });
  const types = (s: Snapshot, n: string): [string, string][] => planNodeBgp(s, n).peers.map((p) => [p.address, p.type]);

  it('a global BGPPeer (no node, no nodeSelector) with a peerSelector is global, not node-specific', () => {
    const s = snap(...three, meshOff, bgpPeer('g', { peerSelector: 'all()' }));
    expect(types(s, 'n1')).toEqual([['172.30.0.12', 'global'], ['172.30.0.13', 'global']]);
  });

  it('a BGPPeer with nodeSelector or node and a peerSelector stays node-specific', () => {
    expect(types(snap(...three, meshOff, bgpPeer('s', { nodeSelector: 'all()', peerSelector: 'all()' })), 'n1'))
      .toEqual([['172.30.0.12', 'node-specific'], ['172.30.0.13', 'node-specific']]);
    expect(types(snap(...three, meshOff, bgpPeer('s', { node: 'n1', peerSelector: 'all()' })), 'n1'))
      .toEqual([['172.30.0.12', 'node-specific'], ['172.30.0.13', 'node-specific']]);
  });

  it('a global BGPPeer naming a reflector node by peerIP is a route reflector session, as the same session by peerSelector', () => {
    const byIp = snap(...three, rr, meshOff, bgpPeer('g', { peerIP: '172.30.0.9', asNumber: 64512 }));
    const bySel = snap(...three, rr, meshOff, bgpPeer('g', { peerSelector: "rr == 'y'" }));
    expect(types(byIp, 'n1')).toEqual([['172.30.0.9', 'route reflector']]);
    expect(types(bySel, 'n1')).toEqual(types(byIp, 'n1'));
    // the reflector's side of the peerIP BGPPeer: its own address, no session; by peerSelector, every client
    expect(types(bySel, 'rr')).toEqual([['172.30.0.11', 'route reflector'], ['172.30.0.12', 'route reflector'], ['172.30.0.13', 'route reflector']]);
  });

  it('an external peerIP (no node) stays global or node-specific, even on a reflector', () => {
    const s = snap(...three, rr, meshOff, bgpPeer('up', { peerIP: '172.30.0.1', asNumber: 65010 }), bgpPeer('sp', { peerIP: '172.30.0.2', asNumber: 65011, node: 'rr' }));
    expect(types(s, 'rr')).toEqual([['172.30.0.1', 'global'], ['172.30.0.2', 'node-specific']]);
  });
});

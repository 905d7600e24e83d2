/**
 * Values node-config reads from text: router ID and cluster ID annotations (strict
 * dotted quads), AS numbers (plain and AS-dot, RFC 5396) and BGPPeer peerIP with an
 * optional port (Calico: "IPv4:port", "[IPv6]:port").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ObjectCache, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import { planNodeBgp } from '../../../../agent/node-config/node-config.js';
import { parseAsn, parsePeerIP } from '../../../../agent/node-config/node-info.js';
import { validateObject } from '../../../../crds/schemas.js';

const node = (name: string, addr: string, ann: Record<string, string> = {}): Resource => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: {}, annotations: { 'margay.io/bgp-ipv4-address': addr, ...ann } },
});
const bgpConfig = (name: string, spec: object): Resource => ({ apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name }, spec });
const bgpPeer = (name: string, spec: object): Resource => ({ apiVersion: 'margay.io/v1', kind: 'BGPPeer', metadata: { name }, spec });

function snap(...objs: Resource[]): Snapshot {
  const c = new ObjectCache();
  for (const o of objs) c.set(o);
  return c.snapshot();
}

describe('node-config: router ID and cluster ID annotations are strict dotted quads', () => {
  it.each(['010.0.0.1', '10.0.0.01', '10.00.0.1', '0.0.0.0', 'fd00::1', '::ffff:10.0.0.9', '10.0.0', '10.0.0.256', 'abc'])(
    'router ID "%s" is refused with a problem naming the annotation; the IPv4 address is used', (rid) => {
      const p = planNodeBgp(snap(node('n1', '172.30.0.11/24', { 'margay.io/router-id': rid })), 'n1');
      expect(p.local?.routerId).toBe('172.30.0.11');
      expect(p.problems).toHaveLength(1);
      expect(p.problems[0]).toContain('margay.io/router-id');
      expect(p.problems[0]).toContain(`"${rid}"`);
    });

  it('a valid router ID (surrounding blanks trimmed) is used as written', () => {
    const p = planNodeBgp(snap(node('n1', '172.30.0.11/24', { 'margay.io/router-id': ' 10.0.0.9 ' })), 'n1');
    expect(p.problems).toEqual([]);
    expect(p.local?.routerId).toBe('10.0.0.9');
  });

  it.each(['010.0.0.1', '244.0.0.01', 'fd00::1', 'abc'])('cluster ID "%s" is refused with a problem naming the annotation: no reflector', (cid) => {
    const p = planNodeBgp(snap(node('n1', '172.30.0.11/24', { 'margay.io/route-reflector-cluster-id': cid })), 'n1');
    expect(p.local?.clusterId).toBeUndefined();
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]).toContain('margay.io/route-reflector-cluster-id');
  });

  it('cluster ID 0.0.0.0 is a valid CLUSTER_ID (RFC 4456 asks for 4 octets, not non-zero)', () => {
    const p = planNodeBgp(snap(node('n1', '172.30.0.11/24', { 'margay.io/route-reflector-cluster-id': '0.0.0.0' })), 'n1');
    expect(p.problems).toEqual([]);
    expect(p.local?.clusterId).toBe('0.0.0.0');
  });
});

describe('AS numbers: plain and AS-dot (a.b = a×65536 + b)', () => {
  it('parseAsn', () => {
    expect(parseAsn('65000.100')).toBe(4259840100);
    expect(parseAsn('1.0')).toBe(65536);
    expect(parseAsn('0.100')).toBe(100);
    expect(parseAsn('65535.65535')).toBe(4294967295);
    expect(parseAsn('64512')).toBe(64512);
    expect(parseAsn(64512)).toBe(64512);
    for (const bad of ['65536.1', '1.65536', '1.2.3', '0.0', '0', '1.', '.1', '1..2', '-1', '4294967296', '6.5e4', 65000.1, 0, '']) {
      expect(parseAsn(bad), String(bad)).toBeUndefined();
    }
  });

  it('the annotation, BGPConfiguration and BGPPeer asNumber take AS-dot; plans use the plain number', () => {
    const s = snap(node('n1', '172.30.0.11/24', { 'margay.io/as-number': '65000.100' }), node('n2', '172.30.0.12/24'),
      bgpConfig('default', { asNumber: '1.10' }), bgpPeer('tor', { peerIP: '10.1.1.1', asNumber: '65001.2' }));
    const p1 = planNodeBgp(s, 'n1');
    expect(p1.problems).toEqual([]);
    expect(p1.local?.asn).toBe(4259840100);
    expect(p1.peers.map((x) => [x.address, x.asn])).toEqual([['10.1.1.1', 65001 * 65536 + 2], ['172.30.0.12', 65546]]);
    expect(planNodeBgp(s, 'n2').peers.find((x) => x.node === 'n1')?.asn).toBe(4259840100);
  });

  it('a bad AS-dot annotation is a problem naming it', () => {
    const p = planNodeBgp(snap(node('n1', '172.30.0.11/24', { 'margay.io/as-number': '65536.1' })), 'n1');
    expect(p.local?.asn).toBe(64512);
    expect(p.problems.join('\n')).toContain('margay.io/as-number');
  });

  const valid = (kind: 'BGPPeer' | 'BGPConfiguration', asNumber: unknown): boolean => validateObject(kind === 'BGPPeer'
    ? bgpPeer('p', { peerIP: '10.0.0.1', asNumber }) : bgpConfig('default', { asNumber })).ok;
  it.each(['BGPPeer', 'BGPConfiguration'] as const)('%s schema: asNumber integer or AS-dot / plain string', (kind) => {
    for (const ok of ['65000.100', '0.1', '65535.65535', '64512', '4294967295', 64512, 4294967295]) expect(valid(kind, ok), String(ok)).toBe(true);
    for (const bad of ['65536.1', '1.65536', '1.2.3', '0.0', '0', '00.000', '4294967296', 'abc', 0, 4294967296, 65000.5, true]) {
      expect(valid(kind, bad), String(bad)).toBe(false);
    }
  });

  it('the schema and parseAsn agree on every text form (leading zeros read as Calico reads them: 065000 = 65000)', () => {
    const texts = ['1', '65535', '65536', '4294967295', '4294967296', '0.1', '1.0', '65535.65535', '65536.0', '0.65536', '00.1', '1.01',
      '9999999999', '42949672950', '4294967290', '4294967299', '65000.100', '0.0', '0', '0004294967295', '00065535.0065535'];
    for (const t of texts) expect(valid('BGPPeer', t), t).toBe(parseAsn(t) !== undefined);
    expect(parseAsn('00065535.0065535')).toBe(4294967295);
    fc.assert(fc.property(fc.array(fc.constantFrom('0', '1', '2', '4', '5', '6', '9', '.'), { maxLength: 12 }), (chars) => {
      const t = chars.join('');
      expect(valid('BGPConfiguration', t), t).toBe(parseAsn(t) !== undefined);
    }), { numRuns: 400 });
  });
});

describe('BGPPeer peerIP with an optional port', () => {
  it('parsePeerIP: IPv4:port and [IPv6]:port; an IPv6 address without brackets stays an address', () => {
    expect(parsePeerIP('10.0.0.1:1179')).toEqual({ address: '10.0.0.1', port: 1179 });
    expect(parsePeerIP('[fd00::1]:1179')).toEqual({ address: 'fd00::1', port: 1179 });
    expect(parsePeerIP('[FD00:0::1]:179')).toEqual({ address: 'fd00::1', port: 179 });
    expect(parsePeerIP('fd00::1:1179')).toEqual({ address: 'fd00::1:1179' });
    expect(parsePeerIP('10.0.0.1')).toEqual({ address: '10.0.0.1' });
    for (const bad of ['10.0.0.1:', '10.0.0.1:0', '10.0.0.1:65536', '10.0.0.1:x', '[fd00::1]', '[fd00::1]:', '[10.0.0.1]:179', '[fd00::1]:0',
      'fd00::1]:179', '[fd00::1:179', '010.0.0.1:179', '10.0.0.1:179:1', ':179', '']) {
      expect(parsePeerIP(bad), bad).toBeUndefined();
    }
  });

  it('plans the port for both forms; without one an external peer gets 179', () => {
    const s = snap(node('n1', '172.30.0.11/24', { 'margay.io/bgp-ipv6-address': 'fd30::11/64' }),
      bgpPeer('v4', { peerIP: '10.1.1.1:1179', asNumber: 65000 }), bgpPeer('v6', { peerIP: '[fd00::1]:1179', asNumber: 65000 }),
      bgpPeer('plain6', { peerIP: 'fd00::2:1179', asNumber: 65000 }));
    const p = planNodeBgp(s, 'n1');
    expect(p.problems).toEqual([]);
    expect(p.peers.map((x) => [x.address, x.port, x.families])).toEqual([
      ['10.1.1.1', 1179, ['ipv4']], ['fd00::1', 1179, ['ipv6']], ['fd00::2:1179', 179, ['ipv6']],
    ]);
  });

  it('a port on a BGPPeer naming another node wins over its listenPort; without one the listenPort is used', () => {
    const s = snap(node('n1', '172.30.0.11/24'), node('n2', '172.30.0.12/24'), node('n3', '172.30.0.13/24'),
      bgpConfig('default', { nodeToNodeMeshEnabled: false, listenPort: 1790 }),
      bgpPeer('to-n2', { node: 'n1', peerIP: '172.30.0.12:2179', asNumber: 64512 }), bgpPeer('to-n3', { node: 'n1', peerIP: '172.30.0.13', asNumber: 64512 }));
    expect(planNodeBgp(s, 'n1').peers.map((x) => [x.node, x.port])).toEqual([['n2', 2179], ['n3', 1790]]);
  });

  it('a bad peerIP is a problem naming the BGPPeer, not a peer', () => {
    const p = planNodeBgp(snap(node('n1', '172.30.0.11/24'), bgpPeer('bad', { peerIP: '10.1.1.1:', asNumber: 65000 })), 'n1');
    expect(p.peers).toEqual([]);
    expect(p.problems).toEqual(['BGPPeer bad: peerIP "10.1.1.1:" is not an IP address or IPv4:port / [IPv6]:port']);
  });

  it('the schema accepts exactly what the plan reads', () => {
    const texts = ['10.0.0.1:1179', '[fd00::1]:1179', 'fd00::1:1179', '10.0.0.1', 'fd00::1', '10.0.0.1:', '10.0.0.1:0', '10.0.0.1:65535',
      '10.0.0.1:65536', '[fd00::1]', '[10.0.0.1]:179', '010.0.0.1:179', '10.0.0.1:179:1', '[fd00::1]:', 'fd00::1]:179',
      'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', '[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535'];
    for (const t of texts) {
      expect(validateObject(bgpPeer('p', { peerIP: t, asNumber: 65000 })).ok, t).toBe(parsePeerIP(t) !== undefined);
    }
  });
});

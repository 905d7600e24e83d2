import { describe, expect, it } from 'vitest';
import { birdProtocolName, renderBirdSpeakerConfig, renderTorBirdConfig } from '../../../../../agent/lab/topology/bird-config.js';

const peers = [
  { node: 'n1', address: '172.30.0.11', asn: 64512, local: '172.30.0.1' },
  { node: 'n2', address: '172.30.0.12', asn: 64512, local: '172.30.0.1' },
];

/** The body of `protocol bgp NAME { ... }` (up to the closing brace at column 0). */
function protocol(conf: string, name: string): string {
  const start = conf.indexOf(`protocol bgp ${name} {`);
  expect(start).toBeGreaterThanOrEqual(0);
  return conf.slice(start, conf.indexOf('\n}\n', start));
}

describe('renderTorBirdConfig', () => {
  it('one eBGP session per node from the subnet gateway, next hop self, never back to the sender', () => {
    const conf = renderTorBirdConfig({ routerId: '172.30.0.1', asn: 65000, overrideAsn: 64512, acceptPrefixes: ['10.244.0.0/16'], peers });
    expect(conf).toContain('router id 172.30.0.1;');
    expect(conf).toContain('define POD_PREFIXES = [ 10.244.0.0/16+ ];');
    expect(conf).toMatch(/protocol kernel kernel4 \{\n\s+ipv4 \{ import none; export where source = RTS_BGP; \};/);
    const n1 = protocol(conf, 'node_n1');
    expect(n1).toContain('local 172.30.0.1 as 65000;');
    expect(n1).toContain('neighbor 172.30.0.11 as 64512;');
    expect(n1).toContain('next hop self;');
    expect(n1).toContain('from = 172.30.0.11 then reject');
    expect(n1).toContain('bgp_path = delete(bgp_path, 64512);');
    expect(protocol(conf, 'node_n2')).toContain('from = 172.30.0.12 then reject');
  });

  it('no AS override toward nodes with their own AS', () => {
    const conf = renderTorBirdConfig({
      routerId: '172.30.0.1', asn: 65000, overrideAsn: 64512, acceptPrefixes: ['10.244.0.0/16'],
      peers: [{ node: 'n1', address: '172.30.0.11', asn: 65101, local: '172.30.0.1' }],
    });
    expect(conf).not.toContain('delete(bgp_path');
  });

  it('refuses what BIRD would reject or what would not be eBGP', () => {
    const base = { routerId: '172.30.0.1', asn: 65000, acceptPrefixes: ['10.244.0.0/16'], peers };
    expect(() => renderTorBirdConfig({ ...base, routerId: '172.30.0' })).toThrow(/router id/);
    expect(() => renderTorBirdConfig({ ...base, acceptPrefixes: [] })).toThrow(/at least one/);
    expect(() => renderTorBirdConfig({ ...base, acceptPrefixes: ['10.244.0.0/33'] })).toThrow(/not an IPv4 prefix/);
    expect(() => renderTorBirdConfig({ ...base, peers: [{ ...peers[0]!, asn: 65000 }] })).toThrow(/eBGP/);
    expect(() => renderTorBirdConfig({ ...base, peers: [peers[0]!, peers[0]!] })).toThrow(/two peers/);
  });

  it('protocol names are BIRD identifiers', () => {
    expect(birdProtocolName('n12')).toBe('node_n12');
    expect(birdProtocolName('rack-1.node')).toBe('node_rack_1_node');
  });
});

describe('renderBirdSpeakerConfig', () => {
  it('learns own blocks from the kernel, iBGP to every peer, installs BGP routes', () => {
    const conf = renderBirdSpeakerConfig({
      routerId: '172.30.0.11', asn: 64512, local: '172.30.0.11', originatePrefixes: ['10.244.0.0/16'],
      peers: [{ name: 'n2', address: '172.30.0.12' }, { name: 'n3', address: '172.30.0.13' }],
    });
    expect(conf).toContain('learn;');
    expect(conf).toContain('import where net ~ OWN && source = RTS_INHERIT && dest = RTD_BLACKHOLE;');
    expect(conf).toContain('export where source = RTS_BGP;');
    expect(protocol(conf, 'node_n2')).toContain('neighbor 172.30.0.12 as 64512;');
    expect(protocol(conf, 'node_n3')).toContain('local 172.30.0.11 as 64512;');
    expect(protocol(conf, 'node_n3')).toContain('direct;');
  });

  it('with kernelProtocol, learns only that protocol\'s blackholes (margay agents with --bgp off: 80)', () => {
    const conf = renderBirdSpeakerConfig({
      routerId: '172.30.0.11', asn: 64512, local: '172.30.0.11', originatePrefixes: ['10.244.0.0/16'], kernelProtocol: 80,
      peers: [{ name: 'n2', address: '172.30.0.12' }],
    });
    expect(conf).toContain('import where net ~ OWN && source = RTS_INHERIT && dest = RTD_BLACKHOLE && krt_source = 80;');
    expect(() => renderBirdSpeakerConfig({ routerId: '172.30.0.11', asn: 64512, local: '172.30.0.11', originatePrefixes: [], kernelProtocol: 300, peers: [] })).toThrow(/0-255/);
  });
});

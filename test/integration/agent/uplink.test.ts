import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRtnl, type KernelRtnl } from '../../../agent/dataplane/kernel/rtnl.js';
import { addNetns, deleteNetns, ip, newRunPrefix } from '../../../agent/lab/netns.js';
import type { NodeBgpInfo } from '../../../agent/node-config/types.js';
import { dataplaneConfigOf, UplinkError } from '../../../agent/node/uplink.js';
import { requirements } from '../../support/root.js';

const needs = requirements({ root: true, file: import.meta.url });

// The uplink found from the kernel of a node namespace: two veth pairs (both ends
// in the namespace; no dummy driver on every kernel), one
// with the node's IPv4 address, one with its global IPv6 address (and, as every
// IPv6 device, a link-local one). What the kernel adds: the devices' MTUs, the
// addresses' prefix lengths, the link-local address; the choice rules themselves
// (fallbacks, --uplink, error texts) are unit tests (test/unit/agent/node/uplink.test.ts).
describe.skipIf(needs.skip)(`uplink from the node's addresses (${needs.why})`, () => {
  const ns = `${newRunPrefix()}up`;
  let nl: KernelRtnl;
  let linkLocal6 = '';

  beforeAll(async () => {
    await addNetns(ns);
    await ip(ns, 'link', 'add', 'up4', 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'up4p');
    await ip(ns, 'link', 'add', 'up6', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'up6p');
    await ip(ns, 'link', 'set', 'up4p', 'up');
    await ip(ns, 'link', 'set', 'up6p', 'up');
    await ip(ns, 'addr', 'add', '10.99.0.7/24', 'dev', 'up4');
    await ip(ns, 'addr', 'add', 'fd99::7/64', 'dev', 'up6', 'nodad');
    await ip(ns, 'link', 'set', 'up4', 'up');
    await ip(ns, 'link', 'set', 'up6', 'up');
    nl = openRtnl({ netns: ns });
    for (let i = 0; i < 50 && !linkLocal6; i++) {
      const ll = nl.addrs(6).find((a) => a.address.startsWith('fe80:') && nl.links().find((l) => l.index === a.ifindex)?.name === 'up6');
      if (ll) linkLocal6 = ll.address;
      else await new Promise((r) => setTimeout(r, 20));
    }
  });
  afterAll(async () => {
    nl?.close();
    await deleteNetns(ns);
  });

  const node = (a: Partial<NodeBgpInfo>): NodeBgpInfo[] => [{ name: 'n1', labels: {}, asn: 64512, ...a }, { name: 'n2', labels: {}, asn: 64512, address: 'fd99::8/128' }];

  it('a dual-stack node: the device holding its IPv4 address; both addresses get the kernel\'s prefix length', () => {
    const nodes = node({ address: '10.99.0.7/32', address6: 'fd99:0::7/128' });
    const c = dataplaneConfigOf('n1', undefined, nodes, nl);
    expect([c.uplink, c.uplinkMtu]).toEqual(['up4', 1450]);
    expect([nodes[0]!.address, nodes[0]!.address6]).toEqual(['10.99.0.7/24', 'fd99::7/64']);
  });

  it('an IPv6-only node (no --uplink): the device holding its global IPv6 address', () => {
    const nodes = node({ address6: 'fd99::7/128' });
    const c = dataplaneConfigOf('n1', undefined, nodes, nl);
    expect([c.uplink, c.uplinkMtu]).toEqual(['up6', 1400]);
    expect(nodes[0]!.address6).toBe('fd99::7/64');
  });

  it('a link-local IPv6 address does not pick a device: the error names what was looked for', () => {
    expect(linkLocal6).not.toBe('');
    const ll = linkLocal6.split('/')[0]!;
    expect(() => dataplaneConfigOf('n1', undefined, node({ address6: ll }), nl)).toThrow(new UplinkError(
      `no uplink device: no device of this network namespace holds Node n1's global IPv6 address ${ll}; give --uplink, or annotate Node n1 with its address (margay.io/bgp-ipv4-address or margay.io/bgp-ipv6-address)`,
    ));
  });
});

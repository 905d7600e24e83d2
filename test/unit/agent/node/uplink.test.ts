import { describe, expect, it } from 'vitest';
import type { AddrMsg } from '../../../../agent/dataplane/netlink/addr.js';
import { RT_SCOPE_LINK, RT_SCOPE_UNIVERSE } from '../../../../agent/dataplane/netlink/constants.js';
import type { LinkMsg } from '../../../../agent/dataplane/netlink/link.js';
import type { NodeBgpInfo } from '../../../../agent/node-config/types.js';
import { pickUplink } from '../../../../agent/node/uplink.js';

const links: LinkMsg[] = [{ index: 1, name: 'lo', flags: 0 }, { index: 2, name: 'eth0', flags: 0, mtu: 9000 }, { index: 3, name: 'eth1', flags: 0 }];
const a = (family: 4 | 6, ifindex: number, address: string, scope = RT_SCOPE_UNIVERSE): AddrMsg => ({ family, ifindex, address, scope, flags: 0 });
const kernel = {
  links,
  addrs4: [a(4, 1, '127.0.0.1/8', 254), a(4, 2, '192.0.2.5/24')],
  addrs6: [a(6, 3, 'fd00:1::5/64'), a(6, 2, 'fe80::5/64', RT_SCOPE_LINK), a(6, 3, 'fe80::5/64', RT_SCOPE_LINK)],
};
const me = (x: Partial<NodeBgpInfo>): NodeBgpInfo => ({ name: 'n1', labels: {}, asn: 1, ...x });

describe('pickUplink: --uplink, else the IPv4 address\'s device, else the global IPv6 address\'s', () => {
  it.each([
    ['IPv4 first', me({ address: '192.0.2.5/32', address6: 'fd00:1::5' }), 'eth0'],
    ['IPv6-only', me({ address6: 'fd00:1:0::5/128' }), 'eth1'],
    ['IPv4 held by nobody, IPv6 held', me({ address: '192.0.2.9', address6: 'fd00:1::5' }), 'eth1'],
  ])('%s', (_t, node, want) => {
    expect(pickUplink('n1', undefined, node, kernel).link.name).toBe(want);
  });

  it.each([
    ['Node unknown', undefined, 'Node n1 is not in the datastore (yet)'],
    ['no address', me({}), 'Node n1 has no IPv4 or IPv6 address'],
    ['link-local only (on two devices)', me({ address6: 'fe80::5' }), "holds Node n1's global IPv6 address fe80::5;"],
    ['neither held', me({ address: '198.51.100.1/24', address6: 'fd00:9::1' }), "holds Node n1's IPv4 address 198.51.100.1 or its global IPv6 address fd00:9::1;"],
  ])('%s: an error that says what it looked for', (_t, node, msg) => {
    expect(() => pickUplink('n1', undefined, node, kernel)).toThrow(msg);
    expect(() => pickUplink('n1', undefined, node, kernel)).toThrow('give --uplink, or annotate Node n1 with its address (margay.io/bgp-ipv4-address or margay.io/bgp-ipv6-address)');
  });

  it('--uplink names the device; an unknown one is an error', () => {
    expect(pickUplink('n1', 'eth1', me({ address: '192.0.2.5' }), kernel)).toMatchObject({ link: { name: 'eth1' }, mine: { address: '192.0.2.5/24' } });
    expect(() => pickUplink('n1', 'eth7', me({ address: '192.0.2.5' }), kernel)).toThrow('--uplink eth7 names no device');
  });
});

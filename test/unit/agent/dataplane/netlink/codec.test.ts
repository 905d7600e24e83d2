import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attr, decodeAttrs, nested, strAttr, u32Attr } from '../../../../../agent/dataplane/netlink/attrs.js';
import { decodeAddr, encodeAddr } from '../../../../../agent/dataplane/netlink/addr.js';
import {
  NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NLMSG_ERROR, NTF_SELF, NUD_PERMANENT, RT_SCOPE_UNIVERSE, RTM_NEWROUTE,
} from '../../../../../agent/dataplane/netlink/constants.js';
import { bytesToIp, canonicalPrefix, ipToBytes, prefixContains, prefixCovers } from '../../../../../agent/dataplane/netlink/ip.js';
import { decodeLink, encodeLink } from '../../../../../agent/dataplane/netlink/link.js';
import { decodeError, encodeMessage, splitMessages } from '../../../../../agent/dataplane/netlink/message.js';
import { decodeNeigh, encodeNeigh } from '../../../../../agent/dataplane/netlink/neigh.js';
import { decodeRoute, encodeRoute, type RouteMsg } from '../../../../../agent/dataplane/netlink/route.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('attributes', () => {
  it('pads to 4 bytes and keeps the unpadded length in the header', () => {
    expect(hex(strAttr(3, 'eth0'))).toBe('0900' + '0300' + '6574683000' + '000000');
    expect(hex(u32Attr(4, 1450))).toBe('0800' + '0400' + 'aa050000');
  });
  it('nests and splits, ignoring a truncated tail', () => {
    const n = nested(18, [strAttr(1, 'vxlan'), u32Attr(2, 7)]);
    const [outer] = decodeAttrs(n);
    expect(outer?.type).toBe(18);
    expect(decodeAttrs(outer?.data as Buffer).map((a) => a.type)).toEqual([1, 2]);
    expect(decodeAttrs(Buffer.concat([u32Attr(1, 1), Buffer.from([0x20, 0, 2, 0])])).length).toBe(1);
  });
});

describe('addresses and prefixes', () => {
  it.each([
    ['10.0.0.1', '0a000001'], ['::', '0'.repeat(32)], ['fd44::1', 'fd44' + '0'.repeat(27) + '1'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
  ])('%s ↔ %s', (text, h) => {
    expect(hex(ipToBytes(text))).toBe(h);
  });
  it('formats IPv6 the RFC 5952 way', () => {
    expect(bytesToIp(ipToBytes('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(bytesToIp(ipToBytes('fe80:0:0:0:0:0:0:1'))).toBe('fe80::1');
    expect(bytesToIp(ipToBytes('1:0:2:0:3:0:4:0'))).toBe('1:0:2:0:3:0:4:0');
  });
  it('rejects bad text', () => {
    for (const bad of ['10.0.0', '10.0.0.256', '1::2::3', 'x::', '10.0.0.1.2', '']) expect(() => ipToBytes(bad)).toThrow();
  });
  it('canonicalises prefixes and answers containment', () => {
    expect(canonicalPrefix('10.244.1.77/26')).toBe('10.244.1.64/26');
    expect(canonicalPrefix('fd44:0:0:1::5/64')).toBe('fd44:0:0:1::/64');
    expect(prefixContains('10.10.1.0/24', '10.10.1.9')).toBe(true);
    expect(prefixContains('10.10.1.0/24', '10.10.2.9')).toBe(false);
    expect(prefixCovers('10.244.0.0/16', '10.244.3.0/26')).toBe(true);
    expect(prefixCovers('10.244.3.0/26', '10.244.0.0/16')).toBe(false);
  });
});

describe('framing', () => {
  it('encodes nlmsghdr little-endian and splits several messages per datagram', () => {
    const m = encodeMessage({ type: RTM_NEWROUTE, flags: NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, seq: 7, body: Buffer.from([1, 2, 3]) });
    expect(hex(m)).toBe('13000000' + '1800' + '0106' + '07000000' + '00000000' + '010203' + '00');
    const two = splitMessages(Buffer.concat([m, m]));
    expect(two.map((x) => [x.type, x.seq, hex(x.body)])).toEqual([[24, 7, '010203'], [24, 7, '010203']]);
    expect(() => splitMessages(Buffer.from('ff000000180001060700000000000000', 'hex'))).toThrow(/nlmsg_len/);
  });
  it('decodes an error with an extended-ack message and a capped request', () => {
    const orig = encodeMessage({ type: RTM_NEWROUTE, flags: 5, seq: 42, body: Buffer.alloc(0) });
    const body = Buffer.concat([Buffer.from('efffffff', 'hex'), orig, strAttr(1, 'Nexthop has invalid gateway')]);
    const e = decodeError({ type: NLMSG_ERROR, flags: NLM_F_ACK_TLVS | NLM_F_CAPPED, seq: 42, pid: 0, body });
    expect(e).toEqual({ errno: 17, seq: 42, message: 'Nexthop has invalid gateway' });
  });
});

describe('routes', () => {
  const base = { family: 4 as const, table: 254, protocol: 80, scope: RT_SCOPE_UNIVERSE };
  it('encodes a blackhole exactly (rtmsg + RTA_TABLE + RTA_DST)', () => {
    const b = encodeRoute({ ...base, dst: '10.244.1.0/26', type: 'blackhole', nexthops: [] });
    expect(hex(b)).toBe('02' + '1a' + '00' + '00' + 'fe' + '50' + '00' + '06' + '00000000' + '0800' + '0f00' + 'fe000000' + '0800' + '0100' + '0af40100');
  });
  it('encodes onlink via a gateway with RTNH_F_ONLINK in rtm_flags and RTA_OIF', () => {
    const b = encodeRoute({ ...base, dst: '10.244.3.0/26', type: 'unicast', nexthops: [{ gateway: '10.244.3.0', ifindex: 4, onlink: true, weight: 1 }] });
    expect(hex(b.subarray(8, 12))).toBe('04000000');
    expect(hex(b.subarray(28))).toBe('0800' + '0500' + '0af40300' + '0800' + '0400' + '04000000');
  });
  it('encodes ECMP as RTA_MULTIPATH with rtnexthop (len, flags, hops = weight - 1, ifindex)', () => {
    const b = encodeRoute({ ...base, dst: '10.244.4.0/26', type: 'unicast', nexthops: [
      { gateway: '10.9.0.2', ifindex: 2, onlink: false, weight: 1 }, { gateway: '10.9.0.3', ifindex: 2, onlink: true, weight: 3 },
    ] });
    expect(hex(b.subarray(28))).toBe('2400' + '0900' + '1000' + '00' + '00' + '02000000' + '0800' + '0500' + '0a090002' + '1000' + '04' + '02' + '02000000' + '0800' + '0500' + '0a090003');
  });
  it('round-trips any route through decode(encode())', () => {
    const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map((a) => a.join('.'));
    const nh = fc.record({ gateway: v4, ifindex: fc.integer({ min: 1, max: 5000 }), onlink: fc.boolean(), weight: fc.integer({ min: 1, max: 256 }) });
    fc.assert(fc.property(v4, fc.integer({ min: 0, max: 32 }), fc.constantFrom('unicast', 'blackhole') , fc.array(nh, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 100000 }), (addr, len, type, hops, table) => {
      const r: RouteMsg = { ...base, table, dst: canonicalPrefix(`${addr}/${len}`), type, nexthops: type === 'blackhole' ? [] : hops };
      if (r.nexthops.length === 1) (r.nexthops[0] as { weight: number }).weight = 1;
      expect(decodeRoute(encodeRoute(r))).toEqual(r);
    }));
  });
  it('round-trips IPv6', () => {
    const r: RouteMsg = { family: 6, dst: 'fd44:1::/122', table: 254, protocol: 80, scope: 0, type: 'unicast', priority: 1024, nexthops: [{ gateway: 'fe80::1', ifindex: 3, onlink: false, weight: 1 }] };
    expect(decodeRoute(encodeRoute(r))).toEqual(r);
  });
});

describe('links', () => {
  it('encodes a vxlan device whose IFLA_INFO_DATA carries VNI, big-endian port, learning, local, underlay', () => {
    const b = encodeLink({ name: 'vxlan.margay', mtu: 1450, up: true, info: { kind: 'vxlan', vxlan: { vni: 4096, port: 4789, local: '10.9.0.1', link: 2, learning: false } } });
    expect(hex(b.subarray(0, 16))).toBe('00000000' + '00000000' + '01000000' + '01000000');
    expect(hex(b)).toContain('0600' + '0f00' + '12b5'); // IFLA_VXLAN_PORT 4789, network order
    expect(hex(b)).toContain('0800' + '0100' + '00100000'); // IFLA_VXLAN_ID 4096
    const back = decodeLink(b);
    expect(back).toMatchObject({ name: 'vxlan.margay', mtu: 1450, info: { kind: 'vxlan', vxlan: { vni: 4096, port: 4789, local: '10.9.0.1', link: 2, learning: false } } });
  });
  it('encodes a veth whose peer goes straight into another namespace (VETH_INFO_PEER carries an ifinfomsg)', () => {
    const b = encodeLink({ name: 'cali1234', info: { kind: 'veth', peer: { name: 'eth0', netnsFd: 21 } } });
    const attrs = decodeAttrs(b, 16);
    const info = decodeAttrs(attrs.find((a) => a.type === 18)?.data as Buffer);
    const data = decodeAttrs(info.find((a) => a.type === 2)?.data as Buffer);
    const peer = data[0]?.data as Buffer;
    expect(peer.length).toBeGreaterThan(16);
    const peerAttrs = decodeAttrs(peer, 16);
    expect(peerAttrs.map((a) => a.type)).toEqual([3, 28]);
    expect(peerAttrs[1]?.data.readUInt32LE(0)).toBe(21);
  });
  it('encodes ipip and per-device IPv4 sysctls', () => {
    expect(decodeLink(encodeLink({ name: 'tunl0', info: { kind: 'ipip', ipip: { local: '10.0.0.1', ttl: 64, pmtudisc: true } } }))?.info)
      .toEqual({ kind: 'ipip', ipip: { local: '10.0.0.1', ttl: 64, pmtudisc: true } });
    const b = encodeLink({ index: 5, inetConf: { 3: 1 } });
    expect(hex(b)).toContain('0800' + '0300' + '01000000');
    expect(hex(attr(1, Buffer.alloc(0)))).toBe('04000100');
  });
});

describe('addresses and neighbours', () => {
  it('round-trips an address', () => {
    expect(decodeAddr(encodeAddr({ ifindex: 4, address: '10.244.1.0/32' }))).toEqual({ family: 4, ifindex: 4, address: '10.244.1.0/32', scope: 0, flags: 0 });
  });
  it('round-trips an FDB entry', () => {
    const n = { family: 'bridge' as const, ifindex: 4, state: NUD_PERMANENT, flags: NTF_SELF, dst: '10.9.0.3', lladdr: '66:aa:bb:cc:dd:ee' };
    const b = encodeNeigh(n);
    expect(hex(b.subarray(0, 12))).toBe('07000000' + '04000000' + '8000' + '02' + '00');
    expect(decodeNeigh(b)).toEqual(n);
  });
  it('encodes the permanent IPv6 neighbour of a remote VTEP exactly (ndmsg AF_INET6 + NDA_DST 16 bytes + NDA_LLADDR)', () => {
    const n = { family: 6 as const, ifindex: 4, state: NUD_PERMANENT, flags: 0, dst: 'fe80::648b:3bff:feba:2a13', lladdr: '66:8b:3b:ba:2a:13' };
    const b = encodeNeigh(n);
    expect(hex(b)).toBe('0a000000' + '04000000' + '8000' + '00' + '00' +
      '1400' + '0100' + 'fe80000000000000648b3bfffeba2a13' +
      '0a00' + '0200' + '668b3bba2a13' + '0000');
    expect(decodeNeigh(b)).toEqual(n);
  });
});

describe('IPv6 routes through the VXLAN device', () => {
  it('encodes `fd44:2::/122 via <VTEP link-local> dev 4 proto 80` exactly (AF_INET6 rtmsg, no onlink, 16-byte RTA_DST and RTA_GATEWAY, RTA_OIF)', () => {
    const b = encodeRoute({ family: 6, dst: 'fd44:2::/122', table: 254, protocol: 80, scope: RT_SCOPE_UNIVERSE, type: 'unicast', nexthops: [{ gateway: 'fe80::648b:3bff:feba:2a13', ifindex: 4, onlink: false, weight: 1 }] });
    expect(hex(b)).toBe('0a' + '7a' + '00' + '00' + 'fe' + '50' + '00' + '01' + '00000000' +
      '0800' + '0f00' + 'fe000000' +
      '1400' + '0100' + 'fd440002000000000000000000000000' +
      '1400' + '0500' + 'fe80000000000000648b3bfffeba2a13' +
      '0800' + '0400' + '04000000');
    expect(decodeRoute(b)?.nexthops).toEqual([{ gateway: 'fe80::648b:3bff:feba:2a13', ifindex: 4, onlink: false, weight: 1 }]);
  });
});

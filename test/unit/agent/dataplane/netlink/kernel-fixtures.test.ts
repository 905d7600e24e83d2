import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeAddr } from '../../../../../agent/dataplane/netlink/addr.js';
import { NTF_SELF, NUD_NOARP, NUD_PERMANENT, RT_TABLE_MAIN, RTNH_F_ONLINK } from '../../../../../agent/dataplane/netlink/constants.js';
import { decodeLink } from '../../../../../agent/dataplane/netlink/link.js';
import { decodeNeigh } from '../../../../../agent/dataplane/netlink/neigh.js';
import { decodeRoute, encodeRoute } from '../../../../../agent/dataplane/netlink/route.js';

// Messages the kernel itself sent (see the fixture's ip output): the decoder must read
// them as `ip` does, and re-encoding what was decoded must be accepted as the same route.
const fixture = JSON.parse(readFileSync(new URL('./fixtures/kernel-6.18.json', import.meta.url), 'utf8')) as { messages: Record<string, string[]> };
const bodies = (k: string): Buffer[] => (fixture.messages[k] ?? []).map((s) => Buffer.from(s.split(':')[1] ?? '', 'hex'));

describe('decoding messages captured from the kernel', () => {
  it('reads every captured message (a fixture that lost its messages fails)', () => {
    const counts = Object.fromEntries(Object.entries(fixture.messages).map(([k, v]) => [k, v.length]));
    expect(counts).toEqual({ routes4: 4, routes6: 1, links: 4, neigh4: 1, fdb: 7, addrs: 2 });
  });

  it('routes: blackhole, via, onlink, multipath with weights, IPv6 blackhole', () => {
    const [ifUp0, ifVx] = [3, 4];
    const routes = [...bodies('routes4'), ...bodies('routes6')].map((b) => decodeRoute(b));
    expect(routes.map((r) => [r?.dst, r?.type, r?.protocol, r?.table])).toEqual([
      ['10.244.1.0/26', 'blackhole', 80, RT_TABLE_MAIN],
      ['10.244.2.0/26', 'unicast', 80, RT_TABLE_MAIN],
      ['10.244.3.0/26', 'unicast', 80, RT_TABLE_MAIN],
      ['10.244.4.0/26', 'unicast', 80, RT_TABLE_MAIN],
      ['fd44:1::/122', 'blackhole', 80, RT_TABLE_MAIN],
    ]);
    expect(routes[0]?.nexthops).toEqual([]);
    expect(routes[1]?.nexthops).toEqual([{ gateway: '10.9.0.2', ifindex: ifUp0, onlink: false, weight: 1 }]);
    expect(routes[2]?.nexthops).toEqual([{ gateway: '10.244.3.0', ifindex: ifVx, onlink: true, weight: 1 }]);
    expect(routes[3]?.nexthops).toEqual([
      { gateway: '10.9.0.2', ifindex: ifUp0, onlink: false, weight: 1 },
      { gateway: '10.9.0.3', ifindex: ifUp0, onlink: false, weight: 3 },
    ]);
    expect(routes[4]?.priority).toBe(1024);
  });

  it('re-encoding a decoded kernel route yields the same rtmsg header and the attributes margay sets', () => {
    for (const body of bodies('routes4')) {
      const r = decodeRoute(body);
      if (!r) throw new Error('undecodable');
      const again = encodeRoute(r);
      // family, dst_len, src_len, tos, table, protocol, scope, type: byte for byte
      expect(again.subarray(0, 8).toString('hex')).toBe(body.subarray(0, 8).toString('hex'));
      expect(again.readUInt32LE(8) & RTNH_F_ONLINK).toBe(body.readUInt32LE(8) & RTNH_F_ONLINK);
      expect(decodeRoute(again)).toEqual(r);
    }
  });

  it('links: the VXLAN device as ip -d link shows it', () => {
    const links = bodies('links').map((b) => decodeLink(b));
    expect(links.map((l) => l?.name)).toEqual(['lo', 'up1', 'up0', 'vxlan.margay']);
    const vx = links[3];
    expect(vx).toMatchObject({ index: 4, mtu: 1450, mac: '66:11:22:33:44:55' });
    expect(vx?.info).toEqual({ kind: 'vxlan', vxlan: { vni: 4096, port: 4789, local: '10.9.0.1', link: 3, learning: false, ttl: 0 } });
    expect(links[2]?.info).toEqual({ kind: 'veth' });
    expect(links[2]?.link).toBe(2); // IFLA_LINK: the veth peer's index
  });

  it('neighbours and FDB entries', () => {
    expect(bodies('neigh4').map((b) => decodeNeigh(b))).toEqual([
      { family: 4, ifindex: 4, state: NUD_PERMANENT, flags: 0, dst: '10.244.3.0', lladdr: '66:aa:bb:cc:dd:ee' },
    ]);
    const fdb = bodies('fdb').map((b) => decodeNeigh(b)).filter((n) => n?.ifindex === 4 && n.dst !== undefined);
    expect(fdb).toEqual([{ family: 'bridge', ifindex: 4, state: NUD_PERMANENT | NUD_NOARP, flags: NTF_SELF, dst: '10.9.0.3', lladdr: '66:aa:bb:cc:dd:ee' }]);
  });

  it('addresses', () => {
    expect(bodies('addrs').map((b) => decodeAddr(b)?.address)).toEqual(['127.0.0.1/8', '10.9.0.1/24']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, ip, newRunPrefix } from '../../../agent/lab/netns.js';
import { openRtnl, type KernelRtnl } from '../../../agent/dataplane/kernel/rtnl.js';
import { NetlinkError } from '../../../agent/dataplane/kernel/errno.js';
import { NUD_PERMANENT, NTF_SELF, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN } from '../../../agent/dataplane/netlink/constants.js';
import type { RouteMsg } from '../../../agent/dataplane/netlink/route.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

const PROTO = 80;
interface IpRoute { dst: string; gateway?: string; dev?: string; protocol?: string; type?: string; flags: string[]; nexthops?: { gateway: string; dev: string; weight: number; flags: string[] }[] }

describe.skipIf(needsRoot)(`rtnetlink adapter against the kernel (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  const prefix = newRunPrefix();
  const ns = `${prefix}rt`;
  let nl: KernelRtnl;
  let ifA = 0;

  beforeAll(async () => {
    await addNetns(ns);
    await ip(ns, 'link', 'add', 'mga', 'type', 'veth', 'peer', 'name', 'mgb');
    await ip(ns, 'link', 'set', 'mgb', 'up');
    nl = openRtnl({ netns: ns });
  });
  afterAll(async () => {
    nl?.close();
    await deleteNetns(ns);
  });

  const ipJson = async <T>(...args: string[]): Promise<T> => JSON.parse((await ip(ns, '-j', ...args)).stdout) as T;

  it('sees the namespace\'s links, not the caller\'s', () => {
    const names = nl.links().map((l) => l.name).sort();
    expect(names).toEqual(['lo', 'mga', 'mgb']);
    const a = nl.linkByName('mga');
    expect(a?.info).toEqual({ kind: 'veth' });
    ifA = a?.index ?? 0;
    expect(ifA).toBeGreaterThan(0);
  });

  it('sets a link up, its MTU and MAC as ip -j -d link shows', async () => {
    nl.setLink({ index: ifA, up: true, mtu: 1400, mac: '66:00:00:00:00:01' });
    const [link] = await ipJson<{ ifname: string; mtu: number; address: string; flags: string[] }[]>('-d', 'link', 'show', 'mga');
    expect(link).toMatchObject({ ifname: 'mga', mtu: 1400, address: '66:00:00:00:00:01' });
    expect(link?.flags).toContain('UP');
  });

  it('adds and deletes addresses', async () => {
    nl.addAddr({ ifindex: ifA, address: '10.9.0.1/24' });
    const addrs = nl.addrs(4).filter((a) => a.ifindex === ifA).map((a) => a.address);
    expect(addrs).toEqual(['10.9.0.1/24']);
    const shown = await ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>('addr', 'show', 'mga');
    expect(shown[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toContain('10.9.0.1/24');
  });

  it('writes unicast, blackhole, onlink and multipath routes exactly as ip -j route shows them', async () => {
    const base = { family: 4 as const, table: RT_TABLE_MAIN, protocol: PROTO, scope: RT_SCOPE_UNIVERSE };
    const routes: RouteMsg[] = [
      { ...base, dst: '10.244.1.0/26', type: 'blackhole', nexthops: [] },
      { ...base, dst: '10.244.2.0/26', type: 'unicast', nexthops: [{ gateway: '10.9.0.2', ifindex: ifA, onlink: false, weight: 1 }] },
      { ...base, dst: '10.244.3.0/26', type: 'unicast', nexthops: [{ gateway: '172.16.0.9', ifindex: ifA, onlink: true, weight: 1 }] },
      { ...base, dst: '10.244.4.0/26', type: 'unicast', nexthops: [
        { gateway: '10.9.0.2', ifindex: ifA, onlink: false, weight: 1 },
        { gateway: '10.9.0.3', ifindex: ifA, onlink: false, weight: 2 },
      ] },
      { ...base, dst: '10.244.5.7/32', scope: RT_SCOPE_LINK, type: 'unicast', nexthops: [{ ifindex: ifA, onlink: false, weight: 1 }] },
    ];
    expect(nl.writeRoutes(routes.map((route) => ({ op: 'add', route })))).toEqual([]);
    const shown = await ipJson<IpRoute[]>('route', 'show', 'proto', String(PROTO));
    const byDst = new Map(shown.map((r) => [r.dst, r]));
    expect(byDst.get('10.244.1.0/26')).toMatchObject({ type: 'blackhole' });
    expect(byDst.get('10.244.2.0/26')).toMatchObject({ gateway: '10.9.0.2', dev: 'mga' });
    expect(byDst.get('10.244.3.0/26')).toMatchObject({ gateway: '172.16.0.9', dev: 'mga', flags: ['onlink'] });
    expect(byDst.get('10.244.4.0/26')?.nexthops?.map((n) => [n.gateway, n.dev, n.weight])).toEqual([['10.9.0.2', 'mga', 1], ['10.9.0.3', 'mga', 2]]);
    expect(byDst.get('10.244.5.7')).toMatchObject({ dev: 'mga', scope: 'link' });
    // and read back through the decoder, equal to what was written
    const back = nl.routes(4).filter((r) => r.protocol === PROTO).sort((a, b) => a.dst.localeCompare(b.dst));
    expect(back).toEqual(routes);
  });

  it('reports refused writes by index with the kernel\'s reason, and carries on', () => {
    const base = { family: 4 as const, table: RT_TABLE_MAIN, protocol: PROTO, scope: RT_SCOPE_UNIVERSE, type: 'unicast' as const };
    const failures = nl.writeRoutes([
      { op: 'add', route: { ...base, dst: '10.250.0.0/24', nexthops: [{ gateway: '10.9.0.2', ifindex: ifA, onlink: false, weight: 1 }] } },
      { op: 'add', route: { ...base, dst: '10.244.2.0/26', nexthops: [{ gateway: '10.9.0.2', ifindex: ifA, onlink: false, weight: 1 }] } },
      { op: 'add', route: { ...base, dst: '10.251.0.0/24', nexthops: [{ gateway: '10.77.0.1', ifindex: ifA, onlink: false, weight: 1 }] } },
      { op: 'add', route: { ...base, dst: '10.252.0.0/24', nexthops: [{ gateway: '10.9.0.2', ifindex: ifA, onlink: false, weight: 1 }] } },
    ]);
    expect(failures.map((f) => [f.index, f.errno])).toEqual([[1, 17], [2, 101]]);
    expect(failures[1]?.message).toMatch(/gateway|nexthop/i);
    const dsts = nl.routes(4).map((r) => r.dst);
    expect(dsts).toEqual(expect.arrayContaining(['10.250.0.0/24', '10.252.0.0/24']));
    expect(dsts).not.toContain('10.251.0.0/24');
    // the last request of a datagram carries the ACK: when it is the one refused, its error ends the read
    const last = nl.writeRoutes([
      { op: 'add', route: { ...base, dst: '10.253.0.0/24', nexthops: [{ gateway: '10.9.0.2', ifindex: ifA, onlink: false, weight: 1 }] } },
      { op: 'add', route: { ...base, dst: '10.250.0.0/24', nexthops: [{ gateway: '10.9.0.2', ifindex: ifA, onlink: false, weight: 1 }] } },
    ]);
    expect(last.map((f) => [f.index, f.errno])).toEqual([[1, 17]]);
    expect(nl.routes(4).map((r) => r.dst)).toContain('10.253.0.0/24');
  });

  it('creates a VXLAN device that ip -d link describes, with FDB and neighbour entries', async () => {
    nl.addLink({ name: 'vxlan.margay', mtu: 1350, mac: '66:11:22:33:44:55', up: true, info: { kind: 'vxlan', vxlan: { vni: 4096, port: 4789, local: '10.9.0.1', link: ifA, learning: false } } });
    const [dev] = await ipJson<{ mtu: number; address: string; linkinfo: { info_kind: string; info_data: { id: number; local: string; port: number; learning: boolean; link: string } } }[]>('-d', 'link', 'show', 'vxlan.margay');
    expect(dev).toMatchObject({ mtu: 1350, address: '66:11:22:33:44:55' });
    expect(dev?.linkinfo.info_kind).toBe('vxlan');
    expect(dev?.linkinfo.info_data).toMatchObject({ id: 4096, local: '10.9.0.1', port: 4789, learning: false, link: 'mga' });
    const vx = nl.linkByName('vxlan.margay');
    expect(vx?.info).toEqual({ kind: 'vxlan', vxlan: { vni: 4096, port: 4789, local: '10.9.0.1', link: ifA, learning: false, ttl: 0 } });
    const index = vx?.index ?? 0;
    expect(nl.writeNeighs([
      { op: 'replace', neigh: { family: 'bridge', ifindex: index, state: NUD_PERMANENT, flags: NTF_SELF, lladdr: '66:aa:bb:cc:dd:ee', dst: '10.9.0.2' } },
      { op: 'replace', neigh: { family: 4, ifindex: index, state: NUD_PERMANENT, flags: 0, lladdr: '66:aa:bb:cc:dd:ee', dst: '10.244.2.0' } },
    ])).toEqual([]);
    const fdb = JSON.parse((await ip(ns, '-j', 'neigh', 'show', 'dev', 'vxlan.margay')).stdout) as { dst: string; lladdr: string; state: string[] }[];
    expect(fdb).toEqual([{ dst: '10.244.2.0', lladdr: '66:aa:bb:cc:dd:ee', state: ['PERMANENT'] }]);
    const { stdout } = await ip(ns, 'link', 'show', 'vxlan.margay');
    expect(stdout).toContain('vxlan.margay');
    const bridgeFdb = nl.neighs('bridge').filter((n) => n.ifindex === index);
    expect(bridgeFdb).toEqual([{ family: 'bridge', ifindex: index, state: NUD_PERMANENT, flags: NTF_SELF, lladdr: '66:aa:bb:cc:dd:ee', dst: '10.9.0.2' }]);
  });

  it('cannot create an ipip device on a kernel without the ipip module, and says so', () => {
    let err: unknown;
    try {
      nl.addLink({ name: 'tunl1', info: { kind: 'ipip', ipip: {} } });
    } catch (e) {
      err = e;
    }
    if (err === undefined) {
      expect(nl.linkByName('tunl1')?.info?.kind).toBe('ipip');
      return;
    }
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EOPNOTSUPP');
  });
});

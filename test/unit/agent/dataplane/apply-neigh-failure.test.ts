import { describe, expect, it } from 'vitest';
import { applyDataplane, applyKernelState } from '../../../../agent/dataplane/apply.js';
import type { NeighWrite, Rtnl, RouteWrite } from '../../../../agent/dataplane/kernel/rtnl.js';
import { IFF_UP, RT_SCOPE_UNIVERSE } from '../../../../agent/dataplane/netlink/constants.js';
import type { AddrMsg } from '../../../../agent/dataplane/netlink/addr.js';
import type { LinkMsg } from '../../../../agent/dataplane/netlink/link.js';
import type { NeighFamily } from '../../../../agent/dataplane/netlink/neigh.js';
import { DEFAULT_CONFIG, type DataplaneInput } from '../../../../agent/dataplane/plan/types.js';

const EINVAL = 22;

/** An in-memory kernel whose neighbour writes of the chosen families are refused (EINVAL). */
function kernel(refuse: readonly NeighFamily[]): { nl: Rtnl; routeWrites: RouteWrite[]; neighWrites: NeighWrite[] } {
  const links: LinkMsg[] = [{ index: 1, name: 'lo', flags: IFF_UP, mtu: 65536 }, { index: 2, name: 'eth0', flags: IFF_UP, mtu: 1500 }];
  const addrs: AddrMsg[] = [];
  const routeWrites: RouteWrite[] = [];
  const neighWrites: NeighWrite[] = [];
  const nl: Rtnl = {
    links: () => links.map((l) => ({ ...l })),
    linkByName: (name) => links.map((l) => ({ ...l })).find((l) => l.name === name),
    addLink: (req) => { links.push({ index: links.length + 1, name: req.name ?? '?', flags: req.up === true ? IFF_UP : 0, ...(req.mtu !== undefined ? { mtu: req.mtu } : {}), ...(req.mac !== undefined ? { mac: req.mac } : {}), ...(req.info ? { info: req.info } : {}) }); },
    setLink: () => undefined,
    deleteLink: () => undefined,
    addrs: () => addrs.map((a) => ({ ...a })),
    addAddr: (a) => { addrs.push({ family: 4, ifindex: a.ifindex, address: a.address, scope: RT_SCOPE_UNIVERSE, flags: 0 }); },
    deleteAddr: () => undefined,
    routes: () => [],
    writeRoutes: (w) => { routeWrites.push(...w); return []; },
    neighs: () => [],
    writeNeighs: (w) => {
      neighWrites.push(...w);
      return w.flatMap((x, index) => (refuse.includes(x.neigh.family) ? [{ index, errno: EINVAL, message: 'refused by the test' }] : []));
    },
    close: () => undefined,
  };
  return { nl, routeWrites, neighWrites };
}

const input: DataplaneInput = {
  localNode: 'a',
  nodes: [
    { name: 'a', address: '10.0.1.2/24', vxlanTunnelAddress: '192.168.0.1' },
    { name: 'b', address: '10.0.2.3/24', vxlanTunnelAddress: '192.168.1.1' },
    { name: 'c', address: '10.0.2.4/24', vxlanTunnelAddress: '192.168.2.1' },
  ],
  blocks: [{ cidr: '192.168.0.0/26', node: 'a' }, { cidr: '192.168.1.0/26', node: 'b' }, { cidr: '192.168.2.0/26', node: 'c' }],
  pools: [{ cidr: '192.168.0.0/16', vxlanMode: 'Always', ipipMode: 'Never', natOutgoing: true }],
  config: { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 },
};

describe('a refused FDB/neighbour write does not stop the pass (each step converges on its own)', () => {
  it('FDB refused: reported as problems; the ARP entries, the routes and NAT still apply', async () => {
    const k = kernel(['bridge']);
    const calls: string[][] = [];
    const report = await applyDataplane(k.nl, async (argv, stdin) => { calls.push([...argv, stdin ?? '']); return { code: argv.includes('-C') || argv.includes('-S') ? 1 : 0, stdout: '', stderr: '' }; }, input);
    expect(report.problems).toEqual([expect.stringMatching(/^VXLAN vxlan\.margay: fdb replace .*10\.0\.2\.3.*EINVAL.*refused by the test.*\(and 1 more\)$/)]);
    expect(k.neighWrites.filter((w) => w.neigh.family === 4).map((w) => w.neigh.dst).sort()).toEqual(['192.168.1.1', '192.168.2.1']);
    expect(k.routeWrites.map((w) => w.route.dst).sort()).toEqual(['192.168.0.0/26', '192.168.1.0/26', '192.168.2.0/26']);
    expect(calls.some((c) => c[0]?.endsWith('iptables-restore') === true && (c.at(-1) ?? '').includes('-s 192.168.0.0/16 -j MASQUERADE'))).toBe(true);
    expect(report.vxlan?.changes.filter((c) => c.startsWith('fdb'))).toEqual([]);
    expect(report.vxlan?.changes.filter((c) => c.startsWith('arp'))).toHaveLength(2);
  });
  it('ARP refused as well: both reported, routes still written', () => {
    const k = kernel(['bridge', 4]);
    const report = applyKernelState(k.nl, input);
    expect(report.problems).toHaveLength(2);
    expect(report.problems[1]).toMatch(/^VXLAN vxlan\.margay: arp replace 192\.168\.1\.1/);
    expect(k.routeWrites).toHaveLength(3);
  });
});

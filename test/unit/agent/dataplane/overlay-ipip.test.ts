import { describe, expect, it } from 'vitest';
import { EEXIST, NetlinkError } from '../../../../agent/dataplane/kernel/errno.js';
import type { Rtnl } from '../../../../agent/dataplane/kernel/rtnl.js';
import { IFF_UP, RT_SCOPE_UNIVERSE } from '../../../../agent/dataplane/netlink/constants.js';
import type { AddrMsg } from '../../../../agent/dataplane/netlink/addr.js';
import type { LinkMsg, LinkRequest } from '../../../../agent/dataplane/netlink/link.js';
import { reconcileIpip } from '../../../../agent/dataplane/overlay.js';

/**
 * A kernel whose ipip module is not loaded yet: the first request for an ipip link
 * loads it, which creates the fallback tunl0 (kind ipip, down) in every namespace —
 * so the CREATE|EXCL request itself then finds tunl0 and answers EEXIST.
 */
function moduleLoadingKernel(fallback: LinkMsg['info'] = { kind: 'ipip', ipip: {} }): { nl: Rtnl; links: LinkMsg[]; addrs: AddrMsg[] } {
  const links: LinkMsg[] = [{ index: 1, name: 'lo', flags: IFF_UP, mtu: 65536 }];
  const addrs: AddrMsg[] = [];
  const byIndex = (i: number | undefined): LinkMsg => {
    const l = links.find((x) => x.index === i);
    if (!l) throw new Error(`no link ${String(i)}`);
    return l;
  };
  const unused = (): never => { throw new Error('not used by reconcileIpip'); };
  const nl: Rtnl = {
    links: () => links.map((l) => ({ ...l })),
    linkByName: (name) => links.map((l) => ({ ...l })).find((l) => l.name === name),
    addLink: (req: LinkRequest) => {
      links.push({ index: 7, name: 'tunl0', flags: 0, mtu: 1480, ...(fallback ? { info: fallback } : {}) });
      throw new NetlinkError(EEXIST, `add link ${req.name ?? ''}`);
    },
    setLink: (req) => {
      const l = byIndex(req.index);
      if (req.mtu !== undefined) l.mtu = req.mtu;
      if (req.up !== undefined) l.flags = req.up ? l.flags | IFF_UP : l.flags & ~IFF_UP;
    },
    deleteLink: unused,
    addrs: () => addrs.map((a) => ({ ...a })),
    addAddr: (a) => { addrs.push({ family: 4, ifindex: a.ifindex, address: a.address, scope: RT_SCOPE_UNIVERSE, flags: 0 }); },
    deleteAddr: unused,
    routes: unused,
    writeRoutes: unused,
    neighs: unused,
    writeNeighs: unused,
    close: () => undefined,
  };
  return { nl, links, addrs };
}

describe('IPIP: first use on a kernel that loads the ipip module on demand', () => {
  it('EEXIST from creating tunl0 (the module load made the fallback device) → that device is used and configured', () => {
    const k = moduleLoadingKernel();
    const report = reconcileIpip(k.nl, { device: 'tunl0', mtu: 1430, address: '10.244.1.1/32' }, { device: 'tunl0' });
    expect(report.created).toBe(true);
    const tunl0 = k.links.find((l) => l.name === 'tunl0');
    expect(tunl0?.mtu).toBe(1430);
    expect((tunl0?.flags ?? 0) & IFF_UP).toBe(IFF_UP);
    expect(k.addrs).toEqual([expect.objectContaining({ ifindex: 7, address: '10.244.1.1/32' })]);
  });

  it('EEXIST with a device of another kind under that name is reported as the conflict it is', () => {
    const k = moduleLoadingKernel({ kind: 'other', name: 'dummy' });
    expect(() => reconcileIpip(k.nl, { device: 'tunl0', mtu: 1430 }, { device: 'tunl0' })).toThrow(/tunl0 .*dummy device/);
  });
});

/**
 * One dataplane pass's view of the kernel: the link and address dumps are taken
 * once and reused until the pass writes anything (every write drops them). A pass
 * asks for the links four times or more (uplink, each overlay device by name, the
 * route writer's device map) and on a node with a hundred pods one links dump costs
 * ~1 ms here — time spent before a new block's route reaches the kernel.
 *
 * Use a fresh memo per synchronous stretch of a pass: across an await, other code
 * in the agent (the CNI server wiring a pod) changes links.
 */
import type { Rtnl } from '../dataplane/kernel/rtnl.js';
import type { AddrMsg } from '../dataplane/netlink/addr.js';
import type { Family } from '../dataplane/netlink/ip.js';
import type { LinkMsg } from '../dataplane/netlink/link.js';

export function memoRtnl(nl: Rtnl): Rtnl {
  let links: LinkMsg[] | undefined;
  const addrs = new Map<string, AddrMsg[]>();
  const drop = (): void => { links = undefined; addrs.clear(); };
  const allLinks = (): LinkMsg[] => (links ??= nl.links());
  return {
    links: () => [...allLinks()],
    linkByName: (name) => allLinks().find((l) => l.name === name),
    addrs: (family?: Family) => {
      const key = String(family ?? 'all');
      let got = addrs.get(key);
      if (!got) { got = nl.addrs(family); addrs.set(key, got); }
      return [...got];
    },
    routes: (family) => nl.routes(family),
    neighs: (family) => nl.neighs(family),
    addLink: (req) => { drop(); nl.addLink(req); },
    setLink: (req) => { drop(); nl.setLink(req); },
    deleteLink: (index) => { drop(); nl.deleteLink(index); },
    addAddr: (a) => { drop(); nl.addAddr(a); },
    deleteAddr: (a) => { drop(); nl.deleteAddr(a); },
    writeRoutes: (w) => { drop(); return nl.writeRoutes(w); },
    writeNeighs: (w) => { drop(); return nl.writeNeighs(w); },
    close: () => nl.close(),
  };
}

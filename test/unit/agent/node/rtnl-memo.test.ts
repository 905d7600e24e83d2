import { describe, expect, it } from 'vitest';
import type { Rtnl } from '../../../../agent/dataplane/kernel/rtnl.js';
import type { LinkMsg } from '../../../../agent/dataplane/netlink/link.js';
import { memoRtnl } from '../../../../agent/node/rtnl-memo.js';

/** a kernel with links that counts its dumps */
function fakeKernel() {
  const calls = { links: 0, addrs: 0, routes: 0 };
  let links: LinkMsg[] = [{ index: 1, name: 'lo' } as LinkMsg, { index: 2, name: 'eth0' } as LinkMsg];
  const nl: Rtnl = {
    links: () => { calls.links++; return links.map((l) => ({ ...l })); },
    linkByName: (name) => { calls.links++; return links.find((l) => l.name === name); },
    addLink: (req) => { links = [...links, { index: links.length + 1, name: req.name } as LinkMsg]; },
    setLink: () => undefined,
    deleteLink: (index) => { links = links.filter((l) => l.index !== index); },
    addrs: () => { calls.addrs++; return []; },
    addAddr: () => undefined,
    deleteAddr: () => undefined,
    routes: () => { calls.routes++; return []; },
    writeRoutes: () => [],
    neighs: () => [],
    writeNeighs: () => [],
    close: () => undefined,
  };
  return { nl, calls };
}

describe('memoRtnl', () => {
  it('dumps the links once for any number of reads', () => {
    const k = fakeKernel();
    const m = memoRtnl(k.nl);
    expect(m.linkByName('eth0')?.index).toBe(2);
    expect(m.linkByName('tunl0')).toBeUndefined();
    expect(m.links().map((l) => l.name)).toEqual(['lo', 'eth0']);
    m.addrs(4);
    m.addrs(4);
    m.addrs(6);
    expect(k.calls).toEqual({ links: 1, addrs: 2, routes: 0 });
  });

  it('drops what it holds at every write, so a pass sees its own changes', () => {
    const k = fakeKernel();
    const m = memoRtnl(k.nl);
    expect(m.linkByName('tunl0')).toBeUndefined();
    m.addLink({ name: 'tunl0' });
    expect(m.linkByName('tunl0')?.name).toBe('tunl0');
    m.deleteLink(1);
    expect(m.links().map((l) => l.name)).toEqual(['eth0', 'tunl0']);
    expect(k.calls.links).toBe(3);
    m.addrs(4);
    m.writeRoutes([]);
    m.addrs(4);
    expect(k.calls.addrs).toBe(2);
  });

  it('hands out copies of the list: a caller cannot change what the next one reads', () => {
    const m = memoRtnl(fakeKernel().nl);
    m.links().pop();
    expect(m.links()).toHaveLength(2);
  });
});

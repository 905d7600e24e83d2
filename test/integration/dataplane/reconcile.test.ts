import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, ip, newRunPrefix } from '../../../agent/lab/netns.js';
import { openRtnl, type KernelRtnl } from '../../../agent/dataplane/kernel/rtnl.js';
import { reconcileRoutes } from '../../../agent/dataplane/routes.js';
import { MARGAY_ROUTE_PROTOCOL } from '../../../agent/dataplane/plan/resolve.js';
import type { DesiredRoute } from '../../../agent/dataplane/plan/types.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

interface IpRoute { dst: string; gateway?: string; dev?: string; protocol?: string; type?: string; flags: string[]; nexthops?: { gateway: string; dev: string }[] }

describe.skipIf(needsRoot)(`route reconcile against the kernel (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  const ns = `${newRunPrefix()}rc`;
  let nl: KernelRtnl;
  const desired: DesiredRoute[] = [
    { dst: '10.244.1.0/26', type: 'blackhole', nexthops: [], reason: 'own block' },
    { dst: '10.244.2.0/26', type: 'unicast', nexthops: [{ gateway: '10.9.0.2', dev: 'up0', onlink: false, weight: 1 }], reason: 'direct' },
    { dst: '10.244.3.0/26', type: 'unicast', nexthops: [{ gateway: '10.244.3.0', dev: 'up0', onlink: true, weight: 1 }], reason: 'onlink' },
    { dst: '10.244.4.0/26', type: 'unicast', nexthops: [
      { gateway: '10.9.0.2', dev: 'up0', onlink: false, weight: 1 }, { gateway: '10.9.0.3', dev: 'up0', onlink: false, weight: 1 },
    ], reason: 'ecmp' },
    { dst: 'fd44:1::/122', type: 'blackhole', nexthops: [], reason: 'own v6 block' },
  ];

  beforeAll(async () => {
    await addNetns(ns);
    await ip(ns, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1');
    await ip(ns, 'link', 'set', 'up0', 'up');
    await ip(ns, 'link', 'set', 'up1', 'up');
    await ip(ns, 'addr', 'add', '10.9.0.1/24', 'dev', 'up0');
    nl = openRtnl({ netns: ns });
  });
  afterAll(async () => {
    nl?.close();
    await deleteNetns(ns);
  });

  const shown = async (): Promise<Map<string, IpRoute>> => {
    const v4 = JSON.parse((await ip(ns, '-j', 'route', 'show', 'proto', String(MARGAY_ROUTE_PROTOCOL))).stdout) as IpRoute[];
    const v6 = JSON.parse((await ip(ns, '-j', '-6', 'route', 'show', 'proto', String(MARGAY_ROUTE_PROTOCOL))).stdout) as IpRoute[];
    return new Map([...v4, ...v6].map((r) => [r.dst, r]));
  };

  it('installs the desired set, then a second pass changes nothing', async () => {
    const first = reconcileRoutes(nl, desired);
    expect(first).toMatchObject({ added: 5, replaced: 0, deleted: 0, failed: [], conflicts: [], unresolved: [] });
    const routes = await shown();
    expect([...routes.keys()].sort()).toEqual(['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26', '10.244.4.0/26', 'fd44:1::/122']);
    expect(routes.get('10.244.3.0/26')).toMatchObject({ gateway: '10.244.3.0', dev: 'up0', flags: ['onlink'] });
    expect(routes.get('10.244.4.0/26')?.nexthops?.map((n) => n.gateway)).toEqual(['10.9.0.2', '10.9.0.3']);
    expect(reconcileRoutes(nl, desired)).toMatchObject({ added: 0, replaced: 0, deleted: 0, unchanged: 5 });
  });

  it('repairs drift: a route deleted by hand comes back, one changed by hand is put back', async () => {
    await ip(ns, 'route', 'del', '10.244.2.0/26');
    await ip(ns, 'route', 'change', '10.244.3.0/26', 'via', '10.9.0.7', 'dev', 'up0', 'proto', String(MARGAY_ROUTE_PROTOCOL));
    await ip(ns, 'route', 'replace', '10.244.1.0/26', 'via', '10.9.0.8', 'dev', 'up0'); // now proto boot: taken over
    const r = reconcileRoutes(nl, desired);
    expect(r).toMatchObject({ added: 1, replaced: 2, deleted: 0, failed: [] });
    const routes = await shown();
    expect(routes.get('10.244.2.0/26')).toMatchObject({ gateway: '10.9.0.2' });
    expect(routes.get('10.244.3.0/26')).toMatchObject({ gateway: '10.244.3.0', flags: ['onlink'] });
    expect(routes.get('10.244.1.0/26')).toMatchObject({ type: 'blackhole' });
  });

  it('leaves foreign routes alone and deletes only its own stale ones', async () => {
    await ip(ns, 'route', 'add', '192.168.50.0/24', 'via', '10.9.0.9', 'dev', 'up0');
    await ip(ns, 'route', 'add', '192.168.51.0/24', 'via', '10.9.0.9', 'dev', 'up0', 'proto', 'static');
    await ip(ns, 'route', 'add', '10.244.9.0/26', 'via', '10.9.0.9', 'dev', 'up0', 'proto', String(MARGAY_ROUTE_PROTOCOL));
    const r = reconcileRoutes(nl, desired.slice(1));
    expect(r).toMatchObject({ added: 0, replaced: 0, deleted: 2, unchanged: 4 });
    const all = JSON.parse((await ip(ns, '-j', 'route', 'show')).stdout) as IpRoute[];
    const dsts = all.map((x) => x.dst);
    expect(dsts).toEqual(expect.arrayContaining(['192.168.50.0/24', '192.168.51.0/24', '10.9.0.0/24']));
    expect(dsts).not.toContain('10.244.9.0/26');
    expect(dsts).not.toContain('10.244.1.0/26');
  });

  it('reports a route through a missing device without touching what is there', () => {
    const r = reconcileRoutes(nl, [...desired.slice(1), { dst: '10.244.7.0/26', type: 'unicast', nexthops: [{ gateway: '10.244.7.0', dev: 'nosuch0', onlink: true, weight: 1 }], reason: 'x' }]);
    expect(r.unresolved).toEqual([{ dst: '10.244.7.0/26', missing: 'nosuch0' }]);
    expect(r).toMatchObject({ added: 0, deleted: 0, unchanged: 4 });
  });

  it('a fresh socket (a restarted agent) converges without removing a working route', async () => {
    const again = openRtnl({ netns: ns });
    try {
      const before = await shown();
      const r = reconcileRoutes(again, desired.slice(1));
      expect(r).toMatchObject({ added: 0, replaced: 0, deleted: 0, unchanged: 4 });
      expect(await shown()).toEqual(before);
    } finally {
      again.close();
    }
  });
});

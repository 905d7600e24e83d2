/**
 * Route programming rate: margay's netlink layer vs `ip -batch`, in one run, in a
 * throwaway namespace. For 10k and 100k /32 routes via a gateway on a veth: install,
 * then remove, each way; plus a full reconcile (dump + diff + write) through
 * reconcileRoutes. One JSON line per (count, operation) with both rates and the
 * ratio margay / ip (target ≥ 0.9).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { addNetns, deleteNetns, ip, isRoot, newRunPrefix } from '../../../agent/lab/netns.js';
import { openRtnl, type KernelRtnl, type RouteWrite } from '../../../agent/dataplane/kernel/rtnl.js';
import { RT_SCOPE_UNIVERSE, RT_TABLE_MAIN } from '../../../agent/dataplane/netlink/constants.js';
import type { RouteMsg } from '../../../agent/dataplane/netlink/route.js';
import { MARGAY_ROUTE_PROTOCOL } from '../../../agent/dataplane/plan/resolve.js';
import type { DesiredRoute } from '../../../agent/dataplane/plan/types.js';
import { reconcileRoutes } from '../../../agent/dataplane/routes.js';
import type { Emit } from '../run.js';

const COUNTS = (process.env.MARGAY_BENCH_ROUTES ?? '10000,100000').split(',').map(Number);
const dstOf = (i: number): string => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;

async function countRoutes(ns: string): Promise<number> {
  const { stdout } = await ip(ns, 'route', 'show', 'proto', String(MARGAY_ROUTE_PROTOCOL));
  return stdout.split('\n').filter((l) => l !== '').length;
}

async function timeIt(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export async function run(emit: Emit): Promise<void> {
  if (!isRoot()) {
    process.stderr.write('bench dataplane/routes: skipped, needs root (network namespaces)\n');
    return;
  }
  const ns = `${newRunPrefix()}bench`;
  const dir = await mkdtemp(join(tmpdir(), 'margay-routes-bench-'));
  let nl: KernelRtnl | undefined;
  try {
    await addNetns(ns);
    await ip(ns, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1');
    await ip(ns, 'link', 'set', 'up0', 'up');
    await ip(ns, 'link', 'set', 'up1', 'up');
    await ip(ns, 'addr', 'add', '10.9.0.1/24', 'dev', 'up0');
    nl = openRtnl({ netns: ns });
    const ifindex = nl.linkByName('up0')?.index ?? 0;
    for (const n of COUNTS) {
      const routes: RouteMsg[] = [];
      for (let i = 0; i < n; i++) {
        routes.push({ family: 4, dst: dstOf(i), table: RT_TABLE_MAIN, protocol: MARGAY_ROUTE_PROTOCOL, scope: RT_SCOPE_UNIVERSE, type: 'unicast', nexthops: [{ gateway: '10.9.0.2', ifindex, onlink: false, weight: 1 }] });
      }
      const addFile = join(dir, `add-${n}`);
      const delFile = join(dir, `del-${n}`);
      await writeFile(addFile, routes.map((r) => `route add ${r.dst} via 10.9.0.2 dev up0 proto ${MARGAY_ROUTE_PROTOCOL}\n`).join(''));
      await writeFile(delFile, routes.map((r) => `route del ${r.dst} via 10.9.0.2 dev up0 proto ${MARGAY_ROUTE_PROTOCOL}\n`).join(''));

      const ipAdd = await timeIt(async () => { await ip(ns, '-batch', addFile); });
      if ((await countRoutes(ns)) !== n) throw new Error(`ip -batch installed the wrong number of routes`);
      const ipDel = await timeIt(async () => { await ip(ns, '-batch', delFile); });

      const k = nl;
      let failures = 0;
      const adds: RouteWrite[] = routes.map((route) => ({ op: 'add', route }));
      const mgAdd = await timeIt(() => { failures += k.writeRoutes(adds).length; });
      if ((await countRoutes(ns)) !== n) throw new Error(`margay installed the wrong number of routes`);
      const dels: RouteWrite[] = routes.map((route) => ({ op: 'delete', route }));
      const mgDel = await timeIt(() => { failures += k.writeRoutes(dels).length; });
      if (failures > 0 || (await countRoutes(ns)) !== 0) throw new Error(`margay batch: ${failures} failures`);

      const desired: DesiredRoute[] = routes.map((r) => ({ dst: r.dst, type: 'unicast', nexthops: [{ gateway: '10.9.0.2', dev: 'up0', onlink: false, weight: 1 }], reason: 'bench' }));
      const recAdd = await timeIt(() => { reconcileRoutes(k, desired); });
      const recNoop = await timeIt(() => { reconcileRoutes(k, desired); });
      const recDel = await timeIt(() => { reconcileRoutes(k, []); });
      if ((await countRoutes(ns)) !== 0) throw new Error('reconcile left routes behind');

      const line = (op: string, mg: number, ipS: number): void => emit({
        bench: 'dataplane/routes', routes: n, op,
        margay_routes_per_s: Math.round(n / mg), ip_batch_routes_per_s: Math.round(n / ipS),
        ratio: Number((ipS / mg).toFixed(2)), margay_s: Number(mg.toFixed(3)), ip_batch_s: Number(ipS.toFixed(3)),
      });
      line('install', mgAdd, ipAdd);
      line('remove', mgDel, ipDel);
      line('reconcile-install', recAdd, ipAdd);
      line('reconcile-remove', recDel, ipDel);
      emit({ bench: 'dataplane/routes', routes: n, op: 'reconcile-noop', margay_s: Number(recNoop.toFixed(3)) });
    }
  } finally {
    nl?.close();
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  }
}

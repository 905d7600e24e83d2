import { describe, expect, it } from 'vitest';
import type { RouteMsg } from '../../../../../agent/dataplane/netlink/route.js';
import { diffRoutes } from '../../../../../agent/dataplane/plan/route-diff.js';
import { MARGAY_POD_ROUTE_PROTOCOL, resolveRoutes } from '../../../../../agent/dataplane/plan/resolve.js';

const P = 80;
const r = (dst: string, gw?: string, protocol = P, extra: Partial<RouteMsg> = {}): RouteMsg => ({
  family: 4, dst, table: 254, protocol, scope: 0, type: gw ? 'unicast' : 'blackhole',
  nexthops: gw ? [{ gateway: gw, ifindex: 2, onlink: false, weight: 1 }] : [], ...extra,
});
const ops = (d: ReturnType<typeof diffRoutes>): string[] => d.ops.map((o) => `${o.op} ${o.route.dst}${o.route.nexthops[0]?.gateway ? ` via ${o.route.nexthops[0].gateway}` : ''}`);

describe('route diff', () => {
  it('touches nothing that is already as desired', () => {
    const d = diffRoutes([r('10.0.1.0/26'), r('10.0.2.0/26', '1.1.1.1')], [r('10.0.2.0/26', '1.1.1.1'), r('10.0.1.0/26')], P);
    expect(d).toEqual({ ops: [], conflicts: [], unchanged: 2 });
  });
  it('adds missing, replaces changed, deletes its own stale routes', () => {
    const d = diffRoutes([r('10.0.1.0/26'), r('10.0.2.0/26', '1.1.1.1')], [r('10.0.2.0/26', '9.9.9.9'), r('10.0.3.0/26', '1.1.1.1')], P);
    expect(ops(d)).toEqual(['add 10.0.1.0/26', 'replace 10.0.2.0/26 via 1.1.1.1', 'delete 10.0.3.0/26 via 1.1.1.1']);
  });
  it('leaves foreign routes alone, but takes over one that holds a destination it must program', () => {
    const d = diffRoutes([r('10.0.1.0/26')], [r('192.168.0.0/16', '1.1.1.1', 3), r('10.0.1.0/26', '7.7.7.7', 3)], P);
    expect(ops(d)).toEqual(['replace 10.0.1.0/26']);
  });
  it('never takes over a kernel route and says so', () => {
    const kernel = r('10.0.1.0/26', undefined, 2, { type: 'unicast', scope: 253, nexthops: [{ ifindex: 2, onlink: false, weight: 1 }] });
    const d = diffRoutes([r('10.0.1.0/26')], [kernel], P);
    expect(d.ops).toEqual([]);
    expect(d.conflicts).toEqual([{ want: r('10.0.1.0/26'), have: kernel }]);
  });
  it('never takes over (nor deletes) a pod host route of the CNI plugin: a learned route for a local pod is a conflict', () => {
    const pod = r('10.244.1.5/32', undefined, MARGAY_POD_ROUTE_PROTOCOL, { type: 'unicast', scope: 253, nexthops: [{ ifindex: 7, onlink: false, weight: 1 }] });
    const want = r('10.244.1.5/32', '172.30.0.1');
    const d = diffRoutes([want], [pod], P);
    expect(d.ops).toEqual([]);
    expect(d.conflicts).toEqual([{ want, have: pod }]);
    expect(diffRoutes([], [pod], P).ops).toEqual([]);
  });
  it('deletes duplicates of its own route that differ only in metric', () => {
    const d = diffRoutes([r('10.0.1.0/26')], [r('10.0.1.0/26'), r('10.0.1.0/26', undefined, P, { priority: 5 })], P);
    expect(d.ops).toEqual([{ op: 'delete', route: r('10.0.1.0/26', undefined, P, { priority: 5 }) }]);
  });
  it('compares next hops as a set and ignores the kernel\'s lo next hop on IPv6 blackholes', () => {
    const two = (a: string, b: string): RouteMsg => ({ ...r('10.0.4.0/26', '1.1.1.1'), nexthops: [a, b].map((g) => ({ gateway: g, ifindex: 2, onlink: false, weight: 1 })) });
    expect(diffRoutes([two('1.1.1.1', '2.2.2.2')], [two('2.2.2.2', '1.1.1.1')], P).unchanged).toBe(1);
    const v6want: RouteMsg = { family: 6, dst: 'fd44::/122', table: 254, protocol: P, scope: 0, type: 'blackhole', nexthops: [] };
    expect(diffRoutes([v6want], [{ ...v6want, priority: 1024, nexthops: [{ ifindex: 1, onlink: false, weight: 1 }] }], P).unchanged).toBe(1);
  });
  it('resolves device names to indexes and sets scope link on device routes', () => {
    const res = resolveRoutes([
      { dst: '10.0.1.5/32', type: 'unicast', nexthops: [{ dev: 'cali1', onlink: false, weight: 1 }], reason: 'pod' },
      { dst: '10.0.2.0/26', type: 'unicast', nexthops: [{ gateway: '10.0.2.0', dev: 'vxlan.margay', onlink: true, weight: 1 }], reason: 'x' },
    ], new Map([['cali1', 7]]), { protocol: P });
    expect(res.routes).toEqual([{ family: 4, dst: '10.0.1.5/32', table: 254, protocol: P, scope: 253, type: 'unicast', nexthops: [{ ifindex: 7, onlink: false, weight: 1 }] }]);
    expect(res.unresolved.map((u) => u.missing)).toEqual(['vxlan.margay']);
  });
});

/**
 * The fast path decides with the full pass's own functions: for any learned table
 * and any changed prefix, the route it writes is the one the full pass would have
 * (resolved the same way), across direct, VXLAN (Always / CrossSubnet), ECMP, router
 * next hops and own blocks; a withdrawn prefix margay holds is deleted by
 * (dst, protocol 80) only; ownership decides add (EXCL) vs replace; blocks whose hops
 * differ only in order and repeats share a route template.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RT_TABLE_MAIN } from '../../../../agent/dataplane/netlink/constants.js';
import { MARGAY_ROUTE_PROTOCOL, resolveRoutes } from '../../../../agent/dataplane/plan/resolve.js';
import { planDataplane } from '../../../../agent/dataplane/plan/route-plan.js';
import { DEFAULT_CONFIG, type PoolSpec } from '../../../../agent/dataplane/plan/types.js';
import type { Block } from '../../../../agent/ipam/types.js';
import type { NodeBgpInfo } from '../../../../agent/node-config/types.js';
import { dataplaneInputOf } from '../../../../agent/node/desired.js';
import { planFastWrites, type RouteContext } from '../../../../agent/node/fast-plan.js';

const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };
const n = (name: string, address: string, vx?: string): NodeBgpInfo => ({ name, labels: {}, address, asn: 64512, ...(vx ? { vxlanTunnelAddress: vx } : {}) });
const nodes = [n('n1', '172.30.0.11/24'), n('n2', '172.30.0.12/24'), n('n3', '172.30.1.13/24'), n('n4', '172.30.0.14/24')];
const own: Block[] = [{ cidr: '10.0.0.0/26', pool: 'a', affinity: 'host:n1', allocations: [null], attributes: {} }];
const tunnels = new Map([['n1', { vxlan: '10.0.0.1' }], ['n2', { vxlan: '10.1.0.1' }], ['n3', { vxlan: '10.0.2.1' }]]);
const ifindexByName = new Map([['eth0', 2], [config.vxlanDevice, 7]]);
const pools: PoolSpec[] = [
  { cidr: '10.0.0.0/16', ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: false },
  { cidr: '10.1.0.0/16', ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: false },
  { cidr: '10.2.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false },
];
const ctx: RouteContext = { node: 'n1', nodes, pools, config, tunnels, ifindexByName };

/** What the full pass would write for dst: its whole plan, resolved, that destination only. */
function fullPassRoute(learned: ReadonlyMap<string, readonly string[]>, dst: string) {
  const { input } = dataplaneInputOf({ node: 'n1', nodes, pools, own, learned, config, tunnels });
  const { routes } = resolveRoutes(planDataplane(input).routes, ifindexByName, { protocol: MARGAY_ROUTE_PROTOCOL, table: RT_TABLE_MAIN });
  return routes.find((r) => r.dst === dst);
}

describe('fast path planning (planFastWrites)', () => {
  it('writes exactly the full pass\'s route for every changed prefix (property)', () => {
    // outside every pool: an IPv4 and an IPv6 prefix (the same pool and hops, another family: another route)
    const prefixes = ['10.0.0.0/26', '10.0.1.0/26', '10.1.0.64/26', '10.2.0.0/26', '10.2.0.64/26', '192.168.7.0/26', 'fd00:7::/122'];
    const hops = ['172.30.0.11', '172.30.0.12', '172.30.1.13', '172.30.0.14', '172.30.0.1', '192.0.2.1'];
    fc.assert(fc.property(
      // hops may repeat (ECMP from several paths through the same router): repeats aside, the same route
      fc.dictionary(fc.constantFrom(...prefixes), fc.array(fc.constantFrom(...hops), { minLength: 1, maxLength: 3 })),
      fc.subarray(prefixes, { minLength: 1 }),
      (table, changed) => {
        const learned = new Map(Object.entries(table));
        const programmed = new Set(prefixes.filter((_, i) => i % 2 === 0));
        const r = planFastWrites(ctx, { own, learned }, changed, programmed);
        expect(r.fallback).toBeUndefined();
        for (const dst of changed) {
          const want = fullPassRoute(learned, dst);
          const w = r.writes.find((x) => x.route.dst === dst);
          if (want) expect(w).toEqual({ op: programmed.has(dst) ? 'replace' : 'add', route: want });
          else if (programmed.has(dst)) expect(w?.op).toBe('delete');
          else expect(w).toBeUndefined();
        }
        expect(r.writes.every((w) => changed.includes(w.route.dst))).toBe(true);
      },
    ), { numRuns: 300 });
  });

  it('a VXLAN block (pool Always) goes onlink via the owner\'s tunnel address; CrossSubnet goes direct on the subnet and over VXLAN off it; ECMP keeps both owners', () => {
    const learned = new Map([['10.1.0.64/26', ['172.30.0.12']], ['10.0.1.0/26', ['172.30.0.12', '172.30.1.13']]]);
    const r = planFastWrites(ctx, { own, learned }, ['10.1.0.64/26', '10.0.1.0/26'], new Set());
    const vx = r.writes.find((w) => w.route.dst === '10.1.0.64/26')?.route;
    expect(vx?.nexthops).toEqual([{ gateway: '10.1.0.1', ifindex: 7, onlink: true, weight: 1 }]);
    const ecmp = r.writes.find((w) => w.route.dst === '10.0.1.0/26')?.route;
    expect(ecmp?.nexthops).toEqual(expect.arrayContaining([
      { gateway: '172.30.0.12', ifindex: 2, onlink: false, weight: 1 },
      { gateway: '10.0.2.1', ifindex: 7, onlink: true, weight: 1 },
    ]));
    expect(ecmp?.nexthops).toHaveLength(2);
  });

  it('hop lists that differ only in order and repeats share one route template (the second block reuses the first one\'s route)', () => {
    const fresh: RouteContext = { ...ctx }; // templates are per context: none yet
    const first = planFastWrites(fresh, { own, learned: new Map([['10.2.0.0/26', ['172.30.0.14', '172.30.0.12']]]) }, ['10.2.0.0/26'], new Set()).writes[0]?.route;
    const again = planFastWrites(fresh, { own, learned: new Map([['10.2.0.64/26', ['172.30.0.12', '172.30.0.14', '172.30.0.12']]]) }, ['10.2.0.64/26'], new Set()).writes[0]?.route;
    expect(first?.nexthops).toHaveLength(2);
    expect(again).toEqual({ ...first, dst: '10.2.0.64/26' });
    expect(again?.nexthops).toBe(first?.nexthops); // the template's own next hops: not planned again
  });

  it('a host route inside an own block (a router\'s /32, or an address lent to another node) steps aside: the full pass decides, as it shadows or takes it', () => {
    for (const hops of [['172.30.0.1'], ['172.30.0.12']]) {
      const learned = new Map([['10.0.0.8/32', hops]]);
      const r = planFastWrites(ctx, { own, learned }, ['10.0.0.8/32'], new Set());
      expect(r).toEqual({ writes: [], fallback: '10.0.0.8/32 lies inside an own block' });
    }
    // the own block itself, and a prefix outside it, are still the fast path's
    expect(planFastWrites(ctx, { own, learned: new Map() }, ['10.0.0.0/26'], new Set()).fallback).toBeUndefined();
    expect(planFastWrites(ctx, { own, learned: new Map([['10.0.1.0/26', ['172.30.0.12']]]) }, ['10.0.1.0/26'], new Set()).fallback).toBeUndefined();
  });

  it('a withdrawn prefix margay holds is deleted by destination and protocol only; one it does not hold is left alone', () => {
    const r = planFastWrites(ctx, { own, learned: new Map() }, ['10.2.0.0/26', '10.2.0.64/26'], new Set(['10.2.0.0/26']));
    expect(r.writes).toEqual([{ op: 'delete', route: { family: 4, dst: '10.2.0.0/26', table: RT_TABLE_MAIN, protocol: MARGAY_ROUTE_PROTOCOL, scope: 255, type: 'unspec', nexthops: [] } }]);
  });

  it('an own block just claimed becomes its blackhole; a route through a device that does not exist yet steps aside', () => {
    const claimed: Block = { cidr: '10.0.0.64/26', pool: 'a', affinity: 'host:n1', allocations: [null], attributes: {} };
    const r = planFastWrites(ctx, { own: [...own, claimed], learned: new Map() }, ['10.0.0.64/26'], new Set(['10.0.0.0/26']));
    expect(r.writes).toEqual([{ op: 'add', route: expect.objectContaining({ dst: '10.0.0.64/26', type: 'blackhole', protocol: MARGAY_ROUTE_PROTOCOL }) }]);
    const noVxlan: RouteContext = { ...ctx, ifindexByName: new Map([['eth0', 2]]) };
    const r2 = planFastWrites(noVxlan, { own, learned: new Map([['10.1.0.64/26', ['172.30.0.12']]]) }, ['10.1.0.64/26'], new Set());
    expect(r2.writes).toEqual([]);
    expect(r2.fallback).toMatch(/vxlan/);
  });
});

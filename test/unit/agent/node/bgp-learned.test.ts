/**
 * The agent's intake of the speaker's best routes (NodeBgp.onRoutes → `learned`):
 * a 32-byte IPv6 next hop (RFC 2545 §3) is one router's global and link-local
 * address, so the link-local half must not become a second, unreachable router.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { RouteChange } from '../../../../bgp/speaker/index.js';
import { NodeBgp } from '../../../../agent/node/bgp.js';
import { dataplaneInputOf } from '../../../../agent/node/desired.js';
import { planDataplane } from '../../../../agent/dataplane/plan/route-plan.js';
import { DEFAULT_CONFIG } from '../../../../agent/dataplane/plan/types.js';

/** a NodeBgp with no speaker running, fed RouteChanges as its core would */
function intake() {
  const changed: string[][] = [];
  const bgp = new NodeBgp({ log: pino({ level: 'silent' }), restartTime: 120, holdTime: 9, onRoutesChanged: (p) => void changed.push(p) });
  const feed = (changes: RouteChange[]) => (bgp as unknown as { onRoutes(c: RouteChange[]): void }).onRoutes(changes);
  return { bgp, feed, changed };
}
const add = (prefix: string, nextHops: string[]): RouteChange => ({ prefix, kind: 'add', nextHops });

describe('NodeBgp.onRoutes: IPv6 next hops with a link-local half', () => {
  it('a global + link-local next hop is learned as the global alone; a link-local next hop alone stays', () => {
    const { bgp, feed, changed } = intake();
    feed([
      add('2001:db8:99::/64', ['2001:db8:1::fe', 'fe80::fe']),
      add('2001:db8:98::/64', ['fe80::fe']),
      add('10.9.0.0/16', ['10.0.0.254']),
      add('2001:db8:97::/64', ['2001:db8:1::fe', 'fe80::fe', '2001:db8:1::fd', 'febf::fd']), // multipath: two routers
    ]);
    expect(Object.fromEntries(bgp.learned)).toEqual({
      '2001:db8:99::/64': ['2001:db8:1::fe'],
      '2001:db8:98::/64': ['fe80::fe'],
      '10.9.0.0/16': ['10.0.0.254'],
      '2001:db8:97::/64': ['2001:db8:1::fe', '2001:db8:1::fd'],
    });
    expect(changed).toHaveLength(1);
    // the same route again (only its link-local half differs): learned is unchanged, nothing wakes the dataplane
    feed([{ ...add('2001:db8:99::/64', ['2001:db8:1::fe', 'fe80::1:fe']), kind: 'change' }]);
    expect(changed).toHaveLength(1);
    expect(bgp.learned.get('2001:db8:99::/64')).toEqual(['2001:db8:1::fe']);
  });

  it('planned from what was learned: routes via the global next hops and no "not programmed" problem for the link-local half', () => {
    const { bgp, feed } = intake();
    feed([
      add('2001:db8:99::/64', ['2001:db8:1::fe', 'fe80::fe']), // a ToR
      add('fd00:10::40/122', ['2001:db8:1::2', 'fe80::2']), // node n2, via a reflector that kept the link-local
    ]);
    const nodes = [
      { name: 'n1', labels: {}, asn: 64512, address: '10.0.0.1/24', address6: '2001:db8:1::1/64' },
      { name: 'n2', labels: {}, asn: 64512, address: '10.0.0.2/24', address6: '2001:db8:1::2/64' },
    ];
    const pools = [{ cidr: 'fd00:10::/64', vxlanMode: 'Never' as const, ipipMode: 'Never' as const, natOutgoing: true }];
    const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };
    const { input } = dataplaneInputOf({ node: 'n1', nodes, pools, own: [], learned: bgp.learned, config });
    const plan = planDataplane(input);
    expect(plan.problems).toEqual([]);
    expect(plan.routes.map((r) => [r.dst, r.nexthops.map((h) => h.gateway)])).toEqual([
      ['2001:db8:99::/64', ['2001:db8:1::fe']],
      ['fd00:10::40/122', ['2001:db8:1::2']],
    ]);
  });

  it('a link-local next hop alone is learned as it came: the planner reports it (not on the node\'s subnet), as before', () => {
    const { bgp, feed } = intake();
    feed([add('2001:db8:98::/64', ['fe80::fe'])]);
    const nodes = [{ name: 'n1', labels: {}, asn: 64512, address6: '2001:db8:1::1/64' }];
    const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };
    const plan = planDataplane(dataplaneInputOf({ node: 'n1', nodes, pools: [], own: [], learned: bgp.learned, config }).input);
    expect(plan.routes).toEqual([]);
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]).toContain('route 2001:db8:98::/64 via fe80::fe');
  });
});

/**
 * FastRoutes (the shell around the fast plan) on a recording Rtnl: it steps aside
 * before the first full pass and for large bursts, writes one batch per event, keeps
 * track of what margay holds (so a later withdraw deletes and a later change
 * replaces), and reports a refused write so the agent runs the full pass at once.
 */
import { describe, expect, it } from 'vitest';
import type { Rtnl, RouteWrite } from '../../../../agent/dataplane/kernel/rtnl.js';
import type { BatchFailure } from '../../../../agent/dataplane/kernel/nl-socket.js';
import type { DataplaneReport } from '../../../../agent/dataplane/apply.js';
import { DEFAULT_CONFIG } from '../../../../agent/dataplane/plan/types.js';
import type { NodeBgpInfo } from '../../../../agent/node-config/types.js';
import { FAST_PATH_BUDGET, FAST_PATH_MAX_PREFIXES, FastRoutes } from '../../../../agent/node/fast-routes.js';
import type { RouteContext } from '../../../../agent/node/fast-plan.js';

const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };
const n = (name: string, address: string): NodeBgpInfo => ({ name, labels: {}, address, asn: 64512 });
const ctx: RouteContext = {
  node: 'n1', nodes: [n('n1', '172.30.0.11/24'), n('n2', '172.30.0.12/24')],
  pools: [{ cidr: '10.0.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }],
  config, tunnels: new Map(), ifindexByName: new Map([['eth0', 2]]),
};
const report = (dsts: string[]): Pick<DataplaneReport, 'plan' | 'routes'> => ({
  plan: { routes: dsts.map((dst) => ({ dst, type: 'unicast' as const, nexthops: [], reason: '' })), problems: [] },
  routes: { added: 0, replaced: 0, deleted: 0, unchanged: dsts.length, failed: [], conflicts: [], unresolved: [] },
});

function recorder(refuse: (w: RouteWrite) => boolean = () => false): { nl: Rtnl; batches: RouteWrite[][] } {
  const batches: RouteWrite[][] = [];
  const nope = (): never => { throw new Error('the fast path must only write routes'); };
  const nl: Rtnl = {
    links: nope, linkByName: nope, addLink: nope, setLink: nope, deleteLink: nope, addrs: nope, addAddr: nope, deleteAddr: nope,
    routes: nope, neighs: nope, writeNeighs: nope, close: () => undefined,
    writeRoutes: (ws) => {
      batches.push([...ws]);
      return ws.flatMap((w, index): BatchFailure[] => (refuse(w) ? [{ index, errno: 17, message: 'File exists' }] : []));
    },
  };
  return { nl, batches };
}

describe('FastRoutes', () => {
  it('steps aside until a full pass has run, then writes one batch; held destinations are replaced, then deleted on withdraw', () => {
    const fast = new FastRoutes();
    const { nl, batches } = recorder();
    const learned = new Map([['10.0.1.0/26', ['172.30.0.12']]]);
    expect(fast.write(nl, { own: [], learned }, ['10.0.1.0/26'])).toEqual({ done: false, why: 'no full pass yet' });
    expect(batches).toEqual([]);
    fast.passed(ctx, report([]));
    expect(fast.write(nl, { own: [], learned }, ['10.0.1.0/26'])).toEqual({ done: true, written: 1 });
    expect(batches).toHaveLength(1);
    expect(batches[0]?.map((w) => [w.op, w.route.dst, w.route.nexthops[0]?.gateway])).toEqual([['add', '10.0.1.0/26', '172.30.0.12']]);
    learned.set('10.0.1.0/26', ['172.30.0.12', '172.30.0.13']); // 172.30.0.13 is no node: a router on the subnet
    fast.write(nl, { own: [], learned }, ['10.0.1.0/26']);
    expect(batches[1]?.[0]?.op).toBe('replace');
    expect(batches[1]?.[0]?.route.nexthops).toHaveLength(2);
    learned.delete('10.0.1.0/26');
    expect(fast.write(nl, { own: [], learned }, ['10.0.1.0/26'])).toEqual({ done: true, written: 1 });
    expect(batches[2]?.map((w) => [w.op, w.route.dst, w.route.protocol])).toEqual([['delete', '10.0.1.0/26', 80]]);
    // gone from what margay holds: a second withdraw writes nothing
    expect(fast.write(nl, { own: [], learned }, ['10.0.1.0/26'])).toEqual({ done: true, written: 0 });
    expect(batches).toHaveLength(3);
  });

  it('what the last full pass holds decides add vs replace; conflicts and failures it reported are not held', () => {
    const fast = new FastRoutes();
    const { nl, batches } = recorder();
    const r = report(['10.0.1.0/26', '10.0.2.0/26']);
    r.routes.conflicts = [{ want: { family: 4, dst: '10.0.2.0/26', table: 254, protocol: 80, scope: 0, type: 'unicast', nexthops: [] }, have: { family: 4, dst: '10.0.2.0/26', table: 254, protocol: 2, scope: 0, type: 'unicast', nexthops: [] } }];
    fast.passed(ctx, r);
    const learned = new Map([['10.0.1.0/26', ['172.30.0.12']], ['10.0.2.0/26', ['172.30.0.12']]]);
    fast.write(nl, { own: [], learned }, ['10.0.1.0/26', '10.0.2.0/26']);
    expect(batches[0]?.map((w) => [w.op, w.route.dst])).toEqual([['replace', '10.0.1.0/26'], ['add', '10.0.2.0/26']]);
  });

  it('a refused write is reported (the agent then runs the full pass at once) and is not counted as held', () => {
    const fast = new FastRoutes();
    const { nl, batches } = recorder((w) => w.route.dst === '10.0.3.0/26');
    fast.passed(ctx, report([]));
    const learned = new Map([['10.0.3.0/26', ['172.30.0.12']]]);
    const r = fast.write(nl, { own: [], learned }, ['10.0.3.0/26']);
    expect(r.done).toBe(false);
    expect(r.done === false && r.why).toMatch(/add 10\.0\.3\.0\/26: EEXIST/);
    fast.write(nl, { own: [], learned }, ['10.0.3.0/26']);
    expect(batches[1]?.[0]?.op).toBe('add');
  });

  it('a burst of small events beyond the budget goes to the full pass until that pass has run', () => {
    const fast = new FastRoutes();
    const { nl } = recorder();
    fast.passed(ctx, report([]));
    const learned = new Map<string, string[]>();
    let taken = 0;
    for (let i = 0; i < FAST_PATH_BUDGET / 8 + 4; i++) {
      const ps = Array.from({ length: 8 }, (_, k) => `10.${1 + i}.${k}.0/26`);
      for (const p of ps) learned.set(p, ['172.30.0.12']);
      if (fast.write(nl, { own: [], learned }, ps).done) taken += ps.length;
    }
    expect(taken).toBe(FAST_PATH_BUDGET);
    fast.passed(ctx, report([]));
    expect(fast.write(nl, { own: [], learned }, ['10.1.0.0/26']).done).toBe(true);
  });

  it('a burst larger than the fast path takes goes to the full pass', () => {
    const fast = new FastRoutes();
    const { nl, batches } = recorder();
    fast.passed(ctx, report([]));
    const prefixes = Array.from({ length: FAST_PATH_MAX_PREFIXES + 1 }, (_, i) => `10.0.${i}.0/26`);
    const r = fast.write(nl, { own: [], learned: new Map(prefixes.map((p) => [p, ['172.30.0.12']])) }, prefixes);
    expect(r.done).toBe(false);
    expect(batches).toEqual([]);
  });
});

/**
 * The fast-path warmer: its synthetic cases exercise the three kinds of fast write
 * (add, replace, delete) on real routes of the context, encode them, and never
 * touch a kernel; it warms fully when the context's shape changes (not when a pod's
 * veth comes or goes), lightly now and then, and runs in slices that stop with it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type PoolSpec } from '../../../../agent/dataplane/plan/types.js';
import type { Block } from '../../../../agent/ipam/types.js';
import type { NodeBgpInfo } from '../../../../agent/node-config/types.js';
import type { RouteContext } from '../../../../agent/node/fast-plan.js';
import { contextKey, FastWarmer, WARM_LIGHT_ROUNDS, WARM_ROUNDS, warmCases, warmRound } from '../../../../agent/node/fast-warm.js';

const config = { ...DEFAULT_CONFIG, uplink: 'eth0', uplinkMtu: 1500 };
const n = (name: string, address: string): NodeBgpInfo => ({ name, labels: {}, address, asn: 64512 });
const nodes = [n('n1', '172.30.0.11/24'), n('n2', '172.30.0.12/24'), n('n3', '172.30.0.13/24')];
const pools: PoolSpec[] = [{ cidr: '10.0.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }];
const own: Block[] = [{ cidr: '10.0.3.0/26', pool: 'a', affinity: 'host:n3', allocations: [null], attributes: {} }];
const ctx: RouteContext = { node: 'n3', nodes, pools, config, tunnels: new Map(), ifindexByName: new Map([['eth0', 2], ['lo', 1]]) };

/** until the warmer is idle (bounded) */
const settle = async (w?: FastWarmer): Promise<void> => {
  for (let i = 0; i < 20_000 && (i < 5 || w?.busy); i++) await new Promise((r) => setImmediate(r));
  expect(w?.busy ?? false).toBe(false);
};

describe('fast path warm-up (fast-warm.ts)', () => {
  it('plans add, replace and withdraw for learned prefixes of remote nodes', () => {
    const learned = new Map([['10.0.1.0/26', ['172.30.0.11']], ['10.0.2.0/26', ['172.30.0.12']]]);
    const cases = warmCases(ctx, own, learned);
    expect(cases).toHaveLength(6);
    expect(cases.map((c) => c.prefixes[0])).toEqual(['10.0.1.0/26', '10.0.1.0/26', '10.0.1.0/26', '10.0.2.0/26', '10.0.2.0/26', '10.0.2.0/26']);
    // a round encodes one add, one replace and one delete per prefix: real bytes
    expect(warmRound(ctx, cases)).toBeGreaterThan(6 * 28);
  });

  it('makes up prefixes inside the pool when nothing is learned yet', () => {
    const cases = warmCases(ctx, own, new Map());
    expect(cases).toHaveLength(6);
    expect(new Set(cases.map((c) => c.prefixes[0]))).toEqual(new Set(['10.0.0.0/32', '10.0.0.0/31']));
    expect(warmRound(ctx, cases)).toBeGreaterThan(0);
  });

  it('keys on the routes\' devices, not on every link', () => {
    const withPodVeth: RouteContext = { ...ctx, ifindexByName: new Map([...ctx.ifindexByName, ['mgabcdef', 9]]) };
    expect(contextKey(withPodVeth)).toBe(contextKey(ctx));
    const uplinkMoved: RouteContext = { ...ctx, ifindexByName: new Map([['eth0', 3]]) };
    expect(contextKey(uplinkMoved)).not.toBe(contextKey(ctx));
    expect(contextKey({ ...ctx, nodes: nodes.slice(0, 2) })).not.toBe(contextKey(ctx));
    // a tunnel address appearing (IPIP as VXLAN) is a new context
    const vx: RouteContext = { ...ctx, tunnels: new Map([['n3', { vxlan: '10.0.0.1' }]]) };
    expect(contextKey(vx)).not.toBe(contextKey(ctx));
    expect(contextKey({ ...ctx, tunnels: new Map([['n3', { vxlan: '10.0.0.1', ipip: '10.0.0.2' }]]) })).not.toBe(contextKey(vx));
  });

  it('warms fully on a new context, lightly after a while, not in between, and not when off', async () => {
    const source = () => ({ ctx, own, learned: new Map([['10.0.1.0/26', ['172.30.0.11']]]) });
    const w = new FastWarmer(true);
    w.passed('a', 0, source);
    await settle(w);
    expect(w.rounds).toBe(WARM_ROUNDS);
    w.passed('a', 1000, source);
    await settle(w);
    expect(w.rounds).toBe(WARM_ROUNDS);
    w.passed('a', 10_000, source);
    await settle(w);
    expect(w.rounds).toBe(WARM_ROUNDS + WARM_LIGHT_ROUNDS);
    const off = new FastWarmer(false);
    off.passed('a', 0, source);
    await settle(off);
    expect(off.rounds).toBe(0);
  });

  it('runs the BGP side each round and stops when asked or when the source is gone', async () => {
    let decodes = 0;
    const w = new FastWarmer(true);
    w.passed('a', 0, () => ({ ctx, own, learned: new Map(), bgp: () => { decodes++; } }));
    w.stop();
    await settle(w);
    expect(w.rounds).toBe(0);
    w.passed('b', 0, () => ({ ctx, own, learned: new Map(), bgp: () => { decodes++; } }));
    await settle(w);
    expect(decodes).toBe(WARM_ROUNDS);
    const gone = new FastWarmer(true);
    gone.passed('a', 0, () => undefined);
    await settle(gone);
    expect(gone.rounds).toBe(0);
  });
});

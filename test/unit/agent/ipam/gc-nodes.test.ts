import { describe, expect, it } from 'vitest';
import { judgeGoneNodes, NO_NODE_ABSENCE, type GoneNodesInput, type NodeAbsenceState } from '../../../../agent/ipam/gc.js';
import type { Block } from '../../../../agent/ipam/types.js';

// A Node deleted from the cluster: the nodes named by IPAM blocks (affinity, or the
// node an allocation was made on) that are absent from the Node list, in two passes
// and for at least the grace, are gone.
const block = (cidr: string, affinity: string | null, holders: [string, string][]): Block => ({
  cidr, pool: 'p', affinity,
  allocations: [...holders.map(([h]) => h), null, null].slice(0, 4),
  attributes: Object.fromEntries(holders.map(([h, node]) => [h, { node }])),
});
const blocks = [
  block('10.0.0.0/30', 'host:a', [['ha', 'a'], ['hb-borrowed', 'b']]),
  block('10.0.0.4/30', 'host:b', [['hb', 'b']]),
  block('10.0.0.8/30', null, [['hc', 'c']]),
];
const input = (nodes: string[] | undefined, now: number, onlySeen = false): GoneNodesInput =>
  ({ self: 'a', blocks, nodes: nodes && new Set(nodes), now, graceMs: 300_000, ...(onlySeen ? { onlySeen } : {}) });

function run(steps: [string[] | undefined, number][], onlySeen = false): { gone: string[]; state: NodeAbsenceState }[] {
  let state: NodeAbsenceState = NO_NODE_ABSENCE;
  return steps.map(([nodes, now]) => {
    const r = judgeGoneNodes(state, input(nodes, now, onlySeen));
    state = r.state;
    return r;
  });
}

describe('judgeGoneNodes', () => {
  it('a node absent from the list in two passes and for the grace is gone; within the grace it is not', () => {
    const r = run([[['a', 'c'], 0], [['a', 'c'], 60_000], [['a', 'c'], 299_999], [['a', 'c'], 300_000]]);
    expect(r.map((x) => x.gone)).toEqual([[], [], [], ['b']]);
    expect(r[1]!.state.absent).toEqual({ b: { since: 0, passes: 2 } });
  });

  it('one pass past the grace is not enough (a list racing a re-created Node)', () => {
    expect(run([[['a'], 0]]).map((x) => x.gone)).toEqual([[]]);
    expect(run([[['a', 'b', 'c'], 0], [['a', 'c'], 400_000], [['a', 'c'], 401_000]]).map((x) => x.gone)).toEqual([[], [], []]);
  });

  it('a node back in the list starts over', () => {
    const r = run([[['a', 'c'], 0], [['a', 'b', 'c'], 200_000], [['a', 'c'], 300_000], [['a', 'c'], 400_000]]);
    expect(r.map((x) => x.gone)).toEqual([[], [], [], []]);
    expect(r[3]!.state.absent).toEqual({ b: { since: 300_000, passes: 2 } });
  });

  it('judges nothing without a Node list, or with one that lacks this node (not the cluster\'s whole list), and starts over', () => {
    const r = run([[['a', 'c'], 0], [undefined, 200_000], [['c'], 300_000], [['a', 'c'], 310_000], [['a', 'c'], 610_000]]);
    expect(r.map((x) => x.gone)).toEqual([[], [], [], [], ['b']]);
    expect(r[1]!.state.absent).toEqual({});
    expect(r[2]!.state.absent).toEqual({});
  });

  it('a node named only by an allocation (its block affine elsewhere, or to none) counts too', () => {
    const r = run([[['a'], 0], [['a'], 300_000]]);
    expect(r[1]!.gone).toEqual(['b', 'c']);
  });

  // The file datastore: Node objects are optional, so a node that holds blocks but never
  // had a Node object (a running node without a Node file) is not gone; only a node seen
  // in an earlier list that then vanished is.
  it('onlySeen: a node never in any list is never gone; one listed before and then missing is', () => {
    const never = run([[['a'], 0], [['a'], 300_000], [['a'], 900_000]], true);
    expect(never.map((x) => x.gone)).toEqual([[], [], []]);
    expect(never[2]!.state.absent).toEqual({});
    const seen = run([[['a', 'b'], 0], [['a'], 10_000], [['a'], 310_000]], true);
    expect(seen.map((x) => x.gone)).toEqual([[], [], ['b']]); // c was never listed: kept
  });

  it('onlySeen: being seen survives a pass without a list (or a rejected Node: undefined)', () => {
    const r = run([[['a', 'b', 'c'], 0], [undefined, 1000], [['a'], 2000], [['a'], 302_000]], true);
    expect(r.map((x) => x.gone)).toEqual([[], [], [], ['b', 'c']]);
  });

  it('without onlySeen (kubernetes: Node objects are the whole truth) the seen record changes nothing', () => {
    expect(run([[['a'], 0], [['a'], 300_000]], false)[1]!.gone).toEqual(['b', 'c']);
  });
});

import { describe, expect, it } from 'vitest';
import { forgetLeak, judgeLeaks, judgeLocalLeaks, NO_LEAK_STATE, type AbsenceState, type LeakPassInput } from '../../../../agent/ipam/gc.js';
import { ifNameOfHandle } from '../../../../agent/ipam/handle.js';
import type { Block } from '../../../../agent/ipam/types.js';

// The node-local liveness check: a handle made on this node for a pod whose host
// interface is missing in two passes in a row, for at least the grace period, leaked.
const hostIf = (containerId: string, ifName: string): string => `if-${containerId}${ifName === 'eth0' ? '' : `-${ifName}`}`;
const pod = (name: string) => ({ namespace: 'default', name });

const blocks: Block[] = [
  {
    cidr: '10.244.1.0/29', pool: 'p', affinity: 'host:n1',
    allocations: ['vxlan-tunnel-addr-n1', 'k8s.aaa.eth0', 'k8s.bbb.eth0', 'k8s.ccc.net1', 'other', 'k8s.ddd.eth0', 'k8s.nocid.eth0', null],
    attributes: {
      'vxlan-tunnel-addr-n1': { node: 'n1' },
      'k8s.aaa.eth0': { node: 'n1', pod: pod('a'), containerId: 'aaa' },
      'k8s.bbb.eth0': { node: 'n1', pod: pod('b'), containerId: 'bbb' },
      'k8s.ccc.net1': { node: 'n1', pod: pod('c'), containerId: 'ccc' },
      other: { node: 'n1' },
      'k8s.ddd.eth0': { node: 'n2', pod: pod('d'), containerId: 'ddd' },
      'k8s.nocid.eth0': { node: 'n1', pod: pod('e') },
    },
  },
  {
    cidr: 'fd44::/125', pool: 'p6', affinity: 'host:n1',
    allocations: [null, 'k8s.bbb.eth0', null, null, null, null, null, null],
    attributes: { 'k8s.bbb.eth0': { node: 'n1', pod: pod('b'), containerId: 'bbb' } },
  },
];

const base = (over: Partial<LeakPassInput>): LeakPassInput => ({
  node: 'n1', blocks, links: new Set(['lo', 'eth0', 'if-aaa']), hostIf, keep: new Set(['vxlan-tunnel-addr-n1']), now: 0, graceMs: 1000, ...over,
});
const handles = (ls: { handle: string }[]): string[] => ls.map((l) => l.handle);

describe('judgeLocalLeaks', () => {
  it('suspects only this node\'s pod handles (with a container ID) whose host interface is missing, per interface name', () => {
    const v = judgeLocalLeaks({}, base({}));
    // a: interface present; c: its interface is if-ccc-net1 (ifName from the handle), missing;
    // d: another node's; e: no container ID; tunnel and "other": no pod
    expect(handles(v.suspects)).toEqual(['k8s.bbb.eth0', 'k8s.ccc.net1']);
    expect(v.leaks).toEqual([]);
    expect(v.state).toEqual({ 'k8s.bbb.eth0': { since: 0, passes: 1 }, 'k8s.ccc.net1': { since: 0, passes: 1 } });
  });

  it('a leak needs two passes in a row and the grace period since first seen missing; it carries every address of the handle', () => {
    const p1 = judgeLocalLeaks({}, base({ now: 0 }));
    const early = judgeLocalLeaks(p1.state, base({ now: 999 }));
    expect(early.leaks).toEqual([]);
    expect(early.state['k8s.bbb.eth0']).toEqual({ since: 0, passes: 2 });
    const p3 = judgeLocalLeaks(early.state, base({ now: 1000 }));
    expect(p3.leaks).toEqual([
      { handle: 'k8s.bbb.eth0', pod: pod('b'), node: 'n1', containerId: 'bbb', addresses: ['10.244.1.2', 'fd44::1'] },
      { handle: 'k8s.ccc.net1', pod: pod('c'), node: 'n1', containerId: 'ccc', addresses: ['10.244.1.3'] },
    ]);
    // one pass long after a first sighting is not enough: two passes in a row
    expect(judgeLocalLeaks({}, base({ now: 1_000_000 })).leaks).toEqual([]);
  });

  it('an interface that comes back clears the record (a later loss starts over)', () => {
    const p1 = judgeLocalLeaks({}, base({ now: 0 }));
    const back = judgeLocalLeaks(p1.state, base({ now: 500, links: new Set(['if-aaa', 'if-bbb', 'if-ccc-net1']) }));
    expect(back).toEqual({ leaks: [], suspects: [], state: {} });
    const again = judgeLocalLeaks(back.state, base({ now: 2000 }));
    expect(again.leaks).toEqual([]);
    expect(again.state['k8s.bbb.eth0']).toEqual({ since: 2000, passes: 1 });
  });

  it('never collects a kept handle, even one that looks like a pod\'s', () => {
    const keep = new Set(['vxlan-tunnel-addr-n1', 'k8s.bbb.eth0']);
    const prev: AbsenceState = { 'k8s.bbb.eth0': { since: 0, passes: 5 }, 'k8s.ccc.net1': { since: 0, passes: 5 } };
    expect(handles(judgeLocalLeaks(prev, base({ now: 10_000, keep })).leaks)).toEqual(['k8s.ccc.net1']);
  });

  it('forgets records of handles that are gone (released by a DEL meanwhile)', () => {
    const prev: AbsenceState = { 'k8s.gone.eth0': { since: 0, passes: 3 } };
    expect(Object.keys(judgeLocalLeaks(prev, base({ now: 5 })).state)).not.toContain('k8s.gone.eth0');
  });

  it('reads the interface name from the CNI handle', () => {
    expect(ifNameOfHandle('k8s-pod-network.abc123.eth0')).toBe('eth0');
    expect(ifNameOfHandle('net.abc.net1')).toBe('net1');
  });
});

// One pass of the agent's collector: both rules, with their state from pass to pass.
describe('judgeLeaks', () => {
  const why = (ls: { handle: string; why: string; hostIf?: string }[]): [string, string, string | undefined][] => ls.map((l) => [l.handle, l.why, l.hostIf]);

  it('without live pods: the host-interface rule alone, with the interface to look for again and why', () => {
    const p1 = judgeLeaks(NO_LEAK_STATE, base({ now: 0 }));
    expect(p1.leaks).toEqual([]);
    const p2 = judgeLeaks(p1.state, base({ now: 1000 }));
    expect(why(p2.leaks)).toEqual([
      ['k8s.bbb.eth0', 'host interface if-bbb missing for 1000 ms', 'if-bbb'],
      ['k8s.ccc.net1', 'host interface if-ccc-net1 missing for 1000 ms', 'if-ccc-net1'],
    ]);
    expect(p2.leaks[0]?.addresses).toEqual(['10.244.1.2', 'fd44::1']);
    expect(p2.state.podLeaks).toEqual([]);
  });

  it("with live pods: this node's handles whose pod is in no list in two passes in a row too, each handle once", () => {
    const links = new Set(['if-aaa', 'if-ccc-net1']); // b's interface missing; a and c present
    const p1 = judgeLeaks(NO_LEAK_STATE, base({ now: 0, links, livePods: [pod('c'), pod('e')] }));
    expect(p1.leaks).toEqual([]);
    // a: Pod gone in both passes (its interface is there); b: both rules, reported as the veth leak;
    // c, e: Pods live; d: another node's; the tunnel handle: no pod
    const p2 = judgeLeaks(p1.state, base({ now: 1000, links, livePods: [pod('c'), pod('e')] }));
    expect(why(p2.leaks)).toEqual([
      ['k8s.bbb.eth0', 'host interface if-bbb missing for 1000 ms', 'if-bbb'],
      ['k8s.aaa.eth0', 'no such Pod in two passes', undefined],
    ]);
    // a Pod that shows up between passes is no leak
    const p2b = judgeLeaks(p1.state, base({ now: 1000, links, livePods: [pod('a'), pod('c'), pod('e')] }));
    expect(p2b.leaks.map((l) => l.handle)).toEqual(['k8s.bbb.eth0']);
    // kept handles never: not by the Pod rule either
    const kept = judgeLeaks(p1.state, base({ now: 1000, links, livePods: [pod('c'), pod('e')], keep: new Set(['k8s.aaa.eth0', 'k8s.bbb.eth0']) }));
    expect(kept.leaks).toEqual([]);
  });

  it('a forgotten handle (released, or alive again) starts over under both rules', () => {
    const p1 = judgeLeaks(NO_LEAK_STATE, base({ now: 0, livePods: [] }));
    const state = forgetLeak(forgetLeak(p1.state, 'k8s.bbb.eth0'), 'k8s.aaa.eth0');
    expect(Object.keys(state.absent)).toEqual(['k8s.ccc.net1']);
    expect(state.podLeaks.map((l) => l.handle)).not.toContain('k8s.aaa.eth0');
    const p2 = judgeLeaks(state, base({ now: 1000, livePods: [] }));
    // e has no container ID (no interface to judge) but no Pod either
    expect(p2.leaks.map((l) => l.handle)).toEqual(['k8s.ccc.net1', 'k8s.nocid.eth0']);
  });
});

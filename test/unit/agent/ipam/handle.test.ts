import { describe, expect, it } from 'vitest';
import { ifNameOfHandle, parseHandle } from '../../../../agent/ipam/handle.js';
import { judgeLocalLeaks } from '../../../../agent/ipam/gc.js';
import type { Block } from '../../../../agent/ipam/types.js';

// A CNI handle is "<network>.<containerID>.<ifName>", and all three may contain dots
// (CNI_IFNAME=eth0.100 is a valid Linux name): the container ID, known from the
// record's attributes, is what splits it.
describe('parseHandle', () => {
  it('splits a handle whose interface name has a dot', () => {
    expect(parseHandle('k8s-pod-network.abc123.eth0.100', 'abc123')).toEqual({ network: 'k8s-pod-network', containerId: 'abc123', ifName: 'eth0.100' });
    expect(ifNameOfHandle('k8s-pod-network.abc123.eth0.100', 'abc123')).toBe('eth0.100');
  });

  it('splits one whose network name and container ID have dots', () => {
    expect(parseHandle('my.net.c.1.eth0', 'c.1')).toEqual({ network: 'my.net', containerId: 'c.1', ifName: 'eth0' });
    expect(parseHandle('n.abc.def.v.1', 'def')).toEqual({ network: 'n.abc', containerId: 'def', ifName: 'v.1' });
  });

  it('undefined for a handle not made of that container ID (a tunnel address, another container)', () => {
    expect(parseHandle('vxlan-tunnel-addr-n1', 'abc')).toBeUndefined();
    expect(parseHandle('net.abc.eth0', 'abd')).toBeUndefined();
    expect(parseHandle('abc.eth0', 'abc')).toBeUndefined(); // no network
    expect(parseHandle('net.abc.', 'abc')).toBeUndefined(); // no interface
  });

  it('without the container ID (or with one the handle lacks), the interface name is the text after the last dot', () => {
    expect(ifNameOfHandle('net.abc.net1')).toBe('net1');
    expect(ifNameOfHandle('net.abc.net1', 'zzz')).toBe('net1');
    expect(ifNameOfHandle('plain')).toBe('eth0');
  });
});

describe('judgeLocalLeaks with a dotted CNI_IFNAME', () => {
  const hostIf = (containerId: string, ifName: string): string => `if-${containerId}-${ifName}`;
  const handle = 'k8s-pod-network.abc123.eth0.100';
  const blocks: Block[] = [{
    cidr: '10.0.0.0/30', pool: 'p', affinity: 'host:n1', allocations: [handle, null, null, null],
    attributes: { [handle]: { node: 'n1', pod: { namespace: 'default', name: 'web' }, containerId: 'abc123' } },
  }];

  it('a live pod whose host interface (named from eth0.100) is present is no suspect, pass after pass', () => {
    const input = { node: 'n1', blocks, links: new Set(['lo', 'if-abc123-eth0.100']), hostIf, keep: new Set<string>(), graceMs: 10 };
    const first = judgeLocalLeaks({}, { ...input, now: 0 });
    expect(first.suspects).toEqual([]);
    const second = judgeLocalLeaks(first.state, { ...input, now: 1000 });
    expect(second).toEqual({ leaks: [], suspects: [], state: {} });
  });

  it('its interface missing, the leak names the handle (so the check is real)', () => {
    const input = { node: 'n1', blocks, links: new Set(['lo', 'if-abc123-100']), hostIf, keep: new Set<string>(), graceMs: 10 };
    const first = judgeLocalLeaks({}, { ...input, now: 0 });
    expect(first.suspects.map((l) => l.handle)).toEqual([handle]);
    expect(judgeLocalLeaks(first.state, { ...input, now: 1000 }).leaks.map((l) => l.handle)).toEqual([handle]);
  });
});

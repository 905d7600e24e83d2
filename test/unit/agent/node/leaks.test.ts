import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { PodLink, PodWiring } from '../../../../agent/cni/handler.js';
import { hostIfName } from '../../../../agent/cni/names.js';
import { CniServer } from '../../../../agent/cni/server.js';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { Block } from '../../../../agent/ipam/types.js';
import { LeakGc } from '../../../../agent/node/leaks.js';

// The collector's shell logic against an in-memory store and fake links/CNI: the
// order of (in the handle's CNI queue) look again → release, and the kubernetes rule beside the veth one.
const pod = (name: string) => ({ namespace: 'default', name });
const block: Block = {
  cidr: '10.244.1.0/30', pool: 'p', affinity: 'host:n1',
  allocations: ['vxlan-tunnel-addr-n1', 'net.aaa.eth0', 'net.bbb.eth0', null],
  attributes: {
    'vxlan-tunnel-addr-n1': { node: 'n1' },
    'net.aaa.eth0': { node: 'n1', pod: pod('a'), containerId: 'aaa' },
    'net.bbb.eth0': { node: 'n1', pod: pod('b'), containerId: 'bbb' },
  },
};

async function setup(links: Set<string>) {
  const store = new MemoryIpamStore();
  await store.put('block', block.cidr, block, undefined);
  const calls: string[] = [];
  let clock = 0;
  let duringSettle: (() => void) | undefined;
  const gc = new LeakGc({
    node: 'n1', store, keep: new Set(['vxlan-tunnel-addr-n1']), graceMs: 100, log: pino({ level: 'silent' }),
    links: () => links,
    release: async (h) => { calls.push(`release ${h}`); return [h]; },
    exclusive: async <T>(h: string, fn: () => Promise<T>): Promise<T> => { calls.push(`queue ${h}`); duringSettle?.(); const r = await fn(); calls.push(`dequeue ${h}`); return r; },
    now: () => clock,
  });
  return { gc, calls, tick: (ms: number) => { clock += ms; }, onSettle: (f: () => void) => { duringSettle = f; } };
}

describe('LeakGc', () => {
  it('releases a handle whose veth is missing in two passes a grace apart, inside its CNI request queue', async () => {
    const s = await setup(new Set([hostIfName('aaa')]));
    expect(await s.gc.pass(undefined)).toEqual([]);
    s.tick(50);
    expect(await s.gc.pass(undefined)).toEqual([]); // two passes, not yet the grace
    s.tick(50);
    const released = await s.gc.pass(undefined);
    expect(released.map((r) => [r.handle, r.why])).toEqual([['net.bbb.eth0', `host interface ${hostIfName('bbb')} missing for 100 ms`]]);
    expect(s.calls).toEqual(['queue net.bbb.eth0', 'release net.bbb.eth0', 'dequeue net.bbb.eth0']);
  });

  it('does not release when the veth appears while waiting for an in-flight ADD, and starts over', async () => {
    const links = new Set([hostIfName('aaa')]);
    const s = await setup(links);
    await s.gc.pass(undefined);
    s.tick(200);
    s.onSettle(() => links.add(hostIfName('bbb'))); // the ADD in flight finishes wiring
    expect(await s.gc.pass(undefined)).toEqual([]);
    expect(s.calls).toEqual(['queue net.bbb.eth0', 'dequeue net.bbb.eth0']);
    links.delete(hostIfName('bbb'));
    s.tick(200);
    expect(await s.gc.pass(undefined)).toEqual([]); // a fresh absence: one pass only
  });

  it('a queue that fails releases nothing', async () => {
    const s = await setup(new Set([hostIfName('aaa')]));
    s.onSettle(() => { throw new Error('CNI server did not answer'); });
    await s.gc.pass(undefined);
    s.tick(200);
    await expect(s.gc.pass(undefined)).rejects.toThrow(/did not answer/);
    expect(s.calls.filter((c) => c.startsWith('release'))).toEqual([]);
  });

  it('kubernetes: a pod in no snapshot in two passes is released too, with its veth present; the tunnel handle never', async () => {
    const s = await setup(new Set([hostIfName('aaa'), hostIfName('bbb')]));
    expect(await s.gc.pass([pod('b')])).toEqual([]);
    const released = await s.gc.pass([pod('b')]);
    expect(released.map((r) => [r.handle, r.why])).toEqual([['net.aaa.eth0', 'no such Pod in two passes']]);
    expect(s.calls).toEqual(['queue net.aaa.eth0', 'release net.aaa.eth0', 'dequeue net.aaa.eth0']);
  });

  it('this node\'s tunnel address handles (VXLAN, IPIP) are never collected, with no keep given, even when they look like a pod\'s', async () => {
    const store = new MemoryIpamStore();
    const tunnelAttrs = (id: string) => ({ node: 'n1', pod: pod(id), containerId: id }); // no veth, no Pod: a leak by both rules, were it a pod's
    await store.put('block', '10.244.2.0/30', {
      cidr: '10.244.2.0/30', pool: 'p', affinity: 'host:n1', allocations: ['vxlan-tunnel-addr-n1', 'ipip-tunnel-addr-n1', 'net.ccc.eth0', null],
      attributes: { 'vxlan-tunnel-addr-n1': tunnelAttrs('vx'), 'ipip-tunnel-addr-n1': tunnelAttrs('ip'), 'net.ccc.eth0': tunnelAttrs('ccc') },
    }, undefined);
    let clock = 0;
    const released: string[] = [];
    const gc = new LeakGc({ node: 'n1', store, graceMs: 10, log: pino({ level: 'silent' }), links: () => [], release: async (h) => { released.push(h); return [h]; }, now: () => clock });
    for (let i = 0; i < 3; i++) { await gc.pass([]); clock += 20; }
    expect(released).toEqual(['net.ccc.eth0']);
  });
});

/** Pod wiring whose add() waits until let go: an ADD held in flight. */
class HeldWiring implements PodWiring {
  release: () => void = () => undefined;
  async netnsExists(): Promise<boolean> { return true; }
  add(_l: PodLink): Promise<{ hostMac: string; podMac: string }> {
    return new Promise((resolve) => { this.release = () => resolve({ hostMac: 'ee:ee:ee:ee:ee:ee', podMac: '0a:00:00:00:00:01' }); });
  }
  async del(): Promise<boolean> { return false; }
  async check(): Promise<string[]> { return []; }
}

describe('LeakGc with a real CniServer queue', () => {
  it('releases only once the ADD in flight for that handle has finished, and then not if the ADD made its veth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-settle-'));
    const wiring = new HeldWiring();
    const store = new MemoryIpamStore();
    const ipam = new Ipam({ store, node: 'n1', pools: [{ name: 'v4', spec: { cidr: '10.5.0.0/30', blockSize: 30 } }] });
    const server = new CniServer({ socketPath: join(dir, 'cni.sock'), ipam, wiring });
    await server.start();
    try {
      const links = new Set<string>();
      let clock = 0;
      const released: string[] = [];
      const gc = new LeakGc({
        node: 'n1', store, keep: new Set(), graceMs: 10, log: pino({ level: 'silent' }), links: () => links,
        release: async (h) => { released.push(h); return ipam.release(h); }, exclusive: server.exclusive.bind(server), now: () => clock,
      });
      const add = { v: 1, command: 'ADD', containerId: 'ccc', netns: '/ns/c', ifName: 'eth0', args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'c' }, network: 'net', cniVersion: '1.0.0' };
      const sock = createConnection(join(dir, 'cni.sock'));
      const addDone = new Promise<void>((resolve) => { sock.on('data', () => resolve()); });
      sock.write(`${JSON.stringify(add)}\n`);
      await new Promise((r) => setTimeout(r, 50)); // the ADD has allocated and waits in wiring
      expect(await gc.pass(undefined)).toEqual([]); // first sighting of a veth-less handle
      clock += 100;
      const second = gc.pass(undefined);
      await new Promise((r) => setTimeout(r, 100));
      expect(released).toEqual([]); // held behind the ADD
      links.add(hostIfName('ccc', 'eth0')); // the ADD wires its veth
      wiring.release();
      await addDone;
      expect(await second).toEqual([]);
      expect(released).toEqual([]);
      sock.destroy();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

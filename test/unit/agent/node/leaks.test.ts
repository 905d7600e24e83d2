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
import { cniSettle, LeakGc } from '../../../../agent/node/leaks.js';

// The collector's shell logic against an in-memory store and fake links/CNI: the
// order of settle → look again → release, and the kubernetes rule beside the veth one.
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
    settle: async (h, cid) => { calls.push(`settle ${h} ${cid}`); duringSettle?.(); },
    now: () => clock,
  });
  return { gc, calls, tick: (ms: number) => { clock += ms; }, onSettle: (f: () => void) => { duringSettle = f; } };
}

describe('LeakGc', () => {
  it('releases a handle whose veth is missing in two passes a grace apart, only after settling its CNI requests', async () => {
    const s = await setup(new Set([hostIfName('aaa')]));
    expect(await s.gc.pass(undefined)).toEqual([]);
    s.tick(50);
    expect(await s.gc.pass(undefined)).toEqual([]); // two passes, not yet the grace
    s.tick(50);
    const released = await s.gc.pass(undefined);
    expect(released.map((r) => [r.handle, r.why])).toEqual([['net.bbb.eth0', `host interface ${hostIfName('bbb')} missing for 100 ms`]]);
    expect(s.calls).toEqual(['settle net.bbb.eth0 bbb', 'release net.bbb.eth0']);
  });

  it('does not release when the veth appears while waiting for an in-flight ADD, and starts over', async () => {
    const links = new Set([hostIfName('aaa')]);
    const s = await setup(links);
    await s.gc.pass(undefined);
    s.tick(200);
    s.onSettle(() => links.add(hostIfName('bbb'))); // the ADD in flight finishes wiring
    expect(await s.gc.pass(undefined)).toEqual([]);
    expect(s.calls).toEqual(['settle net.bbb.eth0 bbb']);
    links.delete(hostIfName('bbb'));
    s.tick(200);
    expect(await s.gc.pass(undefined)).toEqual([]); // a fresh absence: one pass only
  });

  it('a settle that fails (no answer) releases nothing', async () => {
    const s = await setup(new Set([hostIfName('aaa')]));
    s.onSettle(() => { throw new Error('CNI server did not answer'); });
    await s.gc.pass(undefined);
    s.tick(200);
    await expect(s.gc.pass(undefined)).rejects.toThrow(/did not answer/);
    expect(s.calls.filter((c) => c.startsWith('release'))).toEqual([]);
  });

  it('kubernetes: a pod in no snapshot in two passes is released too, with its veth present and no settle; the tunnel handle never', async () => {
    const s = await setup(new Set([hostIfName('aaa'), hostIfName('bbb')]));
    expect(await s.gc.pass([pod('b')])).toEqual([]);
    const released = await s.gc.pass([pod('b')]);
    expect(released.map((r) => [r.handle, r.why])).toEqual([['net.aaa.eth0', 'no such Pod in two passes']]);
    expect(s.calls).toEqual(['release net.aaa.eth0']);
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

describe('cniSettle against a real CniServer', () => {
  it('answers only once the ADD in flight for that handle has finished (the server runs one request per handle at a time)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-settle-'));
    const wiring = new HeldWiring();
    const ipam = new Ipam({ store: new MemoryIpamStore(), node: 'n1', pools: [{ name: 'v4', spec: { cidr: '10.5.0.0/30', blockSize: 30 } }] });
    const server = new CniServer({ socketPath: join(dir, 'cni.sock'), ipam, wiring });
    await server.start();
    try {
      const order: string[] = [];
      const add = { v: 1, command: 'ADD', containerId: 'ccc', netns: '/ns/c', ifName: 'eth0', args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'c' }, network: 'net', cniVersion: '1.0.0' };
      const sock = createConnection(join(dir, 'cni.sock'));
      const addDone = new Promise<void>((resolve) => { sock.on('data', () => { order.push('add answered'); resolve(); }); });
      sock.write(`${JSON.stringify(add)}\n`);
      await new Promise((r) => setTimeout(r, 50)); // the ADD has allocated and waits in wiring
      const settled = cniSettle(join(dir, 'cni.sock'), 5000)('net.ccc.eth0', 'ccc').then(() => order.push('settled'));
      await new Promise((r) => setTimeout(r, 100));
      expect(order).toEqual([]);
      order.push('wiring done');
      wiring.release();
      await Promise.all([addDone, settled]);
      expect(order[0]).toBe('wiring done');
      expect(order).toContain('settled');
      expect(order.indexOf('settled')).toBeGreaterThan(0);
      // another handle is not held up by it
      await cniSettle(join(dir, 'cni.sock'), 5000)('net.zzz.eth0', 'zzz');
      await expect(cniSettle(join(dir, 'cni.sock'), 5000)('weird', 'zzz')).rejects.toThrow(/not <network>.zzz.<ifName>/);
      sock.destroy();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

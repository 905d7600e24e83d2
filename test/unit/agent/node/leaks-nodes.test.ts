import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { IpPool } from '../../../../agent/ipam/types.js';
import { LeakGc } from '../../../../agent/node/leaks.js';

// A Node deleted from the cluster: every agent's collector frees its addresses and
// blocks once it has been missing from the Node list in two passes and for the grace
// (Calico's kube-controllers do this for a deleted node's IPAM data).
const pools: IpPool[] = [{ name: 'p', spec: { cidr: '10.0.0.0/28', blockSize: 30 } }]; // 4 blocks of 4
const pod = (name: string) => ({ namespace: 'default', name });
const GRACE = 300_000;

async function cluster() {
  const store = new MemoryIpamStore();
  const a = new Ipam({ store, node: 'a', pools });
  const b = new Ipam({ store, node: 'b', pools });
  const c = new Ipam({ store, node: 'c', pools });
  await a.assign({ handle: 'a1', pod: pod('pa') }); // no containerId: the veth rule never looks at it
  await b.assign({ handle: 'b1', pod: pod('pb1') });
  await b.assign({ handle: 'b2', pod: pod('pb2') });
  await b.assign({ handle: 'vxlan-tunnel-addr-b' });
  await c.assign({ handle: 'c1', pod: pod('pc') });
  let clock = 0;
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } });
  const gc = (node: string, ipam: Ipam, nodesOnlySeen = false) => new LeakGc({ node, store, release: (h) => ipam.release(h), links: () => [], graceMs: 1000, nodeGraceMs: GRACE, log, now: () => clock, nodesOnlySeen });
  return { store, a, c, gcA: gc('a', a), gcC: gc('c', c), gcFilesA: gc('a', a, true), lines, at: (ms: number) => { clock = ms; } };
}

const nodes = new Set(['a', 'c']);

describe('LeakGc: a deleted Node', () => {
  it('frees the addresses and blocks of a node missing from the Node list past the grace, not within it; logs them', async () => {
    const s = await cluster();
    expect(await s.gcA.pass(undefined, nodes)).toEqual([]);
    s.at(GRACE - 1);
    expect(await s.gcA.pass(undefined, nodes)).toEqual([]);
    expect((await s.store.keys('handle')).sort()).toEqual(['a1', 'b1', 'b2', 'c1', 'vxlan-tunnel-addr-b']);
    s.at(GRACE);
    const freed = await s.gcA.pass(undefined, nodes);
    expect(freed.map((f) => [f.handle, f.addresses]).sort()).toEqual([['b1', ['10.0.0.4']], ['b2', ['10.0.0.5']], ['vxlan-tunnel-addr-b', ['10.0.0.6']]]);
    expect((await s.store.keys('handle')).sort()).toEqual(['a1', 'c1']);
    expect(await s.store.keys('block')).toEqual(['10.0.0.0/30', '10.0.0.8/30']);
    expect(s.lines.join('')).toMatch(/node b .*released 3 addresses/);
    // the deleted node's block is claimable again (lowest free)
    const d = new Ipam({ store: s.store, node: 'd', pools, strictAffinity: true });
    expect((await d.assign({ handle: 'd1' }))[0]!.block).toBe('10.0.0.4/30');
  });

  it('frees nothing without a Node list (no snapshot) however long', async () => {
    const s = await cluster();
    for (const t of [0, GRACE, 2 * GRACE]) { s.at(t); expect(await s.gcA.pass(undefined, undefined)).toEqual([]); }
    expect(await s.gcA.pass(undefined)).toEqual([]);
    expect((await s.store.keys('handle')).length).toBe(5);
  });

  it('two collectors racing free each address once, and never a live node\'s', async () => {
    const s = await cluster();
    await Promise.all([s.gcA.pass(undefined, nodes), s.gcC.pass(undefined, nodes)]);
    s.at(GRACE);
    const [x, y] = await Promise.all([s.gcA.pass(undefined, nodes), s.gcC.pass(undefined, nodes)]);
    const all = [...x!, ...y!].flatMap((f) => f.addresses).sort();
    expect(all).toEqual(['10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect((await s.store.keys('handle')).sort()).toEqual(['a1', 'c1']);
    expect(await s.a.lookup('a1')).toMatchObject([{ address: '10.0.0.0' }]);
    expect(await s.c.lookup('c1')).toMatchObject([{ address: '10.0.0.8' }]);
    const held = (await s.store.list('block')).flatMap((r) => r.value.allocations.filter((h) => h !== null));
    expect(held.sort()).toEqual(['a1', 'c1']);
  });

  // The file datastore (Node objects optional): a running node without a Node file
  // holds blocks but was never listed; it is not gone.
  it('nodesOnlySeen: a node never listed keeps its addresses; listed once and then missing, it is freed', async () => {
    const s = await cluster();
    for (const t of [0, GRACE, 3 * GRACE]) { s.at(t); expect(await s.gcFilesA.pass(undefined, nodes)).toEqual([]); }
    expect((await s.store.keys('handle')).sort()).toEqual(['a1', 'b1', 'b2', 'c1', 'vxlan-tunnel-addr-b']);
    s.at(4 * GRACE);
    expect(await s.gcFilesA.pass(undefined, new Set(['a', 'b', 'c']))).toEqual([]);
    s.at(4 * GRACE + 1);
    expect(await s.gcFilesA.pass(undefined, nodes)).toEqual([]);
    s.at(5 * GRACE + 1);
    const freed = await s.gcFilesA.pass(undefined, nodes);
    expect(freed.map((f) => f.handle).sort()).toEqual(['b1', 'b2', 'vxlan-tunnel-addr-b']);
    expect((await s.store.keys('handle')).sort()).toEqual(['a1', 'c1']);
  });
});

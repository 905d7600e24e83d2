import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { IpPool } from '../../../../agent/ipam/types.js';
import { addrAt, parseCidr } from '../../../../agent/ipam/cidr.js';

// A small dual-stack space so that claiming, borrowing and exhaustion all happen:
// 16 IPv4 addresses in 4 blocks, 16 IPv6 addresses in 2 blocks, 3 nodes.
const pools: IpPool[] = [
  { name: 'v4', spec: { cidr: '10.0.0.0/28', blockSize: 30 } },
  { name: 'v6', spec: { cidr: 'fd00::/124', blockSize: 125 } },
];
const NODES = ['a', 'b', 'c'];

type Op = { kind: 'assign' | 'release'; node: number; handle: number };
const op = fc.record({ kind: fc.constantFrom<'assign' | 'release'>('assign', 'assign', 'release'), node: fc.nat(2), handle: fc.nat(24) });

/** Runs ops in concurrent batches; returns the model of who should hold what. */
async function play(store: MemoryIpamStore, batches: Op[][], strict: boolean): Promise<Map<string, string[]>> {
  const agents = NODES.map((n) => new Ipam({ store, node: n, pools, strictAffinity: strict }));
  const model = new Map<string, string[]>();
  for (const batch of batches) {
    // one op per handle per batch, so that the model is well defined
    const seen = new Set<number>();
    const ops = batch.filter((o) => !seen.has(o.handle) && seen.add(o.handle));
    await Promise.all(ops.map(async (o) => {
      const h = `h${o.handle}`;
      const ag = agents[o.node] as Ipam;
      if (o.kind === 'release') {
        await ag.release(h);
        model.delete(h);
        return;
      }
      try {
        const got = await ag.assign({ handle: h, pod: { namespace: 'ns', name: h } });
        model.set(h, got.map((g) => g.address));
      } catch (e) {
        if ((e as { reason?: string }).reason !== 'exhausted') throw e;
        const still = await ag.lookup(h);
        if (still) model.set(h, still.map((g) => g.address));
        else model.delete(h);
      }
    }));
  }
  return model;
}

async function holdings(store: MemoryIpamStore): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>();
  for (const { value: b } of await store.list('block')) {
    const cidr = parseCidr(b.cidr);
    b.allocations.forEach((h, i) => {
      if (h !== null) held.set(h, [...(held.get(h) ?? []), addrAt(cidr, i)]);
    });
  }
  return held;
}

describe('IPAM properties', () => {
  for (const strict of [false, true]) {
    it(`no duplicates, no leaks, consistent handle records (strictAffinity=${strict})`, async () => {
      await fc.assert(fc.asyncProperty(fc.array(fc.array(op, { maxLength: 8 }), { maxLength: 12 }), async (batches) => {
        const store = new MemoryIpamStore();
        const model = await play(store, batches, strict);
        const held = await holdings(store);
        // No duplicates: every address appears once across all blocks and handles.
        const all = [...held.values()].flat();
        expect(new Set(all).size).toBe(all.length);
        // No leaks: exactly the handles the model holds, with exactly those addresses.
        expect(new Map([...held].map(([h, a]) => [h, [...a].sort()]))).toEqual(new Map([...model].map(([h, a]) => [h, [...a].sort()])));
        // Handle records agree with the blocks.
        for (const { value: rec } of await store.list('handle')) {
          expect(rec.addresses.map((a) => a.address).sort()).toEqual([...(held.get(rec.handle) ?? [])].sort());
        }
        // Releasing everything leaves no allocation and at most one warm block per node and pool.
        await play(store, [Array.from({ length: 25 }, (_, i) => ({ kind: 'release' as const, node: i % 3, handle: i }))], strict);
        expect(await holdings(store)).toEqual(new Map());
        expect((await store.list('block')).length).toBeLessThanOrEqual(NODES.length * pools.length);
      }), { numRuns: 60 });
    });
  }
});

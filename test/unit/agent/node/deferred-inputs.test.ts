/**
 * DeferredInputs: snapshots and IPAM records wait, coalesced (the newest snapshot and
 * each kind's newest records win), and are flushed once, after the check phase that
 * follows their timer; dropped IPAM records and a stop flush nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { IpamChange } from '../../../../agent/ipam/store.js';
import { DeferredInputs } from '../../../../agent/node/deferred-inputs.js';

const snap = (revision: number): Snapshot => ({ revision, objects: new Map() });
const blocks = (version: string): IpamChange => ({ kind: 'block', records: [{ value: { cidr: '10.0.0.0/30', pool: 'p', affinity: null, allocations: [], attributes: {} }, version }] });
const handles = (version: string): IpamChange => ({ kind: 'handle', records: [{ value: { handle: 'h', addresses: [], attrs: { node: 'n1' } }, version }] });
const settle = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

function recorder(ms = 2) {
  const flushed: { revision: number | undefined; ipam: string[] }[] = [];
  const d = new DeferredInputs(ms, (s, ipam) => flushed.push({ revision: s?.revision, ipam: ipam.map((c) => `${c.kind}@${c.records[0]?.version}`) }));
  return { d, flushed };
}

describe('DeferredInputs', () => {
  it('waits, then flushes the newest snapshot and each kind\'s newest records in one call', async () => {
    const { d, flushed } = recorder();
    d.deferSnapshot(snap(1));
    d.deferIpam(blocks('1'));
    d.deferSnapshot(snap(2));
    d.deferIpam(handles('1'));
    d.deferIpam(blocks('2'));
    expect(flushed).toEqual([]); // nothing at once
    await settle();
    expect(flushed).toEqual([{ revision: 2, ipam: ['block@2', 'handle@1'] }]);
    d.deferIpam(handles('2'));
    await settle();
    expect(flushed[1]).toEqual({ revision: undefined, ipam: ['handle@2'] });
    expect(flushed).toHaveLength(2);
  });

  it('dropIpam forgets the records waiting (a newer read supersedes them); the snapshot still comes', async () => {
    const { d, flushed } = recorder();
    d.deferIpam(blocks('1'));
    d.deferSnapshot(snap(3));
    d.dropIpam();
    await settle();
    expect(flushed).toEqual([{ revision: 3, ipam: [] }]);
  });

  it('when its timer fires it hops past the check phase: an immediate queued just before (in the same timers phase) runs before the flush', async () => {
    const order: string[] = [];
    const d = new DeferredInputs(5, () => order.push('flush'));
    // created in the same tick with the same delay: this timer fires just before the deferral's, in one timers phase
    setTimeout(() => setImmediate(() => order.push('immediate')), 5);
    d.deferSnapshot(snap(1));
    await settle();
    expect(order).toEqual(['immediate', 'flush']);
  });

  it('after stop nothing is flushed, even what was waiting', async () => {
    const { d, flushed } = recorder();
    d.deferSnapshot(snap(1));
    d.stop();
    d.deferIpam(blocks('1'));
    await settle();
    expect(flushed).toEqual([]);
  });
});

/** ReleasedBlocks: a released block stays hidden from own blocks while the view still holds it, until the view lets it go or it is claimed again. */
import { describe, expect, it } from 'vitest';
import type { Block } from '../../../../agent/ipam/types.js';
import { RELEASE_HIDE_TTL_MS, ReleasedBlocks } from '../../../../agent/node/released-blocks.js';

const block = (cidr: string): Block => ({ cidr, pool: 'p', affinity: 'host:n1', allocations: [null, null, null, null], attributes: {} });
const cidrs = (bs: Block[]): string[] => bs.map((b) => b.cidr);

describe('ReleasedBlocks', () => {
  it('hides a released block over stale lists, stops once the feed names it gone', () => {
    const r = new ReleasedBlocks();
    const a = block('10.0.0.0/30');
    const b = block('10.0.0.4/30');
    expect(r.hide([a, b])).toEqual([a, b]);
    r.released(b.cidr);
    expect(cidrs(r.hide([a, b]))).toEqual([a.cidr]);
    r.settle([a, b], undefined); // a list read before the release: still hidden
    expect(cidrs(r.hide([a, b]))).toEqual([a.cidr]);
    r.settle([a], undefined); // a fresh list without it: a feed delivery from before the release may still follow
    expect(r.pending()).toEqual([b.cidr]);
    r.settle([a, b], undefined); // ... like this one (kubernetes: the reflector has not seen the DELETE yet)
    expect(cidrs(r.hide([a, b]))).toEqual([a.cidr]);
    r.settle([a, b], [b.cidr]); // named, but the view still holds it: not settled
    expect(r.pending()).toEqual([b.cidr]);
    r.settle([a], ['10.0.0.8/30']); // another key named: says nothing about b
    expect(r.pending()).toEqual([b.cidr]);
    r.settle([a], [b.cidr]); // the feed's delete: from now on the view alone says
    expect(r.pending()).toEqual([]);
    expect(cidrs(r.hide([a, b]))).toEqual([a.cidr, b.cidr]);
  });

  it('stops hiding after the TTL (a lost event, a store without a feed)', () => {
    let now = 0;
    const r = new ReleasedBlocks(() => now);
    const b = block('10.0.0.4/30');
    r.released(b.cidr);
    now = RELEASE_HIDE_TTL_MS - 1;
    r.settle([], undefined);
    expect(r.pending()).toEqual([b.cidr]);
    now = RELEASE_HIDE_TTL_MS + 1;
    r.settle([], undefined);
    expect(r.pending()).toEqual([]);
  });

  it('a block claimed again is shown at once', () => {
    const r = new ReleasedBlocks();
    const b = block('10.0.0.4/30');
    r.released(b.cidr);
    expect(r.hide([b])).toEqual([]);
    r.claimed(b.cidr);
    expect(r.hide([b])).toEqual([b]);
  });
});

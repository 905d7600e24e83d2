/** ReleasedBlocks: a released block stays hidden from own blocks while the view still holds it, until the view lets it go or it is claimed again. */
import { describe, expect, it } from 'vitest';
import type { Block } from '../../../../agent/ipam/types.js';
import { ReleasedBlocks } from '../../../../agent/node/released-blocks.js';

const block = (cidr: string): Block => ({ cidr, pool: 'p', affinity: 'host:n1', allocations: [null, null, null, null], attributes: {} });
const cidrs = (bs: Block[]): string[] => bs.map((b) => b.cidr);

describe('ReleasedBlocks', () => {
  it('hides a released block over stale views, stops once the view has it gone', () => {
    const r = new ReleasedBlocks();
    const a = block('10.0.0.0/30');
    const b = block('10.0.0.4/30');
    expect(r.hide([a, b])).toEqual([a, b]);
    r.released(b.cidr);
    expect(cidrs(r.hide([a, b]))).toEqual([a.cidr]);
    r.settle([a, b]); // a list read before the release: still hidden
    expect(cidrs(r.hide([a, b]))).toEqual([a.cidr]);
    expect(r.pending()).toEqual([b.cidr]);
    r.settle([a]); // the view has it gone: from now on the view alone says
    expect(r.pending()).toEqual([]);
    expect(cidrs(r.hide([a, b]))).toEqual([a.cidr, b.cidr]);
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

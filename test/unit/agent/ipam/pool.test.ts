import { describe, expect, it } from 'vitest';
import { poolsForNode, resolvePool, resolvePools } from '../../../../agent/ipam/pool.js';

describe('IPPool', () => {
  it('applies defaults', () => {
    const v4 = resolvePool({ name: 'p4', spec: { cidr: '10.244.0.0/16' } });
    expect(v4).toMatchObject({ family: 4, blockSize: 26, disabled: false, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false });
    expect(resolvePool({ name: 'p6', spec: { cidr: 'fd00::/48' } }).blockSize).toBe(122);
  });

  it.each([
    [{ cidr: '10.0.0.1/16' }, 'spec.cidr'],
    [{ cidr: '10.0.0.0/16', blockSize: 19 }, 'spec.blockSize'],
    [{ cidr: '10.0.0.0/28', blockSize: 26 }, 'spec.blockSize'],
    [{ cidr: 'fd00::/64', blockSize: 26 }, 'spec.blockSize'],
    [{ cidr: '10.0.0.0/16', ipipMode: 'Sometimes' }, 'spec.ipipMode'],
    [{ cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'Always' }, 'spec.vxlanMode'],
    [{ cidr: 'fd00::/64', ipipMode: 'Always' }, 'spec.ipipMode'],
    [{ cidr: '10.0.0.0/16', nodeSelector: 'zone = a' }, 'spec.nodeSelector'],
  ])('rejects %j naming %s', (spec, field) => {
    expect(() => resolvePool({ name: 'bad', spec: spec as never })).toThrow(`IPPool bad: ${field}`);
  });

  it('rejects overlapping pools', () => {
    expect(() => resolvePools([
      { name: 'a', spec: { cidr: '10.0.0.0/16' } },
      { name: 'b', spec: { cidr: '10.0.128.0/20' } },
    ])).toThrow('overlaps IPPool a');
  });

  it('selects enabled pools of a family whose selector matches', () => {
    const pools = resolvePools([
      { name: 'a', spec: { cidr: '10.0.0.0/16', nodeSelector: "zone == 'a'" } },
      { name: 'b', spec: { cidr: '10.1.0.0/16', disabled: true } },
      { name: 'c', spec: { cidr: '10.2.0.0/16' } },
      { name: 'd', spec: { cidr: 'fd00::/64' } },
    ]);
    expect(poolsForNode(pools, 4, { zone: 'a' }).map((p) => p.name)).toEqual(['a', 'c']);
    expect(poolsForNode(pools, 4, { zone: 'b' }).map((p) => p.name)).toEqual(['c']);
    expect(poolsForNode(pools, 6, {}).map((p) => p.name)).toEqual(['d']);
  });
});

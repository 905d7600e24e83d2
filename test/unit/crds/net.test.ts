import { describe, expect, it } from 'vitest';
import { isMasked, parseCIDR, parseIP } from '../../../crds/net.js';

describe('IP and CIDR parsing', () => {
  it.each([
    ['10.0.0.1', 4, [10, 0, 0, 1]],
    ['::', 6, new Array(16).fill(0)],
    ['::1', 6, [...new Array(15).fill(0), 1]],
    ['fd00:10::ff', 6, [0xfd, 0, 0, 0x10, ...new Array(10).fill(0), 0, 0xff]],
    ['::ffff:1.2.3.4', 6, [...new Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4]],
    ['1:2:3:4:5:6:7:8', 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ['1:2:3:4:5:6:1.2.3.4', 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]],
  ])('parses %s', (s, family, bytes) => {
    expect(parseIP(s)).toEqual({ family, bytes });
  });

  it.each(['', '10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7::8:9', 'g::1'])(
    'rejects %j as an IP', (s) => {
      expect(parseIP(s)).toBeUndefined();
    },
  );

  it('parses CIDRs and knows host bits', () => {
    expect(parseCIDR('10.244.0.0/16')).toMatchObject({ family: 4, prefixLength: 16 });
    expect(parseCIDR('10.0.0.0/33')).toBeUndefined();
    expect(parseCIDR('fd00::/129')).toBeUndefined();
    expect(parseCIDR('10.0.0.0/016')).toBeUndefined();
    expect(parseCIDR('10.0.0.0')).toBeUndefined();
    expect(isMasked(parseCIDR('10.244.0.0/16')!)).toBe(true);
    expect(isMasked(parseCIDR('10.244.0.1/16')!)).toBe(false);
    expect(isMasked(parseCIDR('10.244.128.0/17')!)).toBe(true);
    expect(isMasked(parseCIDR('10.244.128.0/16')!)).toBe(false);
    expect(isMasked(parseCIDR('fd00:10:244::/56')!)).toBe(true);
    expect(isMasked(parseCIDR('fd00:10:244:1::/56')!)).toBe(false);
    expect(isMasked(parseCIDR('0.0.0.0/0')!)).toBe(true);
  });
});

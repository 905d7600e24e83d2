import { describe, expect, it } from 'vitest';
import { addrAt, blockCount, formatAddr, formatCidr, nthBlock, ordinalOf, parseAddr, parseCidr } from '../../../../agent/ipam/cidr.js';

describe('cidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['fd00::/48', 'fd00::/48'],
    ['2001:db8:0:0:1:0:0:0/96', '2001:db8:0:0:1::/96'],
    ['2001:db8:0:0:0:1:0:0/96', '2001:db8::1:0:0/96'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.0/120', '::ffff:a00:0/120'],
  ])('parses and formats %s', (text, canonical) => {
    expect(formatCidr(parseCidr(text))).toBe(canonical);
  });

  it.each(['10.0.0.1/24', '10.0.0.0', '10.0.0.256/32', '10.0.0.0/33', 'fd00::1::/64', 'fd00::/129', 'x/1'])('rejects %s', (text) => {
    expect(() => parseCidr(text)).toThrow(/CIDR|host bits/);
  });

  it('suggests the network when host bits are set', () => {
    expect(() => parseCidr('10.1.2.3/16')).toThrow('did you mean 10.1.0.0/16');
  });

  it('formats IPv6 per RFC 5952 (longest zero run, lowercase)', () => {
    expect(formatAddr(6, parseAddr('2001:DB8:0:0:1:0:0:1')!.value)).toBe('2001:db8::1:0:0:1');
    expect(formatAddr(6, parseAddr('2001:db8:0:1:1:1:1:1')!.value)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatAddr(6, 1n)).toBe('::1');
  });

  it('carves blocks and maps ordinals', () => {
    const pool = parseCidr('10.244.0.0/16');
    expect(blockCount(pool, 26)).toBe(1024n);
    const b = nthBlock(pool, 26, 5n);
    expect(formatCidr(b)).toBe('10.244.1.64/26');
    expect(addrAt(b, 3)).toBe('10.244.1.67');
    expect(ordinalOf(b, '10.244.1.67')).toBe(3);
    expect(ordinalOf(b, '10.244.1.128')).toBeUndefined();
    const v6 = nthBlock(parseCidr('fd00:10::/64'), 122, 1n);
    expect(formatCidr(v6)).toBe('fd00:10::40/122');
  });
});

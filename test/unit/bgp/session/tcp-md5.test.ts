import { describe, expect, it } from 'vitest';
import { md5SigStruct } from '../../../../bgp/session/tcp-md5.js';
import { ipv6Bytes, sockaddr } from '../../../../bgp/session/sockopt.js';

// struct tcp_md5sig (linux/tcp.h): sockaddr_storage tcpm_addr (128), u8 flags,
// u8 prefixlen, u16 keylen, int ifindex, u8 key[80] — 216 bytes.
describe('struct tcp_md5sig', () => {
  it('lays out an IPv4 peer and its key', () => {
    const b = md5SigStruct('10.1.2.3', 's3cret');
    expect(b.length).toBe(216);
    expect(b.readUInt16LE(0)).toBe(2); // AF_INET
    expect([...b.subarray(4, 8)]).toEqual([10, 1, 2, 3]);
    expect(b.readUInt16LE(130)).toBe(6);
    expect(b.subarray(136, 142).toString()).toBe('s3cret');
    expect(b.subarray(142).every((x) => x === 0)).toBe(true);
  });

  it('lays out an IPv6 peer (sin6_addr after port and flowinfo)', () => {
    const b = md5SigStruct('fd00:1::2', 'k');
    expect(b.readUInt16LE(0)).toBe(10); // AF_INET6
    expect(b.subarray(8, 24).toString('hex')).toBe('fd000001000000000000000000000002');
  });

  it('an empty key deletes (keylen 0)', () => {
    expect(md5SigStruct('10.0.0.1', '').readUInt16LE(130)).toBe(0);
  });

  it('refuses keys longer than 80 bytes', () => {
    expect(() => md5SigStruct('10.0.0.1', 'x'.repeat(81))).toThrow(/longer than 80/);
  });
});

describe('sockaddr', () => {
  it('puts the port in network order', () => {
    const s = sockaddr('192.0.2.1', 179);
    expect(s.length).toBe(16);
    expect(s.readUInt16BE(2)).toBe(179);
  });

  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::8:800:200c:417a', '20010db80000000000080800200c417a'],
    ['::ffff:10.0.0.1', '00000000000000000000ffff0a000001'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
  ])('parses %s', (addr, hex) => {
    expect(ipv6Bytes(addr).toString('hex')).toBe(hex);
  });
});

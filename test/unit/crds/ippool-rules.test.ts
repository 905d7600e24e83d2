import { describe, expect, it } from 'vitest';
import { validateObject } from '../../../crds/schemas.js';

// IPPool rules that follow Calico's validateIPPoolSpec: the pool holds at least one
// block of its effective size (an absent blockSize is 26 / 122), and it does not
// overlap the link-local ranges 169.254.0.0/16 and fe80::/10.
const pool = (spec: Record<string, unknown>) => ({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'p' }, spec });
const errorsOf = (spec: Record<string, unknown>) => {
  const r = validateObject(pool(spec));
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
};

const TOO_SMALL = 'spec: cidr is smaller than one block: its prefix length must not exceed blockSize (26 for IPv4, 122 for IPv6 when absent)';
const LINK_LOCAL_4 = 'spec: IP pool range overlaps with IPv4 Link Local range 169.254.0.0/16';
const LINK_LOCAL_6 = 'spec: IP pool range overlaps with IPv6 Link Local range fe80::/10';

describe('IPPool: pool size against the effective block size', () => {
  it.each([
    [{ cidr: '10.0.0.0/30' }],
    [{ cidr: '10.0.0.0/27' }],
    [{ cidr: 'fd00::/124' }],
    [{ cidr: 'fd00::/123' }],
    [{ cidr: '10.0.0.0/28', blockSize: 26 }],
    [{ cidr: 'fd00::/120', blockSize: 116 }],
  ])('rejects %j', (spec) => {
    expect(errorsOf(spec)).toEqual([TOO_SMALL]);
  });

  it.each([
    [{ cidr: '10.0.0.0/26' }],
    [{ cidr: 'fd00::/122' }],
    [{ cidr: '10.0.0.0/30', blockSize: 30 }],
    [{ cidr: '10.0.0.0/32', blockSize: 32 }],
    [{ cidr: 'fd00::/124', blockSize: 124 }],
    [{ cidr: '10.244.0.0/16' }],
    [{ cidr: 'fd00:10:244::/56', blockSize: 122 }],
  ])('accepts %j', (spec) => {
    expect(errorsOf(spec)).toEqual([]);
  });
});

describe('IPPool: no overlap with the link-local ranges (Calico rejects them)', () => {
  it.each([
    ['169.254.0.0/16', LINK_LOCAL_4],
    ['169.254.10.0/24', LINK_LOCAL_4],
    ['169.0.0.0/8', LINK_LOCAL_4],
    ['0.0.0.0/0', LINK_LOCAL_4],
    ['fe80::/64', LINK_LOCAL_6],
    ['fe80::/10', LINK_LOCAL_6],
    ['fe00::/7', LINK_LOCAL_6],
    ['::/0', LINK_LOCAL_6],
  ])('rejects %s', (cidr, message) => {
    expect(errorsOf({ cidr })).toEqual([message]);
  });

  it.each(['169.253.0.0/16', '169.255.0.0/16', '10.0.0.0/8', '172.16.0.0/12', 'fec0::/64', 'fd00::/8', 'fe40::/10'])('accepts %s', (cidr) => {
    expect(errorsOf({ cidr })).toEqual([]);
  });
});

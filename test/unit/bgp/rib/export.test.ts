import { describe, expect, it } from 'vitest';
import { exportAttrs, prependAs, type ExportTarget, type LocalInfo } from '../../../../bgp/rib/export.js';
import { NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED } from '../../../../bgp/wire/types.js';
import type { RouteAttrs } from '../../../../bgp/rib/path.js';
import { path } from './helpers.js';

const local: LocalInfo = { asn: 65000, routerId: '10.0.0.1', clusterId: '10.0.0.1' };
const target = (over: Partial<ExportTarget> = {}): ExportTarget => ({
  id: 't', asn: 65000, ibgp: true, rrClient: false, nextHopSelf: false, keepOriginalNextHop: false,
  nextHop4: '10.0.0.1', nextHop6: 'fd00::1', extendedNextHop: false, ...over,
});
const ebgp = (over: Partial<ExportTarget> = {}) => target({ asn: 65100, ibgp: false, ...over });
const asAttrs = (r: RouteAttrs | string): RouteAttrs => {
  if (typeof r === 'string') throw new Error(`skipped: ${r}`);
  return r;
};

const client = { ibgp: true, asn: 65000, rrClient: true, address: '10.0.0.2', id: 'c1', routerId: '10.0.0.2' };
const nonClient = { ibgp: true, asn: 65000, rrClient: false, address: '10.0.0.3', id: 'n1', routerId: '10.0.0.3' };
const ibgpAttrs = { asPath: [], localPref: 100, nextHops: ['10.0.0.2'] };

describe('iBGP split horizon and route reflection (RFC 4456 §6)', () => {
  const rows: [string, Parameters<typeof path>[0], Partial<ExportTarget>, string | 'sent'][] = [
    ['non-client → non-client: not sent (split horizon)', nonClient, { rrClient: false }, 'split-horizon'],
    ['non-client → client: reflected', nonClient, { rrClient: true }, 'sent'],
    ['client → client: reflected', client, { rrClient: true }, 'sent'],
    ['client → non-client: reflected', client, { rrClient: false }, 'sent'],
    ['never back to the source', { ...client, id: 't' }, { rrClient: true }, 'source'],
    ['eBGP-learned → iBGP: sent', { asn: 65100 }, {}, 'sent'],
  ];
  it.each(rows)('%s', (_n, src, t, want) => {
    const r = exportAttrs(path(src, ibgpAttrs), target(t), local, 'ipv4');
    if (want === 'sent') expect(typeof r).toBe('object'); else expect(r).toBe(want);
  });

  it('reflection sets ORIGINATOR_ID once and prepends the CLUSTER_ID', () => {
    const r = asAttrs(exportAttrs(path(client, ibgpAttrs), target({ rrClient: true }), local, 'ipv4'));
    expect(r.originatorId).toBe('10.0.0.2');
    expect(r.clusterList).toEqual(['10.0.0.1']);
    const again = asAttrs(exportAttrs(path(client, { ...ibgpAttrs, originatorId: '10.9.9.9', clusterList: ['10.8.8.8'] }),
      target({ rrClient: true }), local, 'ipv4'));
    expect(again.originatorId).toBe('10.9.9.9');
    expect(again.clusterList).toEqual(['10.0.0.1', '10.8.8.8']);
    expect(again.nextHops).toEqual(['10.0.0.2']); // reflected routes keep their next hop
  });

  it('routes from eBGP to iBGP: no ORIGINATOR_ID, LOCAL_PREF set, next hop kept unless next-hop-self', () => {
    const p = path({ asn: 65100 }, { nextHops: ['192.0.2.1'], med: 7 });
    const r = asAttrs(exportAttrs(p, target(), local, 'ipv4'));
    expect(r.originatorId).toBeUndefined();
    expect(r.localPref).toBe(100);
    expect(r.med).toBe(7);
    expect(r.nextHops).toEqual(['192.0.2.1']);
    expect(asAttrs(exportAttrs(p, target({ nextHopSelf: true }), local, 'ipv4')).nextHops).toEqual(['10.0.0.1']);
  });
});

describe('eBGP export (RFC 4271 §5.1)', () => {
  const learned = path(nonClient, { asPath: [{ type: 'AS_SEQUENCE', asns: [65200] }], localPref: 300, med: 5,
    originatorId: '10.7.7.7', clusterList: ['10.6.6.6'], nextHops: ['10.0.0.3'] });
  it('prepends our AS, next hop self, strips LOCAL_PREF, MED, ORIGINATOR_ID, CLUSTER_LIST', () => {
    const r = asAttrs(exportAttrs(learned, ebgp(), local, 'ipv4'));
    expect(r.asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65000, 65200] }]);
    expect(r.nextHops).toEqual(['10.0.0.1']);
    expect(r.localPref).toBeUndefined();
    expect(r.med).toBeUndefined();
    expect(r.originatorId).toBeUndefined();
    expect(r.clusterList).toBeUndefined();
  });
  it('keep-original-next-hop keeps it', () => {
    expect(asAttrs(exportAttrs(learned, ebgp({ keepOriginalNextHop: true }), local, 'ipv4')).nextHops).toEqual(['10.0.0.3']);
  });
  it('our own MED goes out; originated routes get an AS_PATH of just us', () => {
    const own = path({ local: true, address: '', id: '' }, { asPath: [], nextHops: [], med: 42 });
    const r = asAttrs(exportAttrs(own, ebgp(), local, 'ipv4'));
    expect(r.med).toBe(42);
    expect(r.asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65000] }]);
    expect(asAttrs(exportAttrs(own, ebgp(), local, 'ipv6')).nextHops).toEqual(['fd00::1']);
  });
  it('no next hop of the family: not sent (unless extended next hop)', () => {
    const own = path({ local: true, address: '', id: '' }, { asPath: [], nextHops: [] });
    expect(exportAttrs(own, ebgp({ nextHop4: undefined }), local, 'ipv4')).toBe('no-next-hop');
    expect(asAttrs(exportAttrs(own, ebgp({ nextHop4: undefined, extendedNextHop: true }), local, 'ipv4')).nextHops).toEqual(['fd00::1']);
  });
  it('an IPv6 next hop on an IPv4 route without extended next hop: ours instead, or not sent', () => {
    const p = path({ asn: 65100 }, { nextHops: ['fd00::9'] });
    expect(asAttrs(exportAttrs(p, target(), local, 'ipv4')).nextHops).toEqual(['10.0.0.1']);
    expect(exportAttrs(p, target({ nextHop4: undefined }), local, 'ipv4')).toBe('no-next-hop');
    expect(asAttrs(exportAttrs(p, target({ extendedNextHop: true }), local, 'ipv4')).nextHops).toEqual(['fd00::9']);
  });
  it('a next hop passed on unchanged loses its link-local half (RFC 2545 §3: only for peers on that link); ours replaces both', () => {
    const p = path({ asn: 65100 }, { nextHops: ['2001:db8:1::fe', 'fe80::fe'] });
    expect(asAttrs(exportAttrs(p, target(), local, 'ipv6')).nextHops).toEqual(['2001:db8:1::fe']); // iBGP, no next-hop-self
    expect(asAttrs(exportAttrs(p, ebgp({ keepOriginalNextHop: true }), local, 'ipv6')).nextHops).toEqual(['2001:db8:1::fe']);
    expect(asAttrs(exportAttrs(p, target({ extendedNextHop: true }), local, 'ipv4')).nextHops).toEqual(['2001:db8:1::fe']); // RFC 8950
    const reflected = path(client, { ...ibgpAttrs, nextHops: ['fd00::2', 'febf::2'] });
    expect(asAttrs(exportAttrs(reflected, target({ rrClient: true, nextHopSelf: true }), local, 'ipv6')).nextHops).toEqual(['fd00::2']);
    expect(asAttrs(exportAttrs(p, target({ nextHopSelf: true }), local, 'ipv6')).nextHops).toEqual(['fd00::1']);
    expect(asAttrs(exportAttrs(p, ebgp(), local, 'ipv6')).nextHops).toEqual(['fd00::1']);
    // a link-local next hop alone is left as it came (nothing global to send instead)
    const onlyLl = path({ asn: 65100 }, { nextHops: ['fe80::fe'] });
    expect(asAttrs(exportAttrs(onlyLl, target(), local, 'ipv6')).nextHops).toEqual(['fe80::fe']);
  });
  it('prepend starts a new segment after an AS_SET or a full sequence', () => {
    expect(prependAs([{ type: 'AS_SET', asns: [1, 2] }], 9)).toEqual([{ type: 'AS_SEQUENCE', asns: [9] }, { type: 'AS_SET', asns: [1, 2] }]);
    const full = { type: 'AS_SEQUENCE' as const, asns: Array(255).fill(7) };
    expect(prependAs([full], 9)[0]).toEqual({ type: 'AS_SEQUENCE', asns: [9] });
  });
});

describe('well-known communities (RFC 1997)', () => {
  const rows: [string, number, boolean, boolean][] = [
    ['NO_ADVERTISE', NO_ADVERTISE, false, false],
    ['NO_EXPORT', NO_EXPORT, true, false],
    ['NO_EXPORT_SUBCONFED', NO_EXPORT_SUBCONFED, true, false],
    ['a plain community', (65000 << 16) | 1, true, true],
  ];
  it.each(rows)('%s: to iBGP %s, to eBGP %s', (_n, c, toIbgp, toEbgp) => {
    const p = path({ asn: 65100 }, { communities: [c] });
    expect(typeof exportAttrs(p, target(), local, 'ipv4') === 'object').toBe(toIbgp);
    expect(typeof exportAttrs(p, ebgp({ id: 'e2' }), local, 'ipv4') === 'object').toBe(toEbgp);
  });
});

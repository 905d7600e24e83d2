import { describe, expect, it } from 'vitest';
import { importAttrs, type ImportContext } from '../../../../bgp/rib/import.js';
import { compilePrefixFilter, maxPrefixData } from '../../../../bgp/rib/policy.js';

const ctx: ImportContext = { localAs: 65000, routerId: '10.0.0.1', clusterId: '10.0.0.1', ibgp: false, peerAs: 65001, as4: true };
const seq = (...asns: number[]) => ({ type: 'AS_SEQUENCE' as const, asns });

describe('import checks', () => {
  it('drops paths with our AS (eBGP), our router id as ORIGINATOR_ID, our cluster id', () => {
    expect(importAttrs({ origin: 'IGP', asPath: [seq(65001, 65000)] }, ['192.0.2.1'], ctx)).toEqual({ ok: false, reason: 'as-loop' });
    expect(importAttrs({ origin: 'IGP', asPath: [], originatorId: '10.0.0.1' }, ['10.0.0.5'], { ...ctx, ibgp: true }))
      .toEqual({ ok: false, reason: 'originator-loop' });
    expect(importAttrs({ origin: 'IGP', asPath: [], clusterList: ['10.9.9.9', '10.0.0.1'] }, ['10.0.0.5'], { ...ctx, ibgp: true }))
      .toEqual({ ok: false, reason: 'cluster-loop' });
    expect(importAttrs({ origin: 'IGP', asPath: [seq(65000)] }, ['10.0.0.5'], { ...ctx, ibgp: true }).ok).toBe(true);
  });
  it('refuses confederation segments from anyone, and an eBGP path not led by the peer AS', () => {
    const confed = { type: 'AS_CONFED_SEQUENCE' as const, asns: [65010] };
    expect(importAttrs({ origin: 'IGP', asPath: [confed, seq(65001)] }, ['10.0.0.5'], { ...ctx, ibgp: true })).toEqual({ ok: false, reason: 'confed-path' });
    expect(importAttrs({ origin: 'IGP', asPath: [seq(65001), confed] }, ['192.0.2.1'], ctx)).toEqual({ ok: false, reason: 'confed-path' });
    expect(importAttrs({ origin: 'IGP', asPath: [] }, ['192.0.2.1'], ctx)).toEqual({ ok: false, reason: 'first-as' });
    expect(importAttrs({ origin: 'IGP', asPath: [seq(65002, 65001)] }, ['192.0.2.1'], ctx)).toEqual({ ok: false, reason: 'first-as' });
    expect(importAttrs({ origin: 'IGP', asPath: [seq(65001, 65002)] }, ['192.0.2.1'], ctx).ok).toBe(true);
  });
  it('ignores LOCAL_PREF from eBGP, keeps it from iBGP; unknown transitive attributes get the Partial bit', () => {
    const a = { origin: 'IGP' as const, asPath: [seq(65001)], localPref: 500, unknown: [{ code: 99, flags: 0xc0, hex: 'ab' }, { code: 98, flags: 0x80, hex: 'cd' }] };
    const e = importAttrs(a, ['192.0.2.1'], ctx);
    expect(e.ok && e.attrs.localPref).toBeUndefined();
    expect(e.ok && e.attrs.unknown).toEqual([{ code: 99, flags: 0xe0, hex: 'ab' }]);
    const i = importAttrs(a, ['192.0.2.1'], { ...ctx, ibgp: true });
    expect(i.ok && i.attrs.localPref).toBe(500);
  });
  it('RFC 6793: merges AS4_PATH for a 2-octet peer', () => {
    const a = { origin: 'IGP' as const, asPath: [seq(65001, 23456, 23456)], as4Path: [seq(4200000001, 4200000002)] };
    const r = importAttrs(a, ['192.0.2.1'], { ...ctx, as4: false });
    expect(r.ok && r.attrs.asPath).toEqual([seq(65001, 4200000001, 4200000002)]);
    // on a 4-octet session AS4_PATH means nothing
    const n = importAttrs(a, ['192.0.2.1'], ctx);
    expect(n.ok && n.attrs.asPath).toEqual([seq(65001, 23456, 23456)]);
    // an AGGREGATOR from a real 2-octet AS makes AS4_PATH stale
    const b = importAttrs({ ...a, aggregator: { asn: 65001, address: '1.1.1.1' } }, ['192.0.2.1'], { ...ctx, as4: false });
    expect(b.ok && b.attrs.asPath).toEqual([seq(65001, 23456, 23456)]);
  });
});

describe('prefix filters and max-prefix data', () => {
  const f = compilePrefixFilter(['10.244.0.0/16', 'fd00:10:244::/48'])!;
  const rows: [string, number, boolean][] = [
    ['10.244.1.0', 26, true], ['10.244.0.0', 16, true], ['10.0.0.0', 8, false], ['10.245.0.0', 24, false],
    ['10.244.0.0', 15, false], ['fd00:10:244:1::', 64, true], ['fd00:10:245::', 64, false], ['fd00::', 32, false],
  ];
  it.each(rows)('%s/%d inside the pools: %s', (addr, len, inside) => expect(f(addr, len)).toBe(inside));
  it('no pools configured: no filter', () => expect(compilePrefixFilter(undefined)).toBeUndefined());
  it('Cease 6/1 data is AFI, SAFI, limit', () => {
    expect([...maxPrefixData(1, 1, 1000)]).toEqual([0, 1, 1, 0, 0, 3, 0xe8]);
  });
});

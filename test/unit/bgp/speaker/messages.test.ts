import { describe, expect, it } from 'vitest';
import { buildUpdates, endOfRib, endOfRibFamily } from '../../../../bgp/speaker/messages.js';
import { checkOpen } from '../../../../bgp/fsm/open.js';
import type { Negotiated } from '../../../../bgp/fsm/types.js';
import type { RouteAttrs } from '../../../../bgp/rib/path.js';
import { decodeMessage, encodeMessage } from '../../../../bgp/wire/index.js';
import type { UpdateMessage } from '../../../../bgp/wire/types.js';

function negotiated(as4: boolean): Negotiated {
  const v = checkOpen(
    { localAs: 65000, routerId: '10.0.0.1', peerAs: 65001, holdTime: 90, connectRetryTime: 5, idleHoldTime: 5, passive: false, families: ['ipv4', 'ipv6'] },
    { type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.2', capabilities: [
      { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 1, name: 'MULTIPROTOCOL', afi: 2, safi: 1 },
      ...(as4 ? [{ code: 65 as const, name: 'FOUR_OCTET_AS' as const, asn: 65001 }] : []),
    ] },
  );
  if (!v.ok) throw new Error(v.detail);
  return v.negotiated;
}

const heavy: RouteAttrs = {
  origin: 'IGP',
  asPath: [{ type: 'AS_SEQUENCE', asns: Array.from({ length: 60 }, (_, i) => (i % 2 ? 4200000000 + i : 64512 + i)) }],
  nextHops: ['192.0.2.1'],
  med: 5,
  communities: Array.from({ length: 120 }, (_, i) => (65000 * 65536 + i) >>> 0),
  largeCommunities: [{ global: 4200000001, local1: 1, local2: 2 }],
};

function roundTrip(msgs: UpdateMessage[], as4: boolean): { nlri: string[]; withdrawn: string[]; paths: string[] } {
  const nlri: string[] = [];
  const withdrawn: string[] = [];
  const paths = new Set<string>();
  const opts = { as4, addPath: new Set<string>() };
  for (const m of msgs) {
    const frame = encodeMessage(m, opts); // throws beyond 4096 octets
    expect(frame.length).toBeLessThanOrEqual(4096);
    const d = decodeMessage(frame, opts);
    if (!d.ok || d.message.type !== 'UPDATE') throw new Error('did not decode');
    const u = d.message;
    const p = [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])];
    nlri.push(...p.map((x) => `${x.addr}/${x.len}`));
    withdrawn.push(...[...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])].map((x) => `${x.addr}/${x.len}`));
    if (p.length) paths.add(JSON.stringify(u.attributes.as4Path ?? u.attributes.asPath));
  }
  return { nlri, withdrawn, paths: [...paths] };
}

describe('UPDATE building', () => {
  const v4 = Array.from({ length: 3000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  const v6 = Array.from({ length: 1500 }, (_, i) => `fd00::${(i + 1).toString(16)}/128`);

  it.each([true, false])('heavy attributes, thousands of prefixes: every message fits 4096 octets (as4 %s)', (as4) => {
    const heavy6: RouteAttrs = { ...heavy, nextHops: ['fd00::1', 'fe80::1'] };
    const msgs = buildUpdates({ announce: new Map([[heavy, v4], [heavy6, v6]]), withdraw: [...v4.slice(0, 1000), ...v6.slice(0, 500)] }, negotiated(as4));
    const r = roundTrip(msgs, as4);
    expect(r.nlri.sort()).toEqual([...v4, ...v6].sort());
    expect(r.withdrawn.sort()).toEqual([...v4.slice(0, 1000), ...v6.slice(0, 500)].sort());
    // the true 4-octet path survives, as AS_PATH or (2-octet peer) AS4_PATH
    expect(r.paths).toEqual([JSON.stringify(heavy.asPath)]);
    expect(msgs.length).toBeLessThan(60);
  });

  it('IPv4 with an IPv4 next hop uses the classic fields, IPv6 uses MP_REACH', () => {
    const [a, b] = buildUpdates({ announce: new Map([[{ ...heavy, nextHops: ['192.0.2.1'] }, ['10.0.0.0/24']], [{ ...heavy, nextHops: ['fd00::1'] }, ['fd00:1::/64']]]), withdraw: [] }, negotiated(true));
    expect(a).toMatchObject({ nlri: [{ afi: 1, addr: '10.0.0.0', len: 24 }], attributes: { nextHop: '192.0.2.1' } });
    expect(b?.attributes.mpReach).toMatchObject({ afi: 2, nextHops: ['fd00::1'], nlri: [{ afi: 2, addr: 'fd00:1::', len: 64 }] });
  });

  it('End-of-RIB markers both ways', () => {
    expect(endOfRibFamily(endOfRib('ipv4'))).toBe('ipv4');
    expect(endOfRibFamily(endOfRib('ipv6'))).toBe('ipv6');
    expect(endOfRibFamily({ type: 'UPDATE', withdrawn: [{ afi: 1, addr: '10.0.0.0', len: 8 }], attributes: {}, nlri: [] })).toBeUndefined();
  });
});

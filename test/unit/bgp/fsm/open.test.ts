import { describe, expect, it } from 'vitest';
import { buildOpen, checkOpen } from '../../../../bgp/fsm/open.js';
import type { FsmConfig } from '../../../../bgp/fsm/types.js';
import type { Capability, OpenMessage } from '../../../../bgp/wire/types.js';

const cfg: FsmConfig = {
  localAs: 65000, routerId: '10.0.0.1', peerAs: 65001, holdTime: 90, connectRetryTime: 5,
  idleHoldTime: 3, passive: false, families: ['ipv4', 'ipv6'],
};
const mp = (afi: number): Capability => ({ code: 1, name: 'MULTIPROTOCOL', afi, safi: 1 });
const as4 = (asn: number): Capability => ({ code: 65, name: 'FOUR_OCTET_AS', asn });
const open = (o: Partial<OpenMessage> = {}): OpenMessage => ({
  type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.2', capabilities: [mp(1), mp(2), as4(65001)], ...o,
});

describe('OPEN validation (RFC 4271 §6.2)', () => {
  const rows: [string, FsmConfig, OpenMessage, number, Uint8Array | undefined][] = [
    ['unsupported version → 2/1 with our version as data', cfg, open({ version: 3 }), 1, new Uint8Array([0, 4])],
    // data = the AS received: 4 octets from the 4-octet AS capability, else the 2-octet My AS (as BIRD sends)
    ['bad peer AS → 2/2, data = the capability AS', cfg, open({ myAs: 65002, capabilities: [mp(1), as4(65002)] }), 2, new Uint8Array([0, 0, 0xfd, 0xea])],
    ['bad peer AS from a 2-octet peer → 2/2, data = My AS', cfg, open({ myAs: 65002, capabilities: [mp(1)] }), 2, new Uint8Array([0xfd, 0xea])],
    ['4-octet AS mismatch → 2/2', { ...cfg, peerAs: 4200000001 }, open({ myAs: 23456, capabilities: [mp(1), as4(4200000002)] }), 2,
      new Uint8Array([0xfa, 0x56, 0xea, 0x02])],
    ['AS_TRANS without 4-octet capability → 2/2', { ...cfg, peerAs: 4200000001 }, open({ myAs: 23456, capabilities: [mp(1)] }), 2, new Uint8Array([0x5b, 0xa0])],
    // RFC 7607 §2: AS 0 is Bad Peer AS even where the configuration names AS 0
    ['AS 0 in My AS (no capability) → 2/2', { ...cfg, peerAs: 0 }, open({ myAs: 0, capabilities: [mp(1)] }), 2, new Uint8Array([0, 0])],
    ['AS 0 in the 4-octet capability → 2/2', { ...cfg, peerAs: 0 }, open({ myAs: 0, capabilities: [mp(1), as4(0)] }), 2, undefined],
    ['My AS 0 beside a good 4-octet capability → 2/2', cfg, open({ myAs: 0 }), 2, undefined],
    ['BGP id 0.0.0.0 → 2/3', cfg, open({ bgpId: '0.0.0.0' }), 3, undefined],
    ['iBGP peer with our own BGP id → 2/3', { ...cfg, peerAs: 65000 }, open({ myAs: 65000, bgpId: '10.0.0.1', capabilities: [mp(1), as4(65000)] }), 3, undefined],
    ['hold time 1 → 2/6', cfg, open({ holdTime: 1 }), 6, undefined],
    ['hold time 2 → 2/6', cfg, open({ holdTime: 2 }), 6, undefined],
    ['no family in common → 2/7 listing ours', { ...cfg, families: ['ipv6'] }, open({ capabilities: [mp(1), as4(65001)] }), 7,
      new Uint8Array([1, 4, 0, 2, 0, 1])],
  ];
  it.each(rows)('%s', (_name, c, o, subcode, data) => {
    const v = checkOpen(c, o);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.notification.code).toBe(2);
    expect(v.notification.subcode).toBe(subcode);
    if (data) expect(v.notification.data).toEqual(data);
  });

  it('the receive codec knows iBGP from eBGP (LOCAL_PREF is discarded on eBGP, RFC 7606 §7.5)', () => {
    const i = checkOpen({ ...cfg, peerAs: 65000 }, open({ myAs: 65000, capabilities: [mp(1), as4(65000)] }));
    expect(i.ok && [i.negotiated.codecIn.ibgp, i.negotiated.codecOut.ibgp]).toEqual([true, undefined]);
    const e = checkOpen(cfg, open());
    expect(e.ok && e.negotiated.codecIn.ibgp).toBe(false);
  });

  it('accepts hold time 0 and 3', () => {
    expect(checkOpen(cfg, open({ holdTime: 0 })).ok).toBe(true);
    expect(checkOpen(cfg, open({ holdTime: 3 })).ok).toBe(true);
  });

  it('a 2-octet peer without capabilities speaks IPv4 with 2-octet AS_PATHs', () => {
    const v = checkOpen(cfg, open({ capabilities: [] }));
    expect(v.ok && v.negotiated).toMatchObject({ as4: false, families: ['ipv4'], routeRefresh: false, codecIn: { as4: false, ibgp: false } });
  });
});

describe('capability negotiation', () => {
  it('negotiates the intersection of families, route refresh, 4-octet AS', () => {
    const v = checkOpen({ ...cfg, families: ['ipv4', 'ipv6'] }, open({ capabilities: [mp(2), as4(65001), { code: 2, name: 'ROUTE_REFRESH' }] }));
    expect(v.ok && v.negotiated).toMatchObject({ families: ['ipv6'], routeRefresh: true, as4: true, peerAs: 65001, peerId: '10.0.0.2' });
  });

  it('ADD-PATH receive only when we offered it and the peer can send', () => {
    const c = { ...cfg, addPathReceive: ['ipv4' as const] };
    const send: Capability = { code: 69, name: 'ADD_PATH', families: [{ afi: 1, safi: 1, sendReceive: 2 }] };
    const recvOnly: Capability = { code: 69, name: 'ADD_PATH', families: [{ afi: 1, safi: 1, sendReceive: 1 }] };
    const a = checkOpen(c, open({ capabilities: [mp(1), as4(65001), send] }));
    expect(a.ok && [...a.negotiated.codecIn.addPath]).toEqual(['1/1']);
    expect(a.ok && [...a.negotiated.codecOut.addPath]).toEqual([]);
    const b = checkOpen(c, open({ capabilities: [mp(1), as4(65001), recvOnly] }));
    expect(b.ok && [...b.negotiated.codecIn.addPath]).toEqual([]);
    const d = checkOpen(cfg, open({ capabilities: [mp(1), as4(65001), send] }));
    expect(d.ok && [...d.negotiated.codecIn.addPath]).toEqual([]);
  });

  it('graceful restart is recorded only when both sides advertise it', () => {
    const gr: Capability = { code: 64, name: 'GRACEFUL_RESTART', restarted: true, notification: false, restartTime: 120,
      families: [{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 2, safi: 1, forwardingPreserved: false }] };
    const withGr = { ...cfg, gracefulRestart: { restartTime: 60, restarting: false, forwardingPreserved: true } };
    const v = checkOpen(withGr, open({ capabilities: [mp(1), mp(2), as4(65001), gr] }));
    expect(v.ok && v.negotiated.gracefulRestart).toEqual({ restartTime: 120, restarted: true, notification: false, families: ['ipv4', 'ipv6'], preserved: ['ipv4'] });
    const w = checkOpen(cfg, open({ capabilities: [mp(1), as4(65001), gr] }));
    expect(w.ok && w.negotiated.gracefulRestart).toBeUndefined();
  });

  it('extended next hop when both offer IPv4 over IPv6', () => {
    const ext: Capability = { code: 5, name: 'EXTENDED_NEXT_HOP', tuples: [{ afi: 1, safi: 1, nextHopAfi: 2 }] };
    const v = checkOpen({ ...cfg, extendedNextHop: true }, open({ capabilities: [mp(1), as4(65001), ext] }));
    expect(v.ok && v.negotiated.extendedNextHop).toBe(true);
    const w = checkOpen(cfg, open({ capabilities: [mp(1), as4(65001), ext] }));
    expect(w.ok && w.negotiated.extendedNextHop).toBe(false);
  });

  it('our OPEN: AS_TRANS for a 4-octet ASN, the real one in the capability', () => {
    const o = buildOpen({ ...cfg, localAs: 4200000001, gracefulRestart: { restartTime: 5000, restarting: true, forwardingPreserved: true } });
    expect(o.myAs).toBe(23456);
    expect(o.capabilities).toContainEqual({ code: 65, name: 'FOUR_OCTET_AS', asn: 4200000001 });
    expect(o.capabilities).toContainEqual(mp(2));
    const gr = o.capabilities.find((c) => c.code === 64);
    expect(gr).toMatchObject({ restarted: true, restartTime: 4095 });
  });
});

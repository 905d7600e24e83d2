import { describe, expect, it } from 'vitest';
import { originate, removePeer, speakerStatus, updatePeer } from '../../../../bgp/speaker/index.js';
import { bestAt as bestIn, routesOf } from '../../../support/rib-table.js';
import type { PeerConfig } from '../../../../bgp/speaker/index.js';
import { Sim } from './sim.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const C = '10.0.0.3';
const R = '10.0.0.9';

function pair(opts: { a?: Partial<PeerConfig>; b?: Partial<PeerConfig>; asB?: number } = {}): Sim {
  const sim = new Sim();
  sim.node(A, { asn: 65001 });
  sim.node(B, { asn: opts.asB ?? 65002 });
  sim.peer(A, { address: B, asn: opts.asB ?? 65002, ...opts.a });
  sim.peer(B, { address: A, asn: 65001, passive: true, ...opts.b });
  sim.run();
  return sim;
}

const bestAt = (sim: Sim, node: string, prefix: string) => bestIn(sim.speaker(node).loc, prefix);

describe('speaker: two eBGP peers', () => {
  it('establish, and a route originated on A reaches B with A as next hop and A\'s AS prepended', () => {
    const sim = pair();
    expect(sim.state(A, B)).toBe('Established');
    expect(sim.state(B, A)).toBe('Established');
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26', communities: ['65001:7'] }], sim.now));
    sim.run();
    const best = bestAt(sim, B, '10.244.1.0/26');
    expect(best?.attrs.nextHops).toEqual([A]);
    expect(best?.attrs.asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65001] }]);
    expect(best?.attrs.communities).toEqual([((65001 << 16) | 7) >>> 0]);
    expect(sim.routes(B)).toContainEqual(expect.objectContaining({ prefix: '10.244.1.0/26', kind: 'add', nextHops: [A] }));
    // B does not send it back to A
    expect(sim.sent.filter((m) => m.from === B && m.message.type === 'UPDATE' && m.message.nlri.length > 0)).toEqual([]);
    sim.apply(A, originate(sim.speaker(A), [], sim.now));
    sim.run();
    expect(bestAt(sim, B, '10.244.1.0/26')).toBeUndefined();
    // its fields, not the object: a numerically keyed change (Ipv4Change) has its prefix as a getter
    const last = sim.routes(B).at(-1);
    expect(last && { prefix: last.prefix, kind: last.kind, nextHops: last.nextHops, best: last.best, reason: last.reason }).toEqual({ prefix: '10.244.1.0/26', kind: 'remove', nextHops: [] });
  });

  it('re-originating the same set sends nothing (desired vs sent)', () => {
    const sim = pair();
    const routes = [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/26' }];
    sim.apply(A, originate(sim.speaker(A), routes, sim.now));
    sim.run();
    const before = sim.sent.length;
    sim.apply(A, originate(sim.speaker(A), routes, sim.now));
    sim.run();
    expect(sim.sent.length).toBe(before);
    // both prefixes share one attribute set: one UPDATE carried both
    const ups = sim.sent.filter((m) => m.from === A && m.message.type === 'UPDATE' && m.message.nlri.length > 0);
    expect(ups).toHaveLength(1);
  });

  it('IPv6 routes travel in MP_REACH with the session\'s IPv6 next hop', () => {
    const sim = pair({ a: { families: ['ipv4', 'ipv6'], nextHop6: 'fd00::1' }, b: { families: ['ipv4', 'ipv6'] } });
    sim.apply(A, originate(sim.speaker(A), [{ prefix: 'fd00:244:0:1::/64' }], sim.now));
    sim.run();
    expect(bestAt(sim, B, 'fd00:244:0:1::/64')?.attrs.nextHops).toEqual(['fd00::1']);
    const up = sim.sent.find((m) => m.from === A && m.message.type === 'UPDATE' && m.message.attributes.mpReach);
    expect(up?.message.type === 'UPDATE' && up.message.attributes.mpReach?.afi).toBe(2);
  });

  it('max-prefix: Cease 6/1 with AFI, SAFI and the limit; the routes go; no automatic restart', () => {
    const sim = pair({ b: { maxPrefixes: 2 } });
    sim.apply(A, originate(sim.speaker(A), [1, 2, 3].map((i) => ({ prefix: `10.244.${i}.0/24` })), sim.now));
    sim.run();
    const n = sim.sent.find((m) => m.from === B && m.message.type === 'NOTIFICATION');
    expect(n?.message).toEqual({ type: 'NOTIFICATION', code: 6, subcode: 1, data: new Uint8Array([0, 1, 1, 0, 0, 0, 2]) });
    expect(sim.state(B, A)).toBe('Idle');
    expect(sim.speaker(B).loc.routes.size).toBe(0);
    expect(speakerStatus(sim.speaker(A)).peers[0]?.reason).toContain('6/1');
    sim.advance(60_000);
    expect(sim.state(B, A)).not.toBe('Established');
    // raising the limit restarts the peer
    sim.apply(B, updatePeer(sim.speaker(B), { address: A, asn: 65001, passive: true, maxPrefixes: 10 }, sim.now));
    sim.run();
    sim.advance(10_000);
    expect(sim.state(B, A)).toBe('Established');
    expect(sim.speaker(B).loc.routes.size).toBe(3);
  });

  it('import prefix filter: only prefixes inside the pools are accepted', () => {
    const sim = pair({ b: { importPrefixes: ['10.244.0.0/16'] } });
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }, { prefix: '192.168.0.0/24' }], sim.now));
    sim.run();
    expect(Object.keys(sim.rib(B))).toEqual(['10.244.1.0/26']);
    expect(speakerStatus(sim.speaker(B)).peers[0]).toMatchObject({ received: 2, accepted: 1 });
  });

  it('export policy change applies without a reset: only the difference is sent', () => {
    const sim = pair();
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }, { prefix: '192.168.0.0/24' }], sim.now));
    sim.run();
    const since = sim.speaker(A).peers.get(B)!.fsm.since;
    const before = sim.sent.length;
    sim.now = 5000;
    sim.apply(A, updatePeer(sim.speaker(A), { address: B, asn: 65002, exportPrefixes: ['10.244.0.0/16'] }, sim.now));
    sim.run();
    expect(sim.state(A, B)).toBe('Established');
    expect(sim.speaker(A).peers.get(B)!.fsm.since).toBe(since);
    const after = sim.sent.slice(before).map((m) => m.message);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ type: 'UPDATE', withdrawn: [{ addr: '192.168.0.0', len: 24 }], nlri: [] });
    expect(Object.keys(sim.rib(B))).toEqual(['10.244.1.0/26']);
  });

  it('a change that needs a new OPEN resets the session (Cease 6/6) and it comes back', () => {
    const sim = pair();
    sim.apply(A, updatePeer(sim.speaker(A), { address: B, asn: 65002, holdTime: 30 }, sim.now));
    sim.run();
    expect(sim.sent.some((m) => m.from === A && m.message.type === 'NOTIFICATION' && m.message.subcode === 6)).toBe(true);
    sim.advance(10_000);
    expect(sim.state(A, B)).toBe('Established');
    expect(sim.speaker(A).peers.get(B)!.negotiated?.holdTime).toBe(30);
  });

  it('removing a peer sends Cease 6/3 and withdraws what it taught us', () => {
    const sim = pair();
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }], sim.now));
    sim.run();
    sim.apply(B, removePeer(sim.speaker(B), A, sim.now));
    sim.run();
    expect(sim.sent.some((m) => m.from === B && m.message.type === 'NOTIFICATION' && m.message.code === 6 && m.message.subcode === 3)).toBe(true);
    expect(sim.speaker(B).loc.routes.size).toBe(0);
    expect(sim.speaker(B).peers.size).toBe(0);
  });

  it('both sides active: a collision leaves exactly one session', () => {
    const sim = new Sim();
    sim.node(A, { asn: 65001 });
    sim.node(B, { asn: 65002 });
    sim.peer(A, { address: B, asn: 65002 });
    sim.peer(B, { address: A, asn: 65001 });
    sim.deferAccepts();
    sim.run();
    sim.advance(20_000);
    expect(sim.state(A, B)).toBe('Established');
    expect(sim.state(B, A)).toBe('Established');
    expect(sim.openLinks(A, B)).toBe(1);
    // it really was a collision, settled by Cease 6/7 on the losing connection
    expect(sim.sent.some((m) => m.message.type === 'NOTIFICATION' && m.message.code === 6 && m.message.subcode === 7)).toBe(true);
  });
});

describe('speaker: iBGP', () => {
  function mesh(rr: boolean): Sim {
    const sim = new Sim();
    for (const n of [A, B, C]) sim.node(n, { asn: 65000 });
    if (rr) {
      sim.node(R, { asn: 65000 });
      for (const n of [A, C]) {
        sim.peer(n, { address: R, asn: 65000 });
        sim.peer(R, { address: n, asn: 65000, passive: true, routeReflectorClient: true });
      }
      sim.peer(B, { address: R, asn: 65000 });
      sim.peer(R, { address: B, asn: 65000, passive: true }); // a non-client
    } else {
      sim.peer(A, { address: B, asn: 65000 }); sim.peer(B, { address: A, asn: 65000, passive: true });
      sim.peer(A, { address: C, asn: 65000 }); sim.peer(C, { address: A, asn: 65000, passive: true });
      sim.peer(B, { address: C, asn: 65000 }); sim.peer(C, { address: B, asn: 65000, passive: true });
    }
    sim.run();
    return sim;
  }

  it('full mesh: everyone learns from the originator only (split horizon)', () => {
    const sim = mesh(false);
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }], sim.now));
    sim.run();
    for (const n of [B, C]) {
      expect(sim.rib(n)).toEqual({ '10.244.1.0/26': [A] });
      expect(bestAt(sim, n, '10.244.1.0/26')?.attrs.localPref).toBe(100);
    }
    expect(routesOf(sim.speaker(C).loc, sim.speaker(C).peers.get(B)!.in).size).toBe(0);
    expect(sim.speaker(C).peers.get(B)!.in.count).toBe(0);
    expect(sim.sent.filter((m) => m.from === B && m.message.type === 'UPDATE' && m.message.nlri.length > 0)).toEqual([]);
  });

  it('route reflector: client route reaches the other client and the non-client with ORIGINATOR_ID and CLUSTER_LIST', () => {
    const sim = mesh(true);
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }], sim.now));
    sim.run();
    for (const n of [C, B]) {
      const best = bestAt(sim, n, '10.244.1.0/26');
      expect(best?.attrs.nextHops).toEqual([A]);
      expect(best?.attrs.originatorId).toBe(A);
      expect(best?.attrs.clusterList).toEqual([R]);
    }
    // not reflected back to its originator
    expect(sim.sent.filter((m) => m.from === R && m.to === A && m.message.type === 'UPDATE' && m.message.nlri.length > 0)).toEqual([]);
  });

  it('route reflector: a non-client route goes to clients only', () => {
    const sim = mesh(true);
    // give the non-client B a second iBGP non-client peer of R to check it does not get it
    sim.node('10.0.0.4', { asn: 65000 });
    sim.peer('10.0.0.4', { address: R, asn: 65000 });
    sim.peer(R, { address: '10.0.0.4', asn: 65000, passive: true });
    sim.run();
    sim.apply(B, originate(sim.speaker(B), [{ prefix: '10.244.2.0/26' }], sim.now));
    sim.run();
    expect(sim.rib(A)).toEqual({ '10.244.2.0/26': [B] });
    expect(sim.rib(C)).toEqual({ '10.244.2.0/26': [B] });
    expect(sim.rib('10.0.0.4')).toEqual({});
  });

  it('making a non-client a client applies in place: its routes now reach non-clients too', () => {
    const sim = mesh(true);
    sim.node('10.0.0.4', { asn: 65000 });
    sim.peer('10.0.0.4', { address: R, asn: 65000 });
    sim.peer(R, { address: '10.0.0.4', asn: 65000, passive: true });
    sim.run();
    sim.apply(B, originate(sim.speaker(B), [{ prefix: '10.244.2.0/26' }], sim.now));
    sim.run();
    expect(sim.rib('10.0.0.4')).toEqual({});
    sim.apply(R, updatePeer(sim.speaker(R), { address: B, asn: 65000, passive: true, routeReflectorClient: true }, sim.now));
    sim.run();
    expect(sim.rib('10.0.0.4')).toEqual({ '10.244.2.0/26': [B] });
    expect(sim.state(R, B)).toBe('Established');
    expect(sim.sent.some((m) => m.message.type === 'NOTIFICATION')).toBe(false);
  });

  it('multipath: two equal routes give both next hops', () => {
    const sim = new Sim();
    sim.node(A, { asn: 65000, multipath: true });
    for (const n of [B, C]) {
      sim.node(n, { asn: 65100 });
      sim.peer(A, { address: n, asn: 65100 });
      sim.peer(n, { address: A, asn: 65000, passive: true });
    }
    sim.run();
    for (const n of [B, C]) sim.apply(n, originate(sim.speaker(n), [{ prefix: '10.96.0.0/24' }], sim.now));
    sim.run();
    expect(sim.rib(A)['10.96.0.0/24']?.sort()).toEqual([B, C]);
    expect(sim.routes(A).at(-1)?.nextHops.sort()).toEqual([B, C]);
  });
});

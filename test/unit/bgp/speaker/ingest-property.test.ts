import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPeer, createSpeaker, handle, incoming, messageEvent } from '../../../../bgp/speaker/index.js';
import { selectBest } from '../../../../bgp/rib/best-path.js';
import { bestOf, locRibFamilies, routesOf } from '../../../../bgp/rib/table.js';
import type { Path } from '../../../../bgp/rib/path.js';
import type { PathAttributes, Prefix, UpdateMessage } from '../../../../bgp/wire/types.js';
import { Ipv4Prefix } from '../../../../bgp/wire/prefix.js';

const PEERS = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
const ASNS = [65001, 65002, 65000]; // the third is iBGP

const prefix = fc.constantFrom<Prefix>(
  { afi: 1, addr: '10.0.0.0', len: 24 }, { afi: 1, addr: '10.0.1.0', len: 24 }, { afi: 1, addr: '10.1.0.0', len: 16 },
  { afi: 2, addr: 'fd00::', len: 64 },
  // the same IPv4 prefixes as the session decodes them (numbers, CodecOptions.ipv4Numbers): one table key either way
  new Ipv4Prefix(0x0a000000, 24, undefined), new Ipv4Prefix(0x0a000100, 24, undefined), new Ipv4Prefix(0x0a010000, 16, undefined),
);
const attrs = fc.record({
  med: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  localPref: fc.option(fc.constantFrom(50, 100, 200), { nil: undefined }),
  path: fc.array(fc.constantFrom(65010, 65011, 65000), { maxLength: 3 }),
  origin: fc.constantFrom('IGP', 'EGP', 'INCOMPLETE' as const),
  communities: fc.option(fc.constant([0xffffff01]), { nil: undefined }),
});
const update = fc.record({
  peer: fc.integer({ min: 0, max: 2 }),
  withdrawn: fc.array(prefix, { maxLength: 2 }),
  nlri: fc.array(prefix, { maxLength: 3 }),
  attrs,
});

function toMessage(peer: number, u: { withdrawn: Prefix[]; nlri: Prefix[]; attrs: { med?: number; localPref?: number; path: number[]; origin: 'IGP' | 'EGP' | 'INCOMPLETE'; communities?: readonly number[] } }): UpdateMessage {
  const asPath = [{ type: 'AS_SEQUENCE' as const, asns: ASNS[peer] === 65000 ? u.attrs.path : [ASNS[peer]!, ...u.attrs.path] }];
  const base: PathAttributes = { origin: u.attrs.origin, asPath };
  if (u.attrs.med !== undefined) base.med = u.attrs.med;
  if (u.attrs.localPref !== undefined) base.localPref = u.attrs.localPref;
  if (u.attrs.communities) base.communities = [...u.attrs.communities];
  const v4 = u.nlri.filter((p) => p.afi === 1);
  const v6 = u.nlri.filter((p) => p.afi === 2);
  const attributes: PathAttributes = { ...base };
  if (v4.length) attributes.nextHop = PEERS[peer]!;
  if (v6.length) attributes.mpReach = { afi: 2, safi: 1, nextHops: [`fd00::${peer + 1}`], nlri: v6 };
  const w6 = u.withdrawn.filter((p) => p.afi === 2);
  if (w6.length) attributes.mpUnreach = { afi: 2, safi: 1, withdrawn: w6 };
  return { type: 'UPDATE', withdrawn: u.withdrawn.filter((p) => p.afi === 1), attributes: u.nlri.length || w6.length ? attributes : {}, nlri: v4 };
}

describe('ingest property: the incremental pipeline equals a from-scratch decision', () => {
  it('after any UPDATE sequence from three peers, Loc-RIB = decision over the Adj-RIBs-In, and the reported changes replay to it', () => {
    let held = 0;
    fc.assert(fc.property(fc.array(update, { maxLength: 25 }), (updates) => {
      const { state: s } = createSpeaker({ asn: 65000, routerId: '10.0.0.100' });
      const conns: number[] = [];
      PEERS.forEach((addr, i) => {
        addPeer(s, { address: addr, asn: ASNS[i]!, passive: true, families: ['ipv4', 'ipv6'] }, 0);
        const conn = incoming(s, addr, '10.0.0.100', 0).conn!;
        conns.push(conn);
        handle(s, addr, messageEvent(conn, { type: 'OPEN', version: 4, myAs: ASNS[i]!, holdTime: 90, bgpId: `1.1.1.${i + 1}`, capabilities: [
          { code: 65, name: 'FOUR_OCTET_AS', asn: ASNS[i]! }, { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 1, name: 'MULTIPROTOCOL', afi: 2, safi: 1 },
        ] }), 0);
        handle(s, addr, messageEvent(conn, { type: 'KEEPALIVE' }), 0);
      });
      const replay = new Map<string, string[]>();
      for (const u of updates) {
        const r = handle(s, PEERS[u.peer]!, messageEvent(conns[u.peer]!, toMessage(u.peer, u)), 1);
        for (const ch of r.routes) { if (ch.kind === 'remove') replay.delete(ch.prefix); else replay.set(ch.prefix, ch.nextHops); }
      }
      held += s.loc.routes.size;
      // each peer's Adj-RIB-In as its own listing (a scan of the shared table)
      const adjIn = [...s.peers.values()].map((p) => routesOf(s.loc, p.in));
      const keys = new Set<string>();
      for (const routes of adjIn) for (const k of routes.keys()) keys.add(k);
      for (const k of s.loc.routes.keys()) keys.add(k);
      for (const k of keys) {
        const cands: Path[] = [];
        for (const routes of adjIn) { const c = routes.get(k); if (c) cands.push(c); }
        const fresh = selectBest(cands);
        expect(bestOf(s.loc.routes.get(k))).toBe(fresh?.best);
      }
      expect(Object.fromEntries(replay)).toEqual(Object.fromEntries([...s.loc.routes].map(([k, e]) => [k, [bestOf(e)!.attrs.nextHops[0]!]])));
      // the O(1) per-family counts match a walk of the table
      const v6 = [...s.loc.routes.keys()].filter((k) => k.includes(':')).length;
      expect(locRibFamilies(s.loc)).toEqual({ ipv4: s.loc.routes.size - v6, ipv6: v6 });
      // the per-peer counters match the listings
      [...s.peers.values()].forEach((p, i) => { expect(p.in.count).toBe(adjIn[i]!.size); expect(p.in.prefixes).toBe(adjIn[i]!.size); });
      // no route with our own AS from an eBGP peer was accepted
      for (const [i, p] of [...s.peers.values()].entries()) {
        if (p.info.ibgp) continue;
        for (const path of adjIn[i]!.values()) expect(path.attrs.asPath.some((seg) => seg.asns.includes(65000))).toBe(false);
      }
    }), { numRuns: 200 });
    expect(held).toBeGreaterThan(200); // the runs did hold routes
  });
});

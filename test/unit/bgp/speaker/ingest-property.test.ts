import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPeer, createSpeaker, handle, incoming, messageEvent } from '../../../../bgp/speaker/index.js';
import { selectBest } from '../../../../bgp/rib/best-path.js';
import { bestOf, locRibFamilies } from '../../../../bgp/rib/table.js';
import { bestAt, routesOf } from '../../../support/rib-table.js';
import { importAttrs } from '../../../../bgp/rib/import.js';
import type { Path, RouteAttrs } from '../../../../bgp/rib/path.js';
import type { PathAttributes, Prefix, UpdateMessage } from '../../../../bgp/wire/types.js';
import { formatPrefix, Ipv4Prefix } from '../../../../bgp/wire/prefix.js';

const PEERS = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
const ASNS = [65001, 65002, 65000]; // the third is iBGP

const prefix = fc.oneof(
  fc.constantFrom<Prefix>(
    { afi: 1, addr: '10.0.0.0', len: 24 }, { afi: 1, addr: '10.0.1.0', len: 24 }, { afi: 1, addr: '10.1.0.0', len: 16 },
    { afi: 2, addr: 'fd00::', len: 64 },
  ),
  // IPv4 prefixes as the session decodes them (numbers, CodecOptions.ipv4Numbers) or as text: one table key either way;
  // eight /24s, chosen so that in a 16-slot index three share a home slot and two others another (probe runs, deletion inside them)
  fc.tuple(fc.constantFrom(0x0a000000, 0x0a000100, 0x0b2c0300, 0x0a630a00, 0xc0a80100, 0x0a0a0a00, 0xac100000, 0x64400000), fc.boolean())
    .map(([a, text]): Prefix => (text ? { afi: 1, addr: [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, 0].join('.'), len: 24 } : new Ipv4Prefix(a, 24, undefined))),
  fc.constant<Prefix>(new Ipv4Prefix(0x0a010000, 16, undefined)),
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

type Route = { source: string; attrs: RouteAttrs };

/**
 * The model, independent of the table: per peer a plain Map of prefix text → the
 * imported attributes, changed UPDATE by UPDATE as RFC 4271 §9 says (withdrawals,
 * then announcements; no next hop or a loop = withdrawn), and the decision run over
 * it from scratch.
 */
function modelUpdate(rib: Map<string, RouteAttrs>, u: UpdateMessage, ibgp: boolean, peerAs: number): void {
  for (const p of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]) rib.delete(formatPrefix(p));
  const ctx = { localAs: 65000, routerId: '10.0.0.100', clusterId: '10.0.0.100', ibgp, peerAs, as4: true };
  const nh = u.attributes.nextHop;
  for (const [nlri, hops] of [[u.nlri, nh ? [nh] : []], [u.attributes.mpReach?.nlri ?? [], u.attributes.mpReach?.nextHops ?? []]] as const) {
    if (nlri.length === 0) continue;
    const v = hops.length ? importAttrs(u.attributes, [...hops], ctx) : undefined;
    for (const p of nlri) if (v?.ok) rib.set(formatPrefix(p), v.attrs); else rib.delete(formatPrefix(p));
  }
}

describe('ingest property: the incremental pipeline equals a from-scratch decision', () => {
  it('after any UPDATE sequence from three peers, Loc-RIB = decision over per-peer maps kept beside it, and the reported changes replay to it', () => {
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
      const model = PEERS.map(() => new Map<string, RouteAttrs>());
      const replay = new Map<string, string[]>();
      for (const u of updates) {
        const m = toMessage(u.peer, u);
        const r = handle(s, PEERS[u.peer]!, messageEvent(conns[u.peer]!, m), 1);
        modelUpdate(model[u.peer]!, m, ASNS[u.peer] === 65000, ASNS[u.peer]!);
        for (const ch of r.routes) { if (ch.kind === 'remove') replay.delete(ch.prefix); else replay.set(ch.prefix, ch.nextHops); }
      }
      held += s.loc.routes.size;
      // the decision over the model, from scratch
      const expected = new Map<string, Route>();
      const keys = new Set(model.flatMap((m) => [...m.keys()]));
      const peers = [...s.peers.values()];
      for (const k of keys) {
        const cands: Path[] = [];
        model.forEach((m, i) => { const a = m.get(k); if (a) cands.push({ source: peers[i]!.info, attrs: a, stale: false, key: '', refs: 0 }); });
        const best = selectBest(cands)!.best;
        expected.set(k, { source: best.source.address, attrs: best.attrs });
      }
      const got = new Map([...s.loc.routes].map(([k, e]): [string, Route] => [k, { source: bestOf(e).source.address, attrs: bestOf(e).attrs }]));
      expect(got).toEqual(expected);
      // and by lookup, not only by listing (a key the listing shows may be unreachable through the hash index)
      expect(s.loc.routes.size).toBe(expected.size);
      for (const [k, r] of expected) { const b = bestAt(s.loc, k); expect([b?.source.address, b?.attrs]).toEqual([r.source, r.attrs]); }
      expect(Object.fromEntries(replay)).toEqual(Object.fromEntries([...expected].map(([k, r]) => [k, [r.attrs.nextHops[0]!]])));
      // each peer's Adj-RIB-In (a scan of the shared table) and its counters equal its map
      peers.forEach((p, i) => {
        expect(new Map([...routesOf(s.loc, p.in)].map(([k, path]) => [k, path.attrs]))).toEqual(model[i]);
        expect(p.in.count).toBe(model[i]!.size);
        expect(p.in.prefixes).toBe(model[i]!.size);
      });
      // the O(1) per-family counts match the model
      const v6 = [...expected.keys()].filter((k) => k.includes(':')).length;
      expect(locRibFamilies(s.loc)).toEqual({ ipv4: expected.size - v6, ipv6: v6 });
      // no route with our own AS from an eBGP peer was accepted
      peers.forEach((p, i) => {
        if (p.info.ibgp) return;
        for (const a of model[i]!.values()) expect(a.asPath.some((seg) => seg.asns.includes(65000))).toBe(false);
      });
    }), { numRuns: 500 });
    expect(held).toBeGreaterThan(200); // the runs did hold routes
  });
});

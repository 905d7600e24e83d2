import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { originate } from '../../../../bgp/speaker/index.js';
import { Sim } from './sim.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const C = '10.0.0.3';

describe('speaker property: a chain A → B → C converges on what A originates', () => {
  it('after any sequence of origination changes, B and C hold exactly A\'s set with the right next hops', () => {
    const prefix = fc.constantFrom('10.244.0.0/26', '10.244.0.64/26', '10.244.1.0/24', 'fd00:1::/64', 'fd00:2::/64');
    const route = fc.record({ prefix, community: fc.constantFrom(undefined, '65001:1', 'NO_EXPORT') });
    fc.assert(fc.property(fc.array(fc.uniqueArray(route, { selector: (r) => r.prefix, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (steps) => {
      const sim = new Sim();
      sim.node(A, { asn: 65001 });
      sim.node(B, { asn: 65002 });
      sim.node(C, { asn: 65002 });
      const fams = ['ipv4', 'ipv6'] as ('ipv4' | 'ipv6')[];
      sim.peer(A, { address: B, asn: 65002, families: fams, nextHop6: 'fd00::a' });
      sim.peer(B, { address: A, asn: 65001, passive: true, families: fams, nextHop6: 'fd00::b' });
      sim.peer(B, { address: C, asn: 65002, families: fams, nextHop6: 'fd00::b' });
      sim.peer(C, { address: B, asn: 65002, passive: true, families: fams });
      sim.run();
      let last: { prefix: string; community: string | undefined }[] = [];
      for (const s of steps) {
        sim.apply(A, originate(sim.speaker(A), s.map((r) => ({ prefix: r.prefix, ...(r.community ? { communities: [r.community] } : {}) })), sim.now));
        sim.run();
        last = s;
      }
      // A → B is eBGP: NO_EXPORT routes stay with A; B → C is iBGP: next hop unchanged
      const exported = last.filter((r) => r.community !== 'NO_EXPORT');
      const want = Object.fromEntries(exported.map((r) => [r.prefix, [r.prefix.includes(':') ? 'fd00::a' : A]]));
      expect(sim.rib(B)).toEqual(want);
      expect(sim.rib(C)).toEqual(want);
      // the agent's view (route changes replayed) matches the Loc-RIB
      const replay = new Map<string, string[]>();
      for (const ch of sim.routes(C)) { if (ch.kind === 'remove') replay.delete(ch.prefix); else replay.set(ch.prefix, ch.nextHops); }
      expect(Object.fromEntries(replay)).toEqual(sim.rib(C));
    }), { numRuns: 25 });
  });
});

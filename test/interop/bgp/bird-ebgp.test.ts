import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';

const skip = needsRoot || !haveBird();
const why = skip ? ' (skipped: needs root and bird2)' : '';

const birdConf = (net: NetPair, opts: { localAs: number; peerAs: number; passive: boolean; extra?: string }): string => `router id ${net.b.v4};
log "@DIR@/bird.log" all;
protocol device {}
protocol static st4 { ipv4; route 10.99.1.0/24 blackhole; route 10.99.2.0/24 blackhole { bgp_med = 42; bgp_community.add((65002,9)); }; }
protocol static st6 { ipv6; route fd99:1::/64 blackhole; }
protocol bgp m4 {
  local ${net.b.v4} as ${opts.localAs}; neighbor ${net.a.v4} as ${opts.peerAs};
  ${opts.passive ? 'passive on;' : 'connect retry time 1;'} hold time 9;
  ipv4 { import all; export all; };
  ${opts.extra ?? ''}
}
protocol bgp m6 {
  local ${net.b.v6} as ${opts.localAs}; neighbor ${net.a.v6} as ${opts.peerAs};
  ${opts.passive ? 'passive on;' : 'connect retry time 1;'} hold time 9;
  ipv6 { import all; export all; };
}
`;

async function established(b: Bird, m: MargaySpeaker, proto: string): Promise<void> {
  await waitFor(`${proto} Established`, async () => (await birdProtocolState(b, proto)).startsWith('Established'), 30_000)
    .catch(async (err: Error) => { throw new Error(`${err.message}\n${await b.birdc(`show protocols all ${proto}`)}\n${m.output().slice(-4000)}`); });
}

for (const mode of ['active', 'passive'] as const) {
  describe.skipIf(skip)(`eBGP with BIRD, margay ${mode}, IPv4 and IPv6 sessions${why}`, () => {
    let net: NetPair;
    let b: Bird;
    let m: MargaySpeaker;
    beforeAll(async () => {
      net = await netPair(mode === 'active' ? 44 : 45);
      b = await bird(net.b.ns, birdConf(net, { localAs: 65002, peerAs: 4200000001, passive: mode === 'active' }));
      m = await margaySpeaker(net.a.ns, {
        asn: 4200000001, routerId: net.a.v4, listen: { address: '::', port: 179 },
        neighbors: [
          { address: net.b.v4, asn: 65002, holdTime: 9, passive: mode === 'passive' },
          { address: net.b.v6, asn: 65002, holdTime: 9, passive: mode === 'passive', families: ['ipv6'] },
        ],
        originate: [{ prefix: '10.88.0.0/24', communities: ['65001:7', '4200000001:1:2'] }, { prefix: '10.88.9.0/24', communities: ['NO_EXPORT'] }, { prefix: 'fd88:1::/64', communities: ['65001:8'] }],
      });
    });
    afterAll(async () => {
      await m?.stop();
      await b?.stop();
      await net?.destroy();
    });

    it('establishes both sessions', async () => {
      await established(b, m, 'm4');
      await established(b, m, 'm6');
      expect(await m.peerState(net.b.v4)).toBe('Established');
      expect(await m.peerState(net.b.v6)).toBe('Established');
    });

    it('BIRD receives margay\'s IPv4 route with a 4-octet AS path and communities intact', async () => {
      const out = await waitFor('10.88.0.0/24 in BIRD', async () => {
        const o = await b.birdc('show route 10.88.0.0/24 all');
        return o.includes('10.88.0.0/24') ? o : undefined;
      }, 10_000);
      expect(out).toContain('BGP.as_path: 4200000001');
      expect(out).toContain('(65001,7)');
      expect(out).toContain('(4200000001, 1, 2)');
      expect(out).toContain(`BGP.next_hop: ${net.a.v4}`);
    });

    it('does not send a NO_EXPORT route to an eBGP peer (RFC 1997)', async () => {
      expect(await b.birdc('show route 10.88.9.0/24')).not.toContain('10.88.9.0/24');
    });

    it('BIRD receives margay\'s IPv6 route over the IPv6 session', async () => {
      const out = await waitFor('fd88:1::/64 in BIRD', async () => {
        const o = await b.birdc('show route fd88:1::/64 all');
        return o.includes('fd88:1::/64') ? o : undefined;
      }, 10_000);
      expect(out).toContain('BGP.as_path: 4200000001');
      expect(out).toContain('(65001,8)');
      expect(out).toContain(`BGP.next_hop: ${net.a.v6}`);
    });

    it('margay receives BIRD\'s IPv4 and IPv6 routes', async () => {
      await waitFor('prefixes received', async () => {
        const st = await m.status();
        const v4 = st.peers.find((p) => p.address === net.b.v4)?.received;
        const v6 = st.peers.find((p) => p.address === net.b.v6)?.received;
        return v4 === 2 && v6 === 1;
      }, 10_000);
      const st = await m.status();
      expect(st.locRib.families).toMatchObject({ ipv4: 4, ipv6: 2 });
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { gobgp, gobgpConfig, gobgpNeighborState, haveGoBgp, type GoBgp } from '../../support/daemons/gobgp.js';
import { frr, frrNeighborState, haveFrr, type Frr } from '../../support/daemons/frr.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';

// margay with GoBGP and FRR: eBGP with margay active, iBGP with margay passive;
// an IPv4 and an IPv6 session each; routes both ways with attributes checked on
// the receiving side.
const COMM = (a: number, b: number): number => a * 65536 + b;

interface Case {
  kind: 'eBGP' | 'iBGP';
  margayPassive: boolean;
  subnet: number;
  /** both sides connect (collision resolution, FRR's 5/0 tolerated) */
  bothActive?: boolean;
}
const CASES: Case[] = [
  { kind: 'eBGP', margayPassive: false, subnet: 61 },
  { kind: 'iBGP', margayPassive: true, subnet: 62 },
];

function margayConfig(net: NetPair, c: Case, peerAs: number): Record<string, unknown> {
  return {
    asn: 65001, routerId: net.a.v4, listen: { address: '::', port: 179 },
    neighbors: [
      { address: net.b.v4, asn: peerAs, passive: c.margayPassive, holdTime: 9 },
      { address: net.b.v6, asn: peerAs, passive: c.margayPassive, holdTime: 9, families: ['ipv6'] },
    ],
    originate: [{ prefix: '10.88.0.0/24', communities: ['65001:7'] }, { prefix: 'fd88:1::/64', communities: ['65001:8'] }],
  };
}

async function expectMargayGot(m: MargaySpeaker, prefix: string, want: Record<string, unknown>): Promise<void> {
  const r = await waitFor(`${prefix} at margay`, async () => (await m.routes()).find((x) => x.prefix === prefix), 20_000)
    .catch((err: Error) => { throw new Error(`${err.message}\n${m.output().slice(-3000)}`); });
  expect(r.attributes).toMatchObject(want);
}

const skipGo = needsRoot || !haveGoBgp();
for (const c of CASES) {
  describe.skipIf(skipGo)(`${c.kind} with GoBGP, margay ${c.margayPassive ? 'passive' : 'active'}${skipGo ? ' (skipped: needs root and gobgpd)' : ''}`, () => {
    let net: NetPair;
    let g: GoBgp;
    let m: MargaySpeaker;
    const peerAs = c.kind === 'eBGP' ? 65002 : 65001;
    beforeAll(async () => {
      net = await netPair(c.subnet);
      g = await gobgp(net.b.ns, gobgpConfig(peerAs, net.b.v4, [
        { address: net.a.v4, asn: 65001, passive: !c.margayPassive, holdTime: 9 },
        { address: net.a.v6, asn: 65001, passive: !c.margayPassive, holdTime: 9, families: ['ipv6-unicast'] },
      ]));
      await g.cli(['global', 'rib', 'add', '10.97.1.0/24', 'community', '65002:5', 'med', '33', ...(c.kind === 'iBGP' ? ['local-pref', '180'] : []), '-a', 'ipv4']);
      await g.cli(['global', 'rib', 'add', 'fd97:1::/64', 'nexthop', net.b.v6, 'community', '65002:6', '-a', 'ipv6']);
      m = await margaySpeaker(net.a.ns, margayConfig(net, c, peerAs));
    });
    afterAll(async () => {
      await m?.stop();
      await g?.stop();
      await net?.destroy();
    });

    it('establishes IPv4 and IPv6 sessions', async () => {
      for (const addr of [net.a.v4, net.a.v6]) {
        await waitFor(`GoBGP ${addr} established`, async () => (await gobgpNeighborState(g, addr)) === 'established', 30_000)
          .catch((err: Error) => { throw new Error(`${err.message}\n${m.output().slice(-3000)}`); });
      }
      expect(await m.peerState(net.b.v4)).toBe('Established');
      expect(await m.peerState(net.b.v6)).toBe('Established');
    });

    it('margay receives GoBGP\'s routes with their attributes', async () => {
      await expectMargayGot(m, '10.97.1.0/24', { med: 33, communities: [COMM(65002, 5)], nextHops: [net.b.v4], ...(c.kind === 'iBGP' ? { localPref: 180 } : {}) });
      await expectMargayGot(m, 'fd97:1::/64', { communities: [COMM(65002, 6)] });
    });

    it('GoBGP receives margay\'s routes with their attributes', async () => {
      for (const [fam, prefix, comm] of [['ipv4', '10.88.0.0/24', COMM(65001, 7)], ['ipv6', 'fd88:1::/64', COMM(65001, 8)]] as const) {
        const rib = await waitFor(`${prefix} in GoBGP`, async () => {
          const j = JSON.parse(await g.cli(['global', 'rib', '-a', fam, '-j'])) as Record<string, { attrs: { type: number; communities?: number[]; as_paths?: { asns: number[] }[]; value?: number }[] }[]>;
          return j[prefix];
        }, 20_000);
        const attrs = rib[0]?.attrs ?? [];
        expect(attrs.find((a) => a.type === 8)?.communities).toEqual([comm]);
        const asns = attrs.find((a) => a.type === 2)?.as_paths?.flatMap((s) => s.asns) ?? [];
        expect(asns).toEqual(c.kind === 'eBGP' ? [65001] : []);
        if (c.kind === 'iBGP') expect(attrs.find((a) => a.type === 5)?.value).toBe(100);
      }
    });
  });
}

const skipFrr = needsRoot || !haveFrr();
for (const c of [...CASES, { kind: 'eBGP', margayPassive: false, subnet: 63, bothActive: true } as Case]) {
  describe.skipIf(skipFrr)(`${c.kind} with FRR, margay ${c.bothActive ? 'and FRR both active' : c.margayPassive ? 'passive' : 'active'}${skipFrr ? ' (skipped: needs root and frr)' : ''}`, () => {
    let net: NetPair;
    let f: Frr;
    let m: MargaySpeaker;
    const peerAs = c.kind === 'eBGP' ? 65002 : 65001;
    beforeAll(async () => {
      net = await netPair(c.subnet + 10);
      const nb = (addr: string): string => `neighbor ${addr} remote-as 65001
 neighbor ${addr} timers 3 9
 neighbor ${addr} timers connect 1
${c.margayPassive || c.bothActive ? '' : ` neighbor ${addr} passive\n`}`;
      f = await frr(net.b.ns, `frr defaults traditional
route-map SETATTR permit 10
 set community 65002:5
 set metric 33
${c.kind === 'iBGP' ? ' set local-preference 180\n' : ''}!
router bgp ${peerAs}
 bgp router-id ${net.b.v4}
 no bgp ebgp-requires-policy
 no bgp network import-check
 ${nb(net.a.v4)} ${nb(net.a.v6)}
 address-family ipv4 unicast
  network 10.96.1.0/24 route-map SETATTR
  neighbor ${net.a.v4} activate
  neighbor ${net.a.v4} send-community
  no neighbor ${net.a.v6} activate
 exit-address-family
 address-family ipv6 unicast
  network fd96:1::/64 route-map SETATTR
  neighbor ${net.a.v6} activate
  neighbor ${net.a.v6} send-community
 exit-address-family
`);
      m = await margaySpeaker(net.a.ns, margayConfig(net, c, peerAs));
    });
    afterAll(async () => {
      await m?.stop();
      await f?.stop();
      await net?.destroy();
    });

    it('establishes IPv4 and IPv6 sessions', async () => {
      for (const addr of [net.a.v4, net.a.v6]) {
        await waitFor(`FRR ${addr} Established`, async () => (await frrNeighborState(f, addr)) === 'Established', 40_000)
          .catch((err: Error) => { throw new Error(`${err.message}\n${f.output().slice(-2000)}\n${m.output().slice(-3000)}`); });
      }
      expect(await m.peerState(net.b.v4)).toBe('Established');
      expect(await m.peerState(net.b.v6)).toBe('Established');
    });

    it('margay receives FRR\'s routes with their attributes', async () => {
      await expectMargayGot(m, '10.96.1.0/24', { med: 33, communities: [COMM(65002, 5)], ...(c.kind === 'iBGP' ? { localPref: 180 } : {}) });
      await expectMargayGot(m, 'fd96:1::/64', { med: 33, communities: [COMM(65002, 5)] });
    });

    it('FRR receives margay\'s routes with their attributes', async () => {
      for (const [fam, prefix, comm] of [['ipv4', '10.88.0.0/24', '65001:7'], ['ipv6', 'fd88:1::/64', '65001:8']] as const) {
        const j = await waitFor(`${prefix} in FRR`, async () => {
          const o = JSON.parse(await f.vtysh(`show bgp ${fam} unicast ${prefix} json`)) as { paths?: { aspath?: { string: string }; community?: { string: string }; locPrf?: number }[] };
          return o.paths && o.paths.length > 0 ? o : undefined;
        }, 20_000);
        const p = j.paths?.[0];
        expect(p?.community?.string).toBe(comm);
        expect(p?.aspath?.string ?? '').toBe(c.kind === 'eBGP' ? '65001' : 'Local'); // FRR prints an empty AS path as "Local"
        if (c.kind === 'iBGP') expect(p?.locPrf).toBe(100);
      }
    });
  });
}

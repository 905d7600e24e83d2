import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, birdProtocolState, birdRouteCount, haveBird, type Bird } from '../../support/daemons/bird.js';
import { gobgp, gobgpConfig, gobgpNeighborState, haveGoBgp, type GoBgp } from '../../support/daemons/gobgp.js';
import { frr, frrNeighborState, haveFrr, type Frr } from '../../support/daemons/frr.js';
import { exabgp, exabgpConfig, haveExaBgp, type ExaBgp } from '../../support/daemons/exabgp.js';
import { waitFor } from '../../support/daemons/common.js';

// The harness itself: each daemon starts in its namespace, peers with BIRD, and
// stops by PID. If these fail, every interop test would too.
const skip = needsRoot || !haveBird() || !haveGoBgp() || !haveFrr() || !haveExaBgp();

const birdConf = (local: string, peer: string, peerAs: number): string => `router id ${local};
protocol device {}
protocol bgp peer1 { local ${local} as 65002; neighbor ${peer} as ${peerAs}; connect retry time 1; ipv4 { import all; export none; }; }
`;

describe.skipIf(skip)(`daemon harness${skip ? ' (skipped: needs root, bird2, gobgpd, frr, exabgp)' : ''}`, () => {
  let net: NetPair;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    net = await netPair(42);
  });
  afterAll(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await net?.destroy();
  });

  it('GoBGP peers with BIRD and hands it a route', async () => {
    const b: Bird = await bird(net.b.ns, birdConf(net.b.v4, net.a.v4, 65001));
    stops.push(() => b.stop());
    const g: GoBgp = await gobgp(net.a.ns, gobgpConfig(65001, net.a.v4, [{ address: net.b.v4, asn: 65002 }]));
    stops.push(() => g.stop());
    await waitFor('GoBGP ↔ BIRD Established', async () => (await birdProtocolState(b, 'peer1')).startsWith('Established'), 30_000);
    expect(await gobgpNeighborState(g, net.b.v4)).toBe('established');
    await g.cli(['global', 'rib', 'add', '10.200.0.0/24', '-a', 'ipv4']);
    await waitFor('route in BIRD', async () => (await birdRouteCount(b)) === 1, 10_000);
    await g.stop();
    await b.stop();
  });

  it('FRR peers with BIRD', async () => {
    const b = await bird(net.b.ns, birdConf(net.b.v4, net.a.v4, 65003));
    stops.push(() => b.stop());
    const f: Frr = await frr(net.a.ns, `frr defaults traditional
router bgp 65003
 bgp router-id ${net.a.v4}
 no bgp ebgp-requires-policy
 neighbor ${net.b.v4} remote-as 65002
 neighbor ${net.b.v4} timers connect 1
 address-family ipv4 unicast
  network 10.201.0.0/24
 exit-address-family
`);
    stops.push(() => f.stop());
    await waitFor('FRR ↔ BIRD Established', async () => (await birdProtocolState(b, 'peer1')).startsWith('Established'), 40_000);
    expect(await frrNeighborState(f, net.b.v4)).toBe('Established');
    await f.stop();
    await b.stop();
  });

  it('ExaBGP (2-octet) peers with BIRD and announces a route', async () => {
    const b = await bird(net.b.ns, birdConf(net.b.v4, net.a.v4, 65004));
    stops.push(() => b.stop());
    const e: ExaBgp = await exabgp(net.a.ns, (cmds) => exabgpConfig(cmds, { address: net.b.v4, localAddress: net.a.v4, routerId: net.a.v4, localAs: 65004, peerAs: 65002, asn4: false }));
    stops.push(() => e.stop());
    await waitFor('ExaBGP ↔ BIRD Established', async () => (await birdProtocolState(b, 'peer1')).startsWith('Established'), 40_000);
    await e.announce('announce route 10.202.0.0/24 next-hop self med 7');
    await waitFor('route in BIRD', async () => (await birdRouteCount(b)) === 1, 15_000);
    await e.stop();
    await b.stop();
  });
});

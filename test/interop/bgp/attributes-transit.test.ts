import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netStar, type NetStar } from '../../support/daemons/netstar.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { exabgp, exabgpConfig, haveExaBgp, type ExaBgp } from '../../support/daemons/exabgp.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';

const skip = needsRoot || !haveBird() || !haveExaBgp();

// Attributes through margay, eBGP to eBGP: ExaBGP announces a route with an AS_SET,
// MED, communities, large and extended communities and an unknown optional
// transitive attribute; BIRD must see all of them (MED is not passed to another AS).
describe.skipIf(skip)(`attributes in transit ExaBGP → margay → BIRD${skip ? ' (skipped: needs root, bird2, exabgp)' : ''}`, () => {
  let star: NetStar;
  let e: ExaBgp;
  let b: Bird;
  let m: MargaySpeaker;
  beforeAll(async () => {
    star = await netStar([64, 65]);
    const [le, lb] = star.leaves as [typeof star.leaves[0], typeof star.leaves[0]];
    m = await margaySpeaker(star.centre, {
      asn: 65001, routerId: le.centreV4, listen: { address: '0.0.0.0', port: 179 },
      neighbors: [{ address: le.v4, asn: 65005, passive: true }, { address: lb.v4, asn: 65002, passive: true }],
    });
    b = await bird(lb.ns, `router id ${lb.v4};
protocol device {}
protocol bgp m1 { local ${lb.v4} as 65002; neighbor ${lb.centreV4} as 65001; connect retry time 1; ipv4 { import all; export none; }; }
`);
    e = await exabgp(le.ns, (cmds) => exabgpConfig(cmds, { address: le.centreV4, localAddress: le.v4, routerId: le.v4, localAs: 65005, peerAs: 65001 }));
  });
  afterAll(async () => {
    await e?.stop();
    await b?.stop();
    await m?.stop();
    await star?.destroy();
  });

  it('passes AS_SET, communities, large and extended communities and unknown transitive attributes on', async () => {
    await waitFor('BIRD Established', async () => (await birdProtocolState(b, 'm1')).startsWith('Established'), 30_000);
    await waitFor('ExaBGP Established', async () => (await m.peerState(star.leaves[0]?.v4 as string)) === 'Established', 30_000);
    await e.announce('announce route 10.94.0.0/24 next-hop self med 7 as-path [ 65005 ( 65010 65011 ) ] community [ 65005:1 ] large-community [ 65005:1:2 ] extended-community [ target:65005:9 ] attribute [ 0xf0 0xc0 0xdeadbeef ]');
    const out = await waitFor('route in BIRD', async () => {
      const o = await b.birdc('show route 10.94.0.0/24 all');
      return o.includes('10.94.0.0/24') ? o : undefined;
    }, 15_000).catch(async (err: Error) => { throw new Error(`${err.message}\n${JSON.stringify(await m.routes())}\n${e.output().slice(-2000)}`); });
    expect(out).toMatch(/BGP\.as_path: 65001 65005 \{65010 65011\}/);
    expect(out).toContain('(65005,1)');
    expect(out).toContain('(65005, 1, 2)');
    expect(out).toContain('(rt, 65005, 9)');
    expect(out).not.toContain('BGP.med');
    expect(out).toMatch(/BGP\.f0 \[t\]: de ad be ef/i); // BIRD prints unknown attributes by code, [t] = transitive
  });

  it('propagates the withdrawal', async () => {
    await e.announce('withdraw route 10.94.0.0/24 next-hop self');
    await waitFor('withdrawn from BIRD', async () => !(await b.birdc('show route 10.94.0.0/24')).includes('10.94.0.0/24'), 15_000);
    expect((await m.status()).locRib.total).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netStar, type NetStar } from '../../support/daemons/netstar.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';

const skip = needsRoot || !haveBird();
const why = skip ? ' (skipped: needs root and bird2)' : '';

/** A BIRD iBGP speaker in AS 65001 peering with `peers` (its route reflector or its clients). */
function birdConf(routerId: string, local: string, peers: { name: string; address: string; rrClient?: boolean }[], routes: string[]): string {
  return `router id ${routerId};
protocol device {}
protocol direct { ipv4; }
protocol kernel { ipv4 { import all; export none; }; learn; }
protocol static st4 { ipv4; ${routes.map((r) => `route ${r} blackhole;`).join(' ')} }
${peers.map((p) => `protocol bgp ${p.name} { local ${local} as 65001; neighbor ${p.address} as 65001; connect retry time 1; ${p.rrClient ? 'rr client; rr cluster id 10.255.0.1;' : ''}
  ipv4 { import all; export filter { if source = RTS_BGP || source = RTS_STATIC then accept; reject; }; }; }`).join('\n')}
`;
}

describe.skipIf(skip)(`margay as route reflector for two BIRD clients${why}`, () => {
  let star: NetStar;
  const birds: Bird[] = [];
  let m: MargaySpeaker;
  beforeAll(async () => {
    star = await netStar([51, 52]);
    const [l0, l1] = star.leaves as [typeof star.leaves[0], typeof star.leaves[0]];
    m = await margaySpeaker(star.centre, {
      asn: 65001, routerId: '10.51.0.1', clusterId: '10.255.0.9', listen: { address: '0.0.0.0', port: 179 },
      neighbors: [
        { address: l0.v4, asn: 65001, routeReflectorClient: true, passive: true },
        { address: l1.v4, asn: 65001, routeReflectorClient: true, passive: true },
      ],
    });
    birds.push(await bird(l0.ns, birdConf(l0.v4, l0.v4, [{ name: 'reflector', address: l0.centreV4 }], ['10.77.1.0/24'])));
    birds.push(await bird(l1.ns, birdConf(l1.v4, l1.v4, [{ name: 'reflector', address: l1.centreV4 }], ['10.77.2.0/24'])));
  });
  afterAll(async () => {
    await m?.stop();
    for (const b of birds) await b.stop();
    await star?.destroy();
  });

  it('reflects each client\'s route to the other with ORIGINATOR_ID and CLUSTER_LIST', async () => {
    for (const b of birds) await waitFor('client Established', async () => (await birdProtocolState(b, 'reflector')).startsWith('Established'), 30_000);
    const [b0, b1] = birds as [Bird, Bird];
    const out = await waitFor('10.77.1.0/24 reflected to client 2', async () => {
      const o = await b1.birdc('show route 10.77.1.0/24 all');
      return o.includes('10.77.1.0/24') ? o : undefined;
    }, 15_000).catch(async (err: Error) => { throw new Error(`${err.message}\n${JSON.stringify(await m.status())}\n${m.output().slice(-3000)}`); });
    expect(out).toContain(`BGP.originator_id: ${star.leaves[0]?.v4}`);
    expect(out).toContain('BGP.cluster_list: 10.255.0.9');
    const back = await waitFor('10.77.2.0/24 reflected to client 1', async () => {
      const o = await b0.birdc('show route 10.77.2.0/24 all');
      return o.includes('10.77.2.0/24') ? o : undefined;
    }, 15_000);
    expect(back).toContain(`BGP.originator_id: ${star.leaves[1]?.v4}`);
  });
});

describe.skipIf(skip)(`BIRD as route reflector for two margay clients${why}`, () => {
  let star: NetStar;
  let rr: Bird;
  const ms: MargaySpeaker[] = [];
  beforeAll(async () => {
    star = await netStar([53, 54]);
    const [l0, l1] = star.leaves as [typeof star.leaves[0], typeof star.leaves[0]];
    rr = await bird(star.centre, `router id 10.53.0.1;
protocol device {}
protocol bgp c0 { local ${l0.centreV4} as 65001; neighbor ${l0.v4} as 65001; rr client; rr cluster id 10.255.0.1; passive on; ipv4 { import all; export all; }; }
protocol bgp c1 { local ${l1.centreV4} as 65001; neighbor ${l1.v4} as 65001; rr client; rr cluster id 10.255.0.1; passive on; ipv4 { import all; export all; }; }
`);
    for (const [i, l] of [l0, l1].entries()) {
      ms.push(await margaySpeaker(l.ns, {
        asn: 65001, routerId: l.v4, listen: false,
        neighbors: [{ address: l.centreV4, asn: 65001 }],
        originate: [{ prefix: `10.78.${i}.0/24` }],
      }));
    }
  });
  afterAll(async () => {
    for (const m of ms) await m.stop();
    await rr?.stop();
    await star?.destroy();
  });

  it('each margay client learns the other\'s route with ORIGINATOR_ID and CLUSTER_LIST', async () => {
    const [m0, m1] = ms as [MargaySpeaker, MargaySpeaker];
    const r = await waitFor('10.78.0.0/24 at client 2', async () => (await m1.routes()).find((x) => x.prefix === '10.78.0.0/24'), 30_000)
      .catch(async (err: Error) => { throw new Error(`${err.message}\n${await rr.birdc('show protocols all')}\n${m1.output().slice(-3000)}`); });
    expect(r.attributes).toMatchObject({ originatorId: star.leaves[0]?.v4, clusterList: ['10.255.0.1'], nextHops: [star.leaves[0]?.v4] });
    const r2 = await waitFor('10.78.1.0/24 at client 1', async () => (await m0.routes()).find((x) => x.prefix === '10.78.1.0/24'), 15_000);
    expect(r2.attributes).toMatchObject({ originatorId: star.leaves[1]?.v4 });
    // a client never takes back its own route from the reflector (ORIGINATOR_ID loop check)
    expect((await m0.routes()).find((x) => x.prefix === '10.78.0.0/24')).toBeUndefined();
  });
});

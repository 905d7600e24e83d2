import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';

const skip = needsRoot || !haveBird();

// eBGP with BIRD, margay active: the session establishes, BIRD receives margay's
// originated IPv4 prefix with its community, margay receives BIRD's static routes.
describe.skipIf(skip)(`eBGP with BIRD${skip ? ' (skipped: needs root and bird2)' : ''}`, () => {
  let net: NetPair;
  let b: Bird;
  let m: MargaySpeaker;
  beforeAll(async () => {
    net = await netPair(43);
    b = await bird(net.b.ns, `router id ${net.b.v4};
${'log "@DIR@/bird.log" all;'}
protocol device {}
protocol static st4 { ipv4; route 10.99.1.0/24 blackhole; route 10.99.2.0/24 blackhole; }
protocol bgp m1 { local ${net.b.v4} as 65002; neighbor ${net.a.v4} as 65001; passive on; ipv4 { import all; export all; }; }
`);
    m = await margaySpeaker(net.a.ns, {
      asn: 65001, routerId: net.a.v4, listen: { address: net.a.v4, port: 179 },
      neighbors: [{ address: net.b.v4, asn: 65002, holdTime: 9 }],
      originate: [{ prefix: '10.88.0.0/24', communities: ['65001:7'] }],
    });
  });
  afterAll(async () => {
    await m?.stop();
    await b?.stop();
    await net?.destroy();
  });

  it('establishes and exchanges routes', async () => {
    await waitFor('Established', async () => (await birdProtocolState(b, 'm1')).startsWith('Established'), 30_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${m.output()}`); });
    expect(await m.peerState(net.b.v4)).toBe('Established');
    const route = await waitFor('10.88.0.0/24 in BIRD', async () => {
      const out = await b.birdc('show route 10.88.0.0/24 all');
      return out.includes('10.88.0.0/24') ? out : undefined;
    }, 10_000);
    expect(route).toContain('BGP.as_path: 65001');
    expect(route).toContain('(65001,7)');
    expect(route).toContain(`BGP.next_hop: ${net.a.v4}`);
    await waitFor('2 prefixes received', async () => (await m.status()).peers[0]?.received === 2, 10_000);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { sleep, waitFor } from '../../support/daemons/common.js';

const skip = needsRoot || !haveBird();
const why = skip ? ' (skipped: needs root and bird2)' : '';

// RFC 4724 with BIRD as the receiving (helper) speaker: margay dies without a
// NOTIFICATION (SIGKILL); BIRD keeps margay's routes, marked stale; the restarted
// margay re-advertises and sends End-of-RIB, and BIRD clears the stale mark.
// BIRD 2.0 shows no per-route stale flag, so the proof is behavioural: the
// restarted margay no longer originates 10.66.1.0/24, and only its End-of-RIB
// (well before BIRD's 60 s restart timer) makes BIRD flush that stale route.
describe.skipIf(skip)(`graceful restart with BIRD${why}`, () => {
  let net: NetPair;
  let b: Bird;
  let m: MargaySpeaker | undefined;
  const config = (originate = ['10.66.0.0/24', '10.66.1.0/24']): Record<string, unknown> => ({
    asn: 65001, routerId: net.a.v4, listen: { address: net.a.v4, port: 179 }, restartTime: 60,
    neighbors: [{ address: net.b.v4, asn: 65002, gracefulRestart: true, holdTime: 30 }],
    originate: originate.map((prefix) => ({ prefix })),
  });
  beforeAll(async () => {
    net = await netPair(48);
    b = await bird(net.b.ns, `router id ${net.b.v4};
protocol device {}
protocol bgp m1 { local ${net.b.v4} as 65002; neighbor ${net.a.v4} as 65001; passive on; graceful restart on; ipv4 { import all; export none; }; }
`);
    m = await margaySpeaker(net.a.ns, config());
  });
  afterAll(async () => {
    await m?.stop();
    await b?.stop();
    await net?.destroy();
  });

  it('BIRD keeps the routes as stale while margay is down, then End-of-RIB clears them', async () => {
    await waitFor('Established', async () => (await birdProtocolState(b, 'm1')).startsWith('Established'), 30_000);
    await waitFor('routes in BIRD', async () => (await b.birdc('show route protocol m1')).includes('10.66.1.0/24'), 10_000);
    expect(await b.birdc('show protocols all m1')).toMatch(/Neighbor capabilities[\s\S]*Graceful restart/);

    m?.signal('SIGKILL');
    await m?.stop();
    m = undefined;
    const during = await waitFor('BIRD in graceful restart', async () => {
      const o = await b.birdc('show protocols all m1');
      return /restart/i.test(o.split('Local capabilities')[0] ?? '') ? o : undefined;
    }, 15_000);
    expect(during).not.toMatch(/BGP state:\s+Established/);
    expect(during).toContain('Neighbor graceful restart active');
    await sleep(2000); // routes stay while the peer is away
    const stale = await b.birdc('show route protocol m1');
    expect(stale).toContain('10.66.0.0/24');
    expect(stale).toContain('10.66.1.0/24');

    const restartedAt = Date.now();
    m = await margaySpeaker(net.a.ns, config(['10.66.0.0/24']));
    await waitFor('Established again', async () => (await birdProtocolState(b, 'm1')).startsWith('Established'), 30_000);
    await waitFor('stale 10.66.1.0/24 flushed by End-of-RIB', async () => !(await b.birdc('show route protocol m1')).includes('10.66.1.0/24'), 15_000);
    expect(Date.now() - restartedAt).toBeLessThan(30_000);
    expect(await b.birdc('show route protocol m1')).toContain('10.66.0.0/24');
    expect(await b.birdc('show protocols all m1')).not.toContain('Neighbor graceful restart active');
  });
});

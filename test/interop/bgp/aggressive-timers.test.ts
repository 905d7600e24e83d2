import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netStar, type NetStar } from '../../support/daemons/netstar.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { frr, frrNeighborState, haveFrr, type Frr } from '../../support/daemons/frr.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { sleep, waitFor } from '../../support/daemons/common.js';

const N = Number(process.env.BGP_TIMER_LOAD_PREFIXES ?? 30_000);
const skip = needsRoot || !haveBird() || !haveFrr();

// Hold time 3 s (keepalive 1 s) on both sessions while margay takes N prefixes from
// BIRD and passes them on to FRR: neither session may drop during or after the load.
describe.skipIf(skip)(`3 s hold time under load (${N} prefixes BIRD → margay → FRR)${skip ? ' (skipped: needs root, bird2, frr)' : ''}`, () => {
  let star: NetStar;
  let b: Bird;
  let f: Frr;
  let m: MargaySpeaker;
  beforeAll(async () => {
    star = await netStar([56, 57]);
    const [lb, lf] = star.leaves as [typeof star.leaves[0], typeof star.leaves[0]];
    m = await margaySpeaker(star.centre, {
      asn: 65001, routerId: lb.centreV4, listen: { address: '0.0.0.0', port: 179 },
      neighbors: [{ address: lb.v4, asn: 65002, holdTime: 3, passive: true }, { address: lf.v4, asn: 65003, holdTime: 3, passive: true }],
    }, { logLevel: 'warn' });
    const routes = Array.from({ length: N }, (_, i) => `route ${12 + (i >>> 16)}.${(i >>> 8) & 0xff}.${i & 0xff}.0/24 blackhole;`).join('\n');
    b = await bird(lb.ns, `router id ${lb.v4};
protocol device {}
protocol static st4 { ipv4; ${routes} }
protocol bgp m1 { local ${lb.v4} as 65002; neighbor ${lb.centreV4} as 65001; hold time 3; keepalive time 1; connect retry time 1; ipv4 { import all; export all; }; }
`);
    f = await frr(lf.ns, `frr defaults traditional
router bgp 65003
 bgp router-id ${lf.v4}
 no bgp ebgp-requires-policy
 neighbor ${lf.centreV4} remote-as 65001
 neighbor ${lf.centreV4} timers 1 3
 neighbor ${lf.centreV4} timers connect 1
`);
  });
  afterAll(async () => {
    await m?.stop();
    await f?.stop();
    await b?.stop();
    await star?.destroy();
  });

  it('keeps both sessions Established through the load and after', async () => {
    const [lb, lf] = star.leaves as [typeof star.leaves[0], typeof star.leaves[0]];
    await waitFor('BIRD Established', async () => (await birdProtocolState(b, 'm1')).startsWith('Established'), 30_000);
    await waitFor('FRR Established', async () => (await frrNeighborState(f, lf.centreV4)) === 'Established', 40_000);
    await waitFor(`${N} prefixes at FRR`, async () => {
      const j = JSON.parse(await f.vtysh('show bgp ipv4 unicast summary json')) as { peers?: Record<string, { pfxRcd?: number }> };
      return (j.peers?.[lf.centreV4]?.pfxRcd ?? 0) >= N;
    }, 60_000);
    const st0 = await m.status();
    await sleep(10_000);
    const st1 = await m.status();
    for (const addr of [lb.v4, lf.v4]) {
      const p0 = st0.peers.find((p) => p.address === addr);
      const p1 = st1.peers.find((p) => p.address === addr);
      expect(p1?.state).toBe('Established');
      expect(p1?.since).toBe(p0?.since);
      expect(p1?.lastError).toBeUndefined(); // never went down since the start
    }
    expect(st1.peers.find((p) => p.address === lf.v4)?.advertised).toBe(N);
    expect(await birdProtocolState(b, 'm1')).toMatch(/^Established/);
  });
});

/**
 * Egress: N originated IPv4 prefixes announced to BIRD over one eBGP session —
 * by margay (from its config's `originate`), then by GoBGP (its RIB loaded from
 * MRT) — in the same run and topology. Seconds from Established (BIRD's stamp)
 * until BIRD holds all N from that protocol; ratio margay / GoBGP.
 */
import type { Emit } from '../run.js';
import { netStar } from '../../support/daemons/netstar.js';
import { gobgp, gobgpConfig } from '../../support/daemons/gobgp.js';
import { bird } from '../../support/daemons/bird.js';
import { margaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';
import { feedPrefix } from '../../support/daemons/mrt.js';
import { birdProtocolRoutes, birdSince, loadGoBgp, POLL_MS, prefixCounts, round, skipReason, whenCount } from './feeder.js';

export async function run(emit: Emit): Promise<void> {
  const why = skipReason();
  if (why) {
    process.stderr.write(`bench bgp/egress skipped: ${why}\n`);
    return;
  }
  await once(emit, prefixCounts()[0] as number);
}

async function once(emit: Emit, n: number): Promise<void> {
  const star = await netStar([83, 84]);
  const [lm, lg] = star.leaves as [typeof star.leaves[0], typeof star.leaves[0]];
  const stops: (() => Promise<void>)[] = [];
  try {
    const b = await bird(star.centre, `router id ${lm.centreV4};
protocol device {}
protocol bgp fromm { local ${lm.centreV4} as 65200; neighbor ${lm.v4} as 65001; passive on; ipv4 { import all; export none; }; }
protocol bgp fromg { local ${lg.centreV4} as 65200; neighbor ${lg.v4} as 65002; passive on; ipv4 { import all; export none; }; }
`);
    stops.push(() => b.stop());
    // GoBGP first loads its RIB with no neighbor configured; the session comes later
    const g = await gobgp(lg.ns, gobgpConfig(65002, lg.v4, []));
    stops.push(() => g.stop());
    const total = await loadGoBgp(g, n, '0.0.0.0', 65002);
    const timeout = 60_000 + total * 0.2;

    const m = await margaySpeaker(lm.ns, {
      asn: 65001, routerId: lm.v4, listen: false,
      neighbors: [{ address: lm.centreV4, asn: 65200 }],
      // 100 attribute sets, as in GoBGP's feed (there MED + community vary; here the community)
      originate: Array.from({ length: total }, (_, i) => ({ prefix: feedPrefix(i), communities: [`65001:${i % 100}`] })),
    }, { logLevel: 'warn' });
    stops.push(() => m.stop());
    const mDone = await whenCount('BIRD from margay', () => birdProtocolRoutes(b, 'fromm'), total, timeout);
    const mEst = await waitFor('margay session since', () => birdSince(b, 'fromm'), 5000);
    await m.stop();
    stops.splice(stops.length - 1, 1);

    await g.cli(['neighbor', 'add', lg.centreV4, 'as', '65200']);
    const gDone = await whenCount('BIRD from GoBGP', () => birdProtocolRoutes(b, 'fromg'), total, timeout);
    const gEst = await waitFor('GoBGP session since', () => birdSince(b, 'fromg'), 5000);

    const margayS = (mDone - mEst) / 1000;
    const gobgpS = (gDone - gEst) / 1000;
    emit({
      bench: 'bgp/egress', prefixes: total, receiver: 'bird', poll_ms: POLL_MS,
      margay_s: round(margayS), gobgp_s: round(gobgpS), ratio_margay_vs_gobgp: round(margayS / gobgpS, 2),
    });
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await star.destroy();
  }
}

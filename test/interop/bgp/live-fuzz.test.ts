import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ip, netnsExec } from '../../../agent/lab/netns.js';
import { needsRoot } from '../../support/root.js';
import { REPO_ROOT } from '../../support/cli.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';

const FUZZER = join(REPO_ROOT, 'dist', 'test', 'interop', 'bgp', 'fuzz-peer.js');
const COUNT = Number(process.env.BGP_LIVE_FUZZ_COUNT ?? 100);
const skip = needsRoot || !haveBird();

// Mutated UPDATEs over a real TCP session: every one must end in the NOTIFICATION
// the codec predicts (RFC 4271 §6 / RFC 7606 session reset) or leave the session up
// (treat-as-withdraw, attribute discard, valid); margay must survive, and its
// session with BIRD must not notice.
describe.skipIf(skip)(`live-session fuzz (${COUNT} mutated UPDATEs)${skip ? ' (skipped: needs root and bird2)' : ''}`, () => {
  let net: NetPair;
  let b: Bird;
  let m: MargaySpeaker;
  beforeAll(async () => {
    net = await netPair(50);
    await ip(net.b.ns, 'addr', 'add', '10.50.0.3/24', 'dev', net.b.ifname);
    b = await bird(net.b.ns, `router id 10.50.0.3;
protocol device {}
protocol static st4 { ipv4; route 10.99.1.0/24 blackhole; }
protocol bgp m1 { local 10.50.0.3 as 65003; neighbor ${net.a.v4} as 65001; connect retry time 1; hold time 9; ipv4 { import all; export all; }; }
`);
    m = await margaySpeaker(net.a.ns, {
      asn: 65001, routerId: net.a.v4, listen: { address: net.a.v4, port: 179 },
      neighbors: [
        { address: net.b.v4, asn: 65001, passive: true, holdTime: 90 },
        { address: '10.50.0.3', asn: 65003, passive: true, holdTime: 9 },
      ],
      originate: [{ prefix: '10.88.0.0/24' }],
    }, { logLevel: 'error' });
  });
  afterAll(async () => {
    await m?.stop();
    await b?.stop();
    await net?.destroy();
  });

  it('answers each mutant as the RFCs say and survives', async () => {
    await waitFor('BIRD Established', async () => (await birdProtocolState(b, 'm1')).startsWith('Established'), 30_000);
    const birdSince = (await m.status()).peers.find((p) => p.address === '10.50.0.3')?.since;
    const { stdout } = await netnsExec(net.b.ns, [process.execPath, FUZZER, net.a.v4, '65001', '65001', String(COUNT), '7'], { timeoutMs: 170_000 });
    const summary = JSON.parse(stdout.trim().split('\n').pop() as string) as { sent: number; resets: number; kept: number; byOutcome: Record<string, number>; mismatches: unknown[] };
    process.stderr.write(`live fuzz: ${JSON.stringify({ ...summary, mismatches: summary.mismatches.length })}\n`);
    expect(summary.mismatches.slice(0, 5)).toEqual([]);
    expect(summary.sent).toBe(COUNT);
    expect(summary.resets).toBeGreaterThan(0); // the mutants did reach the reset paths
    expect(summary.kept).toBeGreaterThan(0); // ... and the keep-the-session paths
    const st = await m.status(); // the process is alive and answering
    const birdPeer = st.peers.find((p) => p.address === '10.50.0.3');
    expect(birdPeer?.state).toBe('Established');
    expect(birdPeer?.since).toBe(birdSince);
    expect(await birdProtocolState(b, 'm1')).toMatch(/^Established/);
  });
});

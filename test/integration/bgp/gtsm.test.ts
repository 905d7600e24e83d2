import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip } from '../../../agent/lab/netns.js';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { sleep, waitFor } from '../../support/daemons/common.js';

const skip = needsRoot || !haveBird();

// GTSM (RFC 5082) against BIRD's `ttl security on`: both sides send with TTL 255 and
// drop anything below 255. Four sessions on four address pairs:
//   gtsm_a: margay active + GTSM   ↔ BIRD passive + GTSM   → Established
//   gtsm_p: margay passive + GTSM  ↔ BIRD active + GTSM    → Established
//   miss_a: margay active, no GTSM ↔ BIRD passive + GTSM   → BIRD drops margay's TTL-64 SYN
//   miss_p: margay passive + GTSM  ↔ BIRD active, no GTSM  → margay drops BIRD's TTL-64 segments
// The last one runs against a second margay whose peers all use GTSM, so that its
// listener checks SYNs too; with mixed peers the minimum TTL is set per accepted
// connection, and a peer's first segments can race ahead of it (see DESIGN.md).
const PAIRS = [
  { name: 'gtsm_a', m: '10.58.0.1', b: '10.58.0.2', marg: { ttlSecurity: 1 }, bird: 'passive on; ttl security on;' },
  { name: 'gtsm_p', m: '10.58.0.11', b: '10.58.0.3', marg: { ttlSecurity: 1, passive: true }, bird: 'ttl security on; connect retry time 1;' },
  { name: 'miss_a', m: '10.58.0.12', b: '10.58.0.4', marg: {}, bird: 'passive on; ttl security on;' },
  { name: 'miss_p', m: '10.58.0.13', b: '10.58.0.5', marg: { ttlSecurity: 1, passive: true }, bird: 'connect retry time 1;' },
];

describe.skipIf(skip)(`GTSM against BIRD${skip ? ' (skipped: needs root and bird2)' : ''}`, () => {
  let net: NetPair;
  let b: Bird;
  let m: MargaySpeaker;
  beforeAll(async () => {
    net = await netPair(58);
    for (const p of PAIRS.slice(1)) {
      await ip(net.a.ns, 'addr', 'add', `${p.m}/24`, 'dev', 'eth0');
      await ip(net.b.ns, 'addr', 'add', `${p.b}/24`, 'dev', 'eth0');
    }
    b = await bird(net.b.ns, `router id ${net.b.v4};
protocol device {}
${PAIRS.map((p) => `protocol bgp ${p.name} { local ${p.b} as 65002; neighbor ${p.m} as 65001; ${p.bird} ipv4 { import all; export none; }; }`).join('\n')}
`);
    m = await margaySpeaker(net.a.ns, {
      asn: 65001, routerId: net.a.v4, listen: { address: '0.0.0.0', port: 179 },
      neighbors: PAIRS.map((p) => ({ address: p.b, asn: 65002, localAddress: p.m, ...p.marg })),
    });
  });
  afterAll(async () => {
    await m?.stop();
    await b?.stop();
    await net?.destroy();
  });

  it('establishes when both sides use GTSM, margay active and passive', async () => {
    for (const name of ['gtsm_a', 'gtsm_p']) {
      await waitFor(`${name} Established`, async () => (await birdProtocolState(b, name)).startsWith('Established'), 30_000)
        .catch(async (err: Error) => { throw new Error(`${err.message}\n${await b.birdc(`show protocols all ${name}`)}\n${m.output().slice(-3000)}`); });
    }
  });

  it('does not establish when margay sends TTL 64 to a GTSM peer', async () => {
    await sleep(4000);
    expect(await birdProtocolState(b, 'miss_a')).not.toMatch(/Established/);
    expect(await m.peerState('10.58.0.4')).not.toBe('Established');
  });

  it('drops a peer that does not send TTL 255 when every peer uses GTSM', async () => {
    await m.stop();
    m = await margaySpeaker(net.a.ns, {
      asn: 65001, routerId: net.a.v4, listen: { address: '0.0.0.0', port: 179 },
      neighbors: [{ address: '10.58.0.5', asn: 65002, localAddress: '10.58.0.13', ttlSecurity: 1, passive: true }],
    });
    await b.birdc('restart miss_p'); // forget whatever it had with the first speaker
    await sleep(5000);
    expect(await birdProtocolState(b, 'miss_p')).not.toMatch(/Established/);
    expect(await m.peerState('10.58.0.5')).toBe('Active');
  });
});

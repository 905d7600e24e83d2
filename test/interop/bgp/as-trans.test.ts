import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { exabgp, exabgpConfig, haveExaBgp, type ExaBgp } from '../../support/daemons/exabgp.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { waitFor } from '../../support/daemons/common.js';

const skip = needsRoot || !haveExaBgp();

// RFC 6793 with a 2-octet-only peer: ExaBGP with the 4-octet AS capability
// disabled. margay (AS 4200000001) must appear to it as AS_TRANS 23456 in OPEN and
// AS_PATH, with the real path in AS4_PATH; routes from it come in unharmed.
describe.skipIf(skip)(`4-octet margay and a 2-octet peer (ExaBGP without asn4)${skip ? ' (skipped: needs root and exabgp)' : ''}`, () => {
  let net: NetPair;
  let e: ExaBgp;
  let m: MargaySpeaker;
  beforeAll(async () => {
    net = await netPair(49);
    m = await margaySpeaker(net.a.ns, {
      asn: 4200000001, routerId: net.a.v4, listen: { address: net.a.v4, port: 179 },
      neighbors: [{ address: net.b.v4, asn: 65005, passive: true }],
      originate: [{ prefix: '10.88.0.0/24' }],
    });
    e = await exabgp(net.b.ns, (cmds) => exabgpConfig(cmds, { address: net.a.v4, localAddress: net.b.v4, routerId: net.b.v4, localAs: 65005, peerAs: 23456, asn4: false }));
  });
  afterAll(async () => {
    await e?.stop();
    await m?.stop();
    await net?.destroy();
  });

  it('establishes with the peer seeing AS_TRANS', async () => {
    await waitFor('Established', async () => (await m.peerState(net.b.v4)) === 'Established', 30_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${e.output().slice(-3000)}\n${m.output().slice(-2000)}`); });
  });

  it('sends AS_PATH [23456] with AS4_PATH [4200000001]', async () => {
    const upd = await waitFor('UPDATE at ExaBGP', async () => (await e.received()).find((j) => JSON.stringify(j).includes('10.88.0.0/24')), 15_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${e.output().slice(-3000)}`); });
    // ExaBGP merges AS4_PATH into its parsed "as-path"; the raw body shows the wire
    const msg = (upd.neighbor as Record<string, unknown>).message as { update: { attribute: Record<string, unknown> } };
    expect(msg.update.attribute['as-path']).toEqual([4200000001]);
    const raw = (await e.received()).map((j) => ((j.neighbor as { message?: { body?: string } }).message?.body ?? '').toLowerCase());
    const body = raw.find((b) => b.endsWith('180a5800')) ?? ''; // NLRI 10.88.0.0/24
    expect(body).toMatch(/4002040201(5ba0)/); // AS_PATH: flags 40, type 2, len 4, AS_SEQUENCE of 1: 23456
    expect(body).toMatch(/c01106020?1fa56ea01/); // AS4_PATH: optional transitive, type 17, AS_SEQUENCE of 1: 4200000001
  });

  it('receives the 2-octet peer\'s route with its AS path', async () => {
    await e.announce('announce route 10.95.0.0/24 next-hop self med 5 community [65005:1]');
    const r = await waitFor('route at margay', async () => (await m.routes()).find((x) => x.prefix === '10.95.0.0/24'), 15_000);
    expect(r.attributes).toMatchObject({ med: 5, asPath: [{ type: 'AS_SEQUENCE', asns: [65005] }], communities: [65005 * 65536 + 1] });
  });
});

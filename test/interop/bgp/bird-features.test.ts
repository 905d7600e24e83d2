import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { sleep, waitFor } from '../../support/daemons/common.js';
import { ip } from '../../../agent/lab/netns.js';

const skip = needsRoot || !haveBird();
const why = skip ? ' (skipped: needs root and bird2)' : '';

async function until(what: string, b: Bird, m: MargaySpeaker, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  await waitFor(what, async () => (await probe()) || undefined, ms)
    .catch(async (err: Error) => { throw new Error(`${err.message}\n${await b.birdc('show protocols all')}\n${m.output().slice(-3000)}`); });
}

describe.skipIf(skip)(`iBGP with BIRD: attributes, withdrawals, hold time 3 s${why}`, () => {
  let net: NetPair;
  let b: Bird;
  let m: MargaySpeaker;
  const speakerConfig = (originate: string[]): Record<string, unknown> => ({
    asn: 65001, routerId: net.a.v4, listen: { address: net.a.v4, port: 179 },
    neighbors: [{ address: net.b.v4, asn: 65001, holdTime: 3 }],
    originate: originate.map((prefix) => ({ prefix, communities: ['65001:1'] })),
  });
  beforeAll(async () => {
    net = await netPair(46);
    b = await bird(net.b.ns, `router id ${net.b.v4};
protocol device {}
protocol static st4 { ipv4; route 10.99.1.0/24 blackhole { bgp_med = 42; bgp_local_pref = 250; bgp_community.add((65001,9)); }; route 10.99.2.0/24 blackhole; }
protocol bgp m1 { local ${net.b.v4} as 65001; neighbor ${net.a.v4} as 65001; passive on; hold time 3; ipv4 { import all; export all; next hop self; }; }
`);
    m = await margaySpeaker(net.a.ns, speakerConfig(['10.88.0.0/24', '10.88.1.0/24']));
  });
  afterAll(async () => {
    await m?.stop();
    await b?.stop();
    await net?.destroy();
  });

  it('establishes iBGP; BIRD sees LOCAL_PREF 100 and an empty AS path', async () => {
    await until('Established', b, m, async () => (await birdProtocolState(b, 'm1')).startsWith('Established'));
    const out = await waitFor('route in BIRD', async () => {
      const o = await b.birdc('show route 10.88.0.0/24 all');
      return o.includes('10.88.0.0/24') ? o : undefined;
    }, 10_000);
    expect(out).toContain('BGP.local_pref: 100');
    expect(out).toMatch(/BGP\.as_path: *\n/);
    expect(out).toContain('(65001,1)');
  });

  it('margay receives MED, LOCAL_PREF and communities intact', async () => {
    const r = await waitFor('route from BIRD', async () => (await m.routes()).find((x) => x.prefix === '10.99.1.0/24'), 10_000);
    expect(r.attributes).toMatchObject({ med: 42, localPref: 250, communities: [65001 * 65536 + 9], nextHops: [net.b.v4], origin: 'IGP' });
  });

  it('stays Established with a 3 s hold time for 12 s', async () => {
    const before = (await m.status()).peers[0]?.since;
    await sleep(12_000);
    const st = (await m.status()).peers[0];
    expect(st?.state).toBe('Established');
    expect(st?.since).toBe(before);
    expect(await birdProtocolState(b, 'm1')).toMatch(/^Established/);
  });

  it('withdrawals propagate both ways', async () => {
    await m.reload(speakerConfig(['10.88.0.0/24']));
    await until('10.88.1.0/24 withdrawn from BIRD', b, m, async () => !(await b.birdc('show route 10.88.1.0/24')).includes('10.88.1.0/24'), 10_000);
    expect(await b.birdc('show route 10.88.0.0/24')).toContain('10.88.0.0/24');
    await b.birdc('disable st4');
    await until('BIRD routes withdrawn from margay', b, m, async () => (await m.status()).peers[0]?.received === 0, 10_000);
    expect((await m.status()).peers[0]?.state).toBe('Established'); // a reload of originate does not reset the session
  });
});

describe.skipIf(skip)(`session protection with BIRD: MD5, bad peer AS, max-prefix${why}`, () => {
  let net: NetPair;
  let b: Bird;
  let m: MargaySpeaker;
  beforeAll(async () => {
    net = await netPair(47);
    // m4: right password (IPv4 session); m6: wrong password (IPv6 session); bad: wrong AS on a third address
    // BIRD keys protocols by neighbor address: the extra sessions use extra addresses on both sides
    for (const [ns, addr] of [[net.b.ns, '10.47.0.3'], [net.b.ns, '10.47.0.4'], [net.a.ns, '10.47.0.11'], [net.a.ns, '10.47.0.12']] as const) {
      await ip(ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    }
    b = await bird(net.b.ns, `router id ${net.b.v4};
log "@DIR@/bird.log" all;
protocol device {}
protocol static st4 { ipv4; route 10.99.1.0/24 blackhole; route 10.99.2.0/24 blackhole; route 10.99.3.0/24 blackhole; }
protocol bgp m4 { local ${net.b.v4} as 65002; neighbor ${net.a.v4} as 65001; password "s3cret"; connect retry time 1; ipv4 { import all; export none; }; }
protocol bgp m6 { local ${net.b.v6} as 65002; neighbor ${net.a.v6} as 65001; password "wrong"; connect retry time 1; ipv6 { import all; export none; }; }
protocol bgp badas { local 10.47.0.3 as 65002; neighbor 10.47.0.11 as 65001; connect retry time 1; ipv4 { import all; export none; }; }
protocol bgp maxp { local 10.47.0.4 as 65002; neighbor 10.47.0.12 as 65001; connect retry time 1; error wait time 30, 60; ipv4 { import none; export all; }; }
`);
    m = await margaySpeaker(net.a.ns, {
      asn: 65001, routerId: net.a.v4, listen: { address: '::', port: 179 },
      neighbors: [
        { address: net.b.v4, asn: 65002, password: 's3cret', passive: true },
        { address: net.b.v6, asn: 65002, password: 's3cret', passive: true, families: ['ipv6'] },
        { address: '10.47.0.3', asn: 65099, passive: true },
        { address: '10.47.0.4', asn: 65002, passive: true, maxPrefixes: 2 },
      ],
    });
  });
  afterAll(async () => {
    await m?.stop();
    await b?.stop();
    await net?.destroy();
  });

  it('establishes with the matching MD5 password', async () => {
    await until('m4 Established', b, m, async () => (await birdProtocolState(b, 'm4')).startsWith('Established'));
    expect(await m.peerState(net.b.v4)).toBe('Established');
  });

  it('does not establish with a wrong MD5 password', async () => {
    await sleep(3000);
    expect(await birdProtocolState(b, 'm6')).not.toMatch(/Established/);
    expect(await m.peerState(net.b.v6)).not.toBe('Established');
  });

  it('answers a bad peer AS with NOTIFICATION 2/2, seen by BIRD', async () => {
    await until('BIRD saw Bad peer AS', b, m, async () => /Bad peer AS/i.test(await b.birdc('show protocols all badas')));
    expect(await m.peerState('10.47.0.3')).not.toBe('Established');
    expect((await m.status()).peers.find((p) => p.address === '10.47.0.3')?.lastError).toMatch(/NOTIFICATION sent 2\/2/);
  });

  it('trips max-prefix with Cease 6/1', async () => {
    await until('BIRD saw the Cease', b, m, async () => /Maximum number of prefixes reached/i.test(await b.birdc('show protocols all maxp')));
    const p = (await m.status()).peers.find((x) => x.address === '10.47.0.4');
    expect(p?.lastError).toMatch(/NOTIFICATION sent 6\/1/);
    expect(p?.received).toBe(0);
  });
});

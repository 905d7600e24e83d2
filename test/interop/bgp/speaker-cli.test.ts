import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ip } from '../../../agent/lab/netns.js';
import { needsRoot } from '../../support/root.js';
import { margay } from '../../support/cli.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, birdProtocolState, haveBird, type Bird } from '../../support/daemons/bird.js';
import { margaySpeaker, type MargaySpeaker } from '../../support/daemons/margay.js';
import { sleep, waitFor } from '../../support/daemons/common.js';

describe('margay bgp speaker: config errors', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'margay-cfg-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('rejects an invalid config with exit 2, naming every bad field', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'asn: 65001\nrouterId: 10.0.0.1\nneighbors:\n  - {address: 10.0.0.2, asn: 0}\n  - {address: 10.0.0.3, asn: 65003, holdTime: 1}\n');
    const r = margay(['bgp', 'speaker', '--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('neighbors[0].asn: must be an integer 1..4294967295');
    expect(r.stderr).toContain('neighbors[1].holdTime: must be 0 or at least 3');
  });

  it('needs --config', () => {
    const r = margay(['bgp', 'speaker']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--config FILE is required');
  });

  it('status says clearly when no speaker answers', () => {
    const r = margay(['bgp', 'status', '--socket', join(dir, 'nobody.ctl')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the speaker at .*nobody\.ctl/);
  });
});

const skip = needsRoot || !haveBird();

// Run-time reconfiguration and shutdown with two BIRD sessions: SIGHUP adds a
// peer, changes another's max-prefix (no reset) and later removes one (Cease 6/3)
// without disturbing the other; SIGTERM sends Cease 6/2 to the rest.
describe.skipIf(skip)(`margay bgp speaker: SIGHUP, status, SIGTERM with BIRD${skip ? ' (skipped: needs root and bird2)' : ''}`, () => {
  let net: NetPair;
  let b: Bird;
  let m: MargaySpeaker;
  const base = (): Record<string, unknown> => ({
    asn: 65001, routerId: net.a.v4, listen: { address: '0.0.0.0', port: 179 },
    neighbors: [{ address: net.b.v4, asn: 65002, passive: true }],
    originate: [{ prefix: '10.88.0.0/24' }],
  });
  beforeAll(async () => {
    net = await netPair(55);
    await ip(net.b.ns, 'addr', 'add', '10.55.0.3/24', 'dev', net.b.ifname);
    await ip(net.a.ns, 'addr', 'add', '10.55.0.11/24', 'dev', net.a.ifname);
    b = await bird(net.b.ns, `router id ${net.b.v4};
log "@DIR@/bird.log" all;
protocol device {}
protocol static st4 { ipv4; route 10.99.1.0/24 blackhole; }
protocol bgp one { local ${net.b.v4} as 65002; neighbor ${net.a.v4} as 65001; connect retry time 1; ipv4 { import all; export all; }; }
protocol bgp two { local 10.55.0.3 as 65002; neighbor 10.55.0.11 as 65001; connect retry time 1; ipv4 { import all; export all; }; }
`);
    m = await margaySpeaker(net.a.ns, base());
  });
  afterAll(async () => {
    await m?.stop();
    await b?.stop();
    await net?.destroy();
  });

  it('prints the peers table with margay bgp status', async () => {
    await waitFor('one Established', async () => (await birdProtocolState(b, 'one')).startsWith('Established'), 30_000);
    await waitFor('one received', async () => (await m.status()).peers[0]?.received === 1, 10_000);
    const r = margay(['bgp', 'status', '--socket', m.socket]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Loc-RIB: 2 routes \(ipv4 2\)/);
    expect(r.stdout).toMatch(new RegExp(`${net.b.v4.replaceAll('.', '\\.')}\\s+65002\\s+Established\\s+\\d+s\\s+1\\s+1\\s+1\\s+KEEPALIVE received`));
    const j = JSON.parse(margay(['bgp', 'status', '--socket', m.socket, '--json']).stdout) as { peers: unknown[]; locRib: { total: number } };
    expect(j.locRib.total).toBe(2);
    expect(j.peers).toHaveLength(1);
  });

  it('SIGHUP adds a peer and changes max-prefix without resetting the first session', async () => {
    const since = (await m.status()).peers[0]?.since;
    await m.reload({ ...base(), neighbors: [{ address: net.b.v4, asn: 65002, passive: true, maxPrefixes: 100 }, { address: '10.55.0.3', asn: 65002, passive: true }] });
    await waitFor('two Established', async () => (await birdProtocolState(b, 'two')).startsWith('Established'), 30_000);
    expect((await m.status()).peers.find((p) => p.address === net.b.v4)?.since).toBe(since);
  });

  it('SIGHUP removes a peer with Cease 6/3 and leaves the other alone', async () => {
    const since = (await m.status()).peers.find((p) => p.address === '10.55.0.3')?.since;
    await m.reload({ ...base(), neighbors: [{ address: '10.55.0.3', asn: 65002, passive: true }] });
    await waitFor('BIRD saw the deconfiguration', async () => /de-?configured/i.test(await b.birdc('show protocols all one')), 15_000);
    const st = await m.status();
    expect(st.peers.map((p) => p.address)).toEqual(['10.55.0.3']);
    expect(st.peers[0]?.since).toBe(since);
    expect(await birdProtocolState(b, 'two')).toMatch(/^Established/);
  });

  it('a bad reload is rejected and the running config kept', async () => {
    await m.reload({ ...base(), neighbors: [{ address: 'nope', asn: 65002 }] });
    await sleep(1000);
    expect((await m.status()).peers[0]?.state).toBe('Established');
    expect(m.logs().some((l) => l.msg === 'config reload rejected; keeping the running config')).toBe(true);
  });

  it('SIGTERM sends Cease (administrative shutdown) and stops', async () => {
    m.signal('SIGTERM');
    await waitFor('BIRD saw the shutdown', async () => /Administrative shutdown/i.test(await b.birdc('show protocols all two')), 15_000);
    await waitFor('speaker stopped', () => m.logs().some((l) => l.msg === 'speaker stopped'), 10_000);
  });
});

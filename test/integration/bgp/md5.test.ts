import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { netnsExec } from '../../../agent/lab/netns.js';
import { REPO_ROOT } from '../../support/cli.js';
import { needsRoot } from '../../support/root.js';
import { netPair, type NetPair } from '../../support/daemons/netpair.js';
import { bird, haveBird, type Bird } from '../../support/daemons/bird.js';

const PROBE = join(REPO_ROOT, 'dist', 'test', 'integration', 'bgp', 'md5-probe.js');
const skip = needsRoot || !haveBird();

async function probe(ns: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await netnsExec(ns, [process.execPath, PROBE, ...args], { timeoutMs: 20_000 });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
}

// BIRD is active+passive on 10.1.0.2 with password "s3cret"; margay's transport
// connects from 10.1.0.1. With the matching key the kernel completes the handshake
// and BIRD sends its OPEN; with a wrong key (or none) BIRD's kernel drops the SYNs.
describe.skipIf(skip)(`TCP MD5 transport against BIRD${skip ? ' (skipped: needs root and bird2)' : ''}`, () => {
  let net: NetPair;
  let b: Bird;
  beforeAll(async () => {
    net = await netPair(41);
    b = await bird(net.b.ns, `router id 10.41.0.2;
protocol device {}
protocol bgp peer1 { local 10.41.0.2 as 65002; neighbor 10.41.0.1 as 65001; password "s3cret"; passive on; ipv4 { import all; export none; }; }
`);
  });
  afterAll(async () => {
    await b?.stop();
    await net?.destroy();
  });

  it('connects with the matching password and receives an OPEN', async () => {
    const r = await probe(net.a.ns, 'connect', net.b.v4, 's3cret');
    expect(r.connected).toBe(true);
    expect(String(r.first)).toMatch(/^f{32}[0-9a-f]{4}01$/); // marker, length, type 1 (OPEN)
  });

  it('cannot connect with a wrong password', async () => {
    const r = await probe(net.a.ns, 'connect', net.b.v4, 'wrong');
    expect(r.connected).toBe(false);
  });

  it('cannot connect without a password', async () => {
    const r = await probe(net.a.ns, 'connect', net.b.v4, '');
    expect(r.connected).toBe(false);
  });
});

/**
 * `margay cleanup` in a namespace made to look like a node margay ran on (plus
 * foreign state beside it): margay's routes, VXLAN device, filter hook and chains,
 * ipset, natOutgoing chain and conflist go; the foreign route, rules, set and file
 * stay; a second run removes nothing. Runs the built CLI inside the namespace
 * only (never in the root namespace). tunl0 is not set up here: making it would
 * load the ipip module, whose fallback tunl0 appears in the root namespace too
 * (the unit tests cover its address).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNetns, deleteNetns, ipBatch, netnsExec, newRunPrefix } from '../../../agent/lab/netns.js';
import { MARGAY_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';

const needs = requirements({ root: true, built: [MARGAY_JS], file: import.meta.url });

describe.skipIf(needs.skip)(`margay cleanup removes margay's state and only it (${needs.why})`, () => {
  const ns = `${newRunPrefix()}clean`;
  let dir = '';
  let made = false;

  const cleanup = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, MARGAY_JS, 'cleanup', '--cni-conf', dir, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const sh = async (argv: string[]): Promise<string> => (await netnsExec(ns, argv)).stdout;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-cleanup-'));
    writeFileSync(join(dir, '10-margay.conflist'), '{"cniVersion":"1.0.0","name":"margay","plugins":[{"type":"margay-cni"}]}\n');
    writeFileSync(join(dir, '99-other.conflist'), '{"cniVersion":"1.0.0","name":"other","plugins":[]}\n');
    await addNetns(ns);
    made = true;
    await ipBatch(ns, [
      // a veth pair with both ends in the namespace (the dummy module may be absent, and loading it adds dummy0 to the root namespace)
      'link add eth0 type veth peer name eth0p',
      'link set eth0p up',
      'link set eth0 up',
      'addr add 192.0.2.1/24 dev eth0',
      'link add vxlan.margay type vxlan id 4096 dstport 4789 local 192.0.2.1 dev eth0 nolearning',
      'link set vxlan.margay up',
      'route add blackhole 10.244.1.0/26 proto 80',
      'route add 10.244.2.0/26 via 10.244.2.0 dev vxlan.margay onlink proto 80',
      'route add 198.51.100.0/24 via 192.0.2.254 dev eth0 proto 4',
      'route add blackhole fd00:244::/122 proto 80',
      'route add blackhole fd00:99::/64 proto 4',
    ]);
    await netnsExec(ns, ['iptables-restore', '--noflush'], {
      input: [
        '*filter',
        ':MARGAY-FORWARD - [0:0]',
        '-A MARGAY-FORWARD -m comment --comment "margay:0a1b2c" -j ACCEPT',
        '-I FORWARD 1 -m comment --comment "margay:hook" -j MARGAY-FORWARD',
        '-A FORWARD -s 198.51.100.0/24 -j ACCEPT',
        'COMMIT',
        '*nat',
        ':MARGAY-NAT-OUTGOING - [0:0]',
        '-A MARGAY-NAT-OUTGOING -s 10.244.0.0/16 -j MASQUERADE',
        '-A POSTROUTING -m comment --comment margay:nat-outgoing -j MARGAY-NAT-OUTGOING',
        '-A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE',
        'COMMIT',
        '',
      ].join('\n'),
    });
    await netnsExec(ns, ['ipset', 'create', 'margay-pods-test', 'hash:ip']);
    await netnsExec(ns, ['ipset', 'add', 'margay-pods-test', '10.244.1.5']);
    await netnsExec(ns, ['ipset', 'create', 'foreign-test', 'hash:ip']);
  }, 60_000);

  afterAll(async () => {
    if (made) await deleteNetns(ns);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('--dry-run lists margay state and changes nothing', async () => {
    const r = cleanup('--dry-run');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^would remove route: 10\.244\.1\.0\/26 blackhole proto 80$/m);
    expect(r.stdout).toMatch(/^would remove device: vxlan\.margay$/m);
    expect(r.stdout).toMatch(/^would remove ipset: margay-pods-test$/m);
    expect(r.stdout).not.toMatch(/198\.51\.100|foreign-test|99-other/);
    expect(await sh(['ip', 'route', 'show', 'proto', '80'])).toContain('blackhole 10.244.1.0/26');
    expect(await sh(['ip', 'link', 'show'])).toContain('vxlan.margay');
    expect(existsSync(join(dir, '10-margay.conflist'))).toBe(true);
  });

  it("removes margay's routes, device, hook, chains, set, NAT and conflist; foreign state stays", async () => {
    const r = cleanup();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^removed cni-conf: .*10-margay\.conflist$/m);
    expect(r.stdout).toMatch(/^removed iptables: iptables filter: FORWARD jump to MARGAY-FORWARD$/m);
    expect(r.stdout).toMatch(/^removed nat: iptables nat: chain MARGAY-NAT-OUTGOING$/m);

    const routes = await sh(['ip', 'route', 'show']);
    expect(routes).not.toContain('10.244.');
    expect(routes).toMatch(/198\.51\.100\.0\/24 via 192\.0\.2\.254 dev eth0 proto static/);
    const routes6 = await sh(['ip', '-6', 'route', 'show']);
    expect(routes6).not.toContain('fd00:244::');
    expect(routes6).toMatch(/blackhole fd00:99::\/64 .*proto static/);
    const links = await sh(['ip', '-o', 'link', 'show']);
    expect(links).not.toContain('vxlan.margay');
    expect(links).toContain('eth0');
    const filter = await sh(['iptables-save', '-t', 'filter']);
    expect(filter).not.toMatch(/MARGAY|margay/);
    expect(filter).toContain('-A FORWARD -s 198.51.100.0/24 -j ACCEPT');
    const nat = await sh(['iptables-save', '-t', 'nat']);
    expect(nat).not.toMatch(/MARGAY|margay/);
    expect(nat).toContain('-A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE');
    const sets = await sh(['ipset', 'list', '-n']);
    expect(sets).not.toContain('margay-pods-test');
    expect(sets).toContain('foreign-test');
    expect(readdirSync(dir)).toEqual(['99-other.conflist']);
  });

  it('a second run removes nothing and exits 0', () => {
    const r = cleanup();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("nothing of margay's found, nothing removed");
  });

  it('a bad flag is a usage error (exit 2)', () => {
    const r = cleanup('--iptables-backend', 'xt');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--iptables-backend must be auto, nft or legacy');
  });
});

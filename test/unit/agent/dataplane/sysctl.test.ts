import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROC_SYS, ensureNodeForwarding, nodeForwardingOf, podIpv6Sysctls, sysctlPath, writeSysctl } from '../../../../agent/dataplane/sysctl.js';
import { netnsPath } from '../../../../agent/dataplane/kernel/nl-socket.js';
import { NetlinkPodWiring } from '../../../../agent/dataplane/pod-wiring.js';
import type { PodLink } from '../../../../agent/cni/handler.js';
import { addNetns, deleteNetns, netnsExec, newRunPrefix } from '../../../../agent/lab/netns.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../../support/root.js';

describe('sysctlPath', () => {
  it('puts the sysctl under the root, with or without a trailing slash', () => {
    expect(DEFAULT_PROC_SYS).toBe('/proc/sys');
    expect(sysctlPath('/proc/sys', 'net/ipv4/neigh/mgw1/proxy_delay')).toBe('/proc/sys/net/ipv4/neigh/mgw1/proxy_delay');
    expect(sysctlPath('/host/proc/sys/', 'net/ipv6/conf/mgw1/proxy_ndp')).toBe('/host/proc/sys/net/ipv6/conf/mgw1/proxy_ndp');
    expect(sysctlPath('/', 'net/ipv4/ip_forward')).toBe('/net/ipv4/ip_forward');
  });

  it('refuses paths that could leave the root, and an empty root', () => {
    for (const bad of ['/net/ipv4/ip_forward', 'net/ipv4/conf/../../../etc/passwd', 'net/ipv4/conf/./x', 'net//ipv4', '', 'net/ipv4/']) {
      expect(() => sysctlPath('/proc/sys', bad), bad).toThrow(/not a sysctl path/);
    }
    expect(() => sysctlPath('', 'net/ipv4/ip_forward')).toThrow(/empty/);
  });

  it('podIpv6Sysctls: IPv6 on for all/default/lo and the pod interface, no DAD on it', () => {
    expect(podIpv6Sysctls('eth0')).toEqual(['net/ipv6/conf/all/disable_ipv6', 'net/ipv6/conf/default/disable_ipv6', 'net/ipv6/conf/lo/disable_ipv6', 'net/ipv6/conf/eth0/disable_ipv6', 'net/ipv6/conf/eth0/accept_dad']);
  });

  it('writeSysctl writes the value under the root', () => {
    const root = mkdtempSync(join(tmpdir(), 'mg-sysctl-'));
    try {
      mkdirSync(join(root, 'net/ipv4/neigh/mgw1'), { recursive: true });
      writeSysctl(root, 'net/ipv4/neigh/mgw1/proxy_delay', '0');
      expect(readFileSync(join(root, 'net/ipv4/neigh/mgw1/proxy_delay'), 'utf8')).toBe('0');
      expect(() => writeSysctl(root, 'net/ipv4/neigh/absent/proxy_delay', '0')).toThrow(/ENOENT/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('ensureNodeForwarding (a temp sysctl root)', () => {
  const withRoot = (files: Record<string, string>, fn: (root: string, at: (p: string) => string) => void): void => {
    const root = mkdtempSync(join(tmpdir(), 'mg-fwd-'));
    try {
      for (const [p, v] of Object.entries(files)) {
        mkdirSync(join(root, p, '..'), { recursive: true });
        writeFileSync(join(root, p), v);
      }
      fn(root, (p) => readFileSync(join(root, p), 'utf8').trim());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };

  it('turns IPv4 and IPv6 forwarding on where they are 0, and says which', () => {
    withRoot({ 'net/ipv4/ip_forward': '0\n', 'net/ipv6/conf/all/forwarding': '0\n' }, (root, at) => {
      expect(ensureNodeForwarding(root, 'on')).toEqual({ enabled: ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding'], raKept: [], failed: [] });
      expect(at('net/ipv4/ip_forward')).toBe('1');
      expect(at('net/ipv6/conf/all/forwarding')).toBe('1');
      expect(ensureNodeForwarding(root, 'on')).toEqual({ enabled: [], raKept: [], failed: [] });
    });
  });

  it('turning IPv6 forwarding on keeps router advertisements on the node\'s interfaces (accept_ra 1 → 2), not on all/default/lo/workload veths', () => {
    withRoot({
      'net/ipv4/ip_forward': '1\n', 'net/ipv6/conf/all/forwarding': '0\n',
      'net/ipv6/conf/all/accept_ra': '1\n', 'net/ipv6/conf/default/accept_ra': '1\n', 'net/ipv6/conf/lo/accept_ra': '1\n',
      'net/ipv6/conf/eth0/accept_ra': '1\n', 'net/ipv6/conf/eth1/accept_ra': '0\n', 'net/ipv6/conf/mgw0123456789a/accept_ra': '1\n',
    }, (root, at) => {
      expect(ensureNodeForwarding(root, 'on')).toEqual({ enabled: ['net/ipv6/conf/all/forwarding'], raKept: ['eth0'], failed: [] });
      expect(at('net/ipv6/conf/eth0/accept_ra')).toBe('2');
      expect(['all', 'default', 'lo', 'eth1', 'mgw0123456789a'].map((d) => at(`net/ipv6/conf/${d}/accept_ra`))).toEqual(['1', '1', '1', '0', '1']);
    });
  });

  it('leaves what is on alone; ipv4 leaves IPv6 as it is; off writes nothing; no IPv6 is no failure', () => {
    withRoot({ 'net/ipv4/ip_forward': '1\n', 'net/ipv6/conf/all/forwarding': '0\n' }, (root, at) => {
      expect(ensureNodeForwarding(root, 'ipv4')).toEqual({ enabled: [], raKept: [], failed: [] });
      expect(at('net/ipv6/conf/all/forwarding')).toBe('0');
    });
    withRoot({ 'net/ipv4/ip_forward': '0\n' }, (root, at) => {
      expect(ensureNodeForwarding(root, 'off')).toEqual({ enabled: [], raKept: [], failed: [] });
      expect(at('net/ipv4/ip_forward')).toBe('0');
      expect(ensureNodeForwarding(root, 'on')).toEqual({ enabled: ['net/ipv4/ip_forward'], raKept: [], failed: [] });
    });
    withRoot({}, (root) => {
      expect(ensureNodeForwarding(root, 'on').failed.map((f) => f.path)).toEqual(['net/ipv4/ip_forward']);
    });
  });

  it('MARGAY_IP_FORWARDING: on (default), ipv4, off; anything else is an error', () => {
    expect(nodeForwardingOf(undefined)).toBe('on');
    expect(nodeForwardingOf('')).toBe('on');
    expect(nodeForwardingOf('ipv4')).toBe('ipv4');
    expect(nodeForwardingOf('off')).toBe('off');
    expect(() => nodeForwardingOf('yes')).toThrow(/on, ipv4 or off/);
  });
});

describe.skipIf(needsRoot)(`NetlinkPodWiring writes its sysctls under the configured root (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  const prefix = newRunPrefix();
  const node = `${prefix}node`;
  const pod = `${prefix}pod`;
  const hostIf = 'mgwroot1';
  const root = mkdtempSync(join(tmpdir(), 'mg-procsys-'));
  let wiring: NetlinkPodWiring | undefined;
  const link: PodLink = {
    hostIf, podIf: 'eth0', netns: netnsPath(pod),
    addresses: [
      { family: 4, address: '10.244.9.5', prefix: 32, block: '10.244.9.0/26', pool: 'p' },
      { family: 6, address: 'fd44:9::5', prefix: 128, block: 'fd44:9::/122', pool: 'p6' },
    ],
  };

  beforeAll(async () => {
    await addNetns(node);
    await addNetns(pod);
    // the directories the kernel would show for the new interface
    for (const d of [`net/ipv4/neigh/${hostIf}`, `net/ipv6/conf/${hostIf}`, `net/ipv6/neigh/${hostIf}`, 'net/ipv6/conf/eth0', 'net/ipv6/conf/all', 'net/ipv6/conf/default', 'net/ipv6/conf/lo']) mkdirSync(join(root, d), { recursive: true });
    wiring = new NetlinkPodWiring({ nodeNetnsPath: netnsPath(node), procSys: root });
  });
  afterAll(async () => {
    wiring?.close();
    await deleteNetns(pod).catch(() => undefined);
    await deleteNetns(node).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('ADD writes accept_dad (both ends), proxy_delay, proxy_ndp and IPv6 forwarding there, not under /proc/sys', async () => {
    if (!wiring) throw new Error('no wiring');
    await wiring.add(link);
    const at = (p: string): string => readFileSync(join(root, p), 'utf8');
    expect(at(`net/ipv6/conf/${hostIf}/accept_dad`)).toBe('0');
    expect(at('net/ipv6/conf/eth0/accept_dad')).toBe('0');
    for (const d of ['all', 'default', 'lo', 'eth0', hostIf]) expect(at(`net/ipv6/conf/${d}/disable_ipv6`), d).toBe('0');
    expect(at(`net/ipv4/neigh/${hostIf}/proxy_delay`)).toBe('0');
    expect(at(`net/ipv6/conf/${hostIf}/proxy_ndp`)).toBe('1');
    expect(at(`net/ipv6/conf/${hostIf}/forwarding`)).toBe('1');
    expect(at(`net/ipv6/neigh/${hostIf}/proxy_delay`)).toBe('0');
    // the node namespace's own sysctls kept the kernel's defaults: the writes went to the root only
    const sysctl = async (k: string): Promise<string> => (await netnsExec(node, ['sysctl', '-n', k])).stdout.trim();
    expect(await sysctl(`net.ipv4.neigh.${hostIf}.proxy_delay`)).not.toBe('0');
    expect(await sysctl(`net.ipv6.conf.${hostIf}.proxy_ndp`)).toBe('0');
    // the netlink parts are unaffected by the root
    expect(await sysctl(`net.ipv4.conf.${hostIf}.proxy_arp`)).toBe('1');
    // CHECK reads the host veth's sysctls back through the root too: IPv4's (set over
    // netlink) are not in this one until written there, as the kernel would show them
    const problems = await wiring.check(link);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(new RegExp(`^cannot read net\\.ipv4\\.conf\\.${hostIf}\\.proxy_arp: .*ENOENT`));
    mkdirSync(join(root, `net/ipv4/conf/${hostIf}`), { recursive: true });
    for (const f of ['proxy_arp', 'forwarding']) writeFileSync(join(root, `net/ipv4/conf/${hostIf}/${f}`), '1\n');
    expect(await wiring.check(link)).toEqual([]);
    writeFileSync(join(root, `net/ipv6/conf/${hostIf}/forwarding`), '0\n');
    expect(await wiring.check(link)).toEqual([`net.ipv6.conf.${hostIf}.forwarding is 0, not 1`]);
  });

  it('ADD fails (and says where) when the root lacks the interface directory', async () => {
    if (!wiring) throw new Error('no wiring');
    await expect(wiring.add({ ...link, hostIf: 'mgwroot2', podIf: 'eth1' })).rejects.toThrow(new RegExp(`${root}/net/ipv6/conf/mgwroot2/disable_ipv6`));
    await wiring.del('mgwroot2');
  });
});

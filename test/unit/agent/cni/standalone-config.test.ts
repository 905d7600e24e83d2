import { describe, expect, it } from 'vitest';
import {
  parseStandaloneArgs, parseStandaloneConfig, poolSpecsOf, resolveProcSys, STANDALONE_USAGE, standaloneDefaultMtu, StandaloneUsageError,
} from '../../../../agent/cni/standalone-config.js';
import type { LinkMsg } from '../../../../agent/dataplane/netlink/link.js';
import type { RouteMsg } from '../../../../agent/dataplane/netlink/route.js';
import type { IpPool } from '../../../../agent/ipam/types.js';

const link = (index: number, name: string, mtu?: number): LinkMsg => ({ index, name, flags: 0, ...(mtu !== undefined ? { mtu } : {}) });
const defaultVia = (family: 4 | 6, ifindex: number, table = 254): RouteMsg => ({
  family, dst: family === 4 ? '0.0.0.0/0' : '::/0', table, protocol: 3, scope: 0, type: 'unicast',
  nexthops: [{ gateway: family === 4 ? '192.0.2.1' : 'fd00::1', ifindex, onlink: false, weight: 1 }],
});
const pool = (name: string, cidr: string, spec: Partial<IpPool['spec']> = {}): IpPool => ({ name, spec: { cidr, ...spec } });
const LINKS = [link(1, 'lo', 65536), link(2, 'eth0', 1500), link(3, 'jumbo0', 9000)];

describe('standalone CNI server: default pod MTU', () => {
  it('starts from the IPv4 default route\'s device; VXLAN −50, IPIP −20, IPv6 VXLAN −70, no encapsulation: the uplink\'s', () => {
    const kernel = { links: LINKS, routes4: [defaultVia(4, 2)], routes6: [defaultVia(6, 3)] };
    expect(standaloneDefaultMtu(undefined, [pool('v', '10.1.0.0/16', { vxlanMode: 'Always' })], kernel)).toEqual({ mtu: 1450, uplink: 'eth0' });
    expect(standaloneDefaultMtu(undefined, [pool('i', '10.1.0.0/16', { ipipMode: 'CrossSubnet' })], kernel)).toEqual({ mtu: 1480, uplink: 'eth0' });
    expect(standaloneDefaultMtu(undefined, [pool('v6', 'fd10::/48', { vxlanMode: 'Always' })], kernel)).toEqual({ mtu: 1430, uplink: 'eth0' });
    expect(standaloneDefaultMtu(undefined, [pool('p', '10.1.0.0/16')], kernel)).toEqual({ mtu: 1500, uplink: 'eth0' });
    expect(standaloneDefaultMtu(undefined, [pool('i', '10.1.0.0/16', { ipipMode: 'Always' }), pool('v', '10.2.0.0/16', { vxlanMode: 'Always', disabled: true })], kernel).mtu).toBe(1450);
  });

  it('no IPv4 default route: the IPv6 one\'s device; another table\'s default route does not count', () => {
    expect(standaloneDefaultMtu(undefined, [pool('i', '10.1.0.0/16', { ipipMode: 'Always' })], { links: LINKS, routes4: [defaultVia(4, 2, 100)], routes6: [defaultVia(6, 3)] }))
      .toEqual({ mtu: 8980, uplink: 'jumbo0' });
  });

  it('a named uplink wins over the default route; one that does not exist is a config error', () => {
    const kernel = { links: LINKS, routes4: [defaultVia(4, 2)], routes6: [] };
    expect(standaloneDefaultMtu('jumbo0', [pool('v', '10.1.0.0/16', { vxlanMode: 'Always' })], kernel)).toEqual({ mtu: 8950, uplink: 'jumbo0' });
    expect(() => standaloneDefaultMtu('nope0', [], kernel)).toThrow(/uplink nope0 names no device/);
  });

  it('no uplink named and no default route: no default (the kernel\'s MTU), and why', () => {
    const r = standaloneDefaultMtu(undefined, [pool('v', '10.1.0.0/16', { vxlanMode: 'Always' })], { links: LINKS, routes4: [], routes6: [] });
    expect(r.mtu).toBeUndefined();
    expect(r).toMatchObject({ why: expect.stringContaining('no default route') as unknown });
  });

  it('pools: an absent mode is Never, as the agent reads IPPools', () => {
    expect(poolSpecsOf([pool('a', '10.0.0.0/16'), pool('b', '10.3.0.0/16', { ipipMode: 'Always', natOutgoing: true, disabled: true })])).toEqual([
      { cidr: '10.0.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false },
      { cidr: '10.3.0.0/16', ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, disabled: true },
    ]);
  });
});

describe('standalone CNI server: sysctl root', () => {
  const has = (ok: string[]) => (root: string): boolean => ok.includes(root);
  it('--proc-sys, else MARGAY_PROC_SYS, else the config\'s procSys, else none (/proc/sys)', () => {
    const all = has(['/f', '/e', '/c']);
    expect(resolveProcSys('/f', '/e', '/c', all)).toBe('/f');
    expect(resolveProcSys(undefined, '/e', '/c', all)).toBe('/e');
    expect(resolveProcSys(undefined, '', '/c', all)).toBe('/c');
    expect(resolveProcSys(undefined, undefined, '/c', all)).toBe('/c');
    expect(resolveProcSys(undefined, undefined, undefined, all)).toBeUndefined();
  });

  it('a relative root, or one without net/ipv4, is refused naming where it came from', () => {
    expect(() => resolveProcSys('host/proc/sys', undefined, undefined, () => true)).toThrow('--proc-sys must be an absolute directory, got "host/proc/sys"');
    expect(() => resolveProcSys(undefined, '/empty', undefined, has([]))).toThrow(/MARGAY_PROC_SYS \/empty: no net\/ipv4/);
    expect(() => resolveProcSys(undefined, undefined, '/x', has([]))).toThrow(StandaloneUsageError);
  });
});

describe('standalone CNI server: command line and config', () => {
  it('CONFIG.json with an optional --proc-sys; --help; anything else is a usage error', () => {
    expect(parseStandaloneArgs(['c.json'])).toEqual({ help: false, file: 'c.json' });
    expect(parseStandaloneArgs(['--proc-sys', '/host/proc/sys', 'c.json'])).toEqual({ help: false, file: 'c.json', procSysFlag: '/host/proc/sys' });
    expect(parseStandaloneArgs(['--help'])).toEqual({ help: true });
    expect(() => parseStandaloneArgs([])).toThrow(/CONFIG.json is required/);
    expect(() => parseStandaloneArgs(['a.json', 'b.json'])).toThrow(StandaloneUsageError);
    expect(() => parseStandaloneArgs(['--mtu', '1400', 'c.json'])).toThrow(StandaloneUsageError);
  });

  it('the config needs socket, node, storeDir and pools; uplink, procSys and wiring are checked', () => {
    const ok = { socket: '/run/s.sock', node: 'n1', storeDir: '/tmp/x', pools: [] };
    expect(parseStandaloneConfig(JSON.stringify({ ...ok, uplink: 'eth0', procSys: '/host/proc/sys' }))).toMatchObject({ uplink: 'eth0', procSys: '/host/proc/sys' });
    expect(() => parseStandaloneConfig('{')).toThrow(/not JSON/);
    expect(() => parseStandaloneConfig(JSON.stringify({ ...ok, node: undefined }))).toThrow(/"node" must be/);
    expect(() => parseStandaloneConfig(JSON.stringify({ ...ok, pools: {} }))).toThrow(/"pools" must be an array/);
    expect(() => parseStandaloneConfig(JSON.stringify({ ...ok, uplink: 3 }))).toThrow(/"uplink" must be/);
    expect(() => parseStandaloneConfig(JSON.stringify({ ...ok, wiring: 'bpf' }))).toThrow(/"wiring" must be/);
  });

  it('the usage says which MTU applies without a datastore, and names the sysctl root\'s sources', () => {
    for (const s of ['--proc-sys DIR', 'MARGAY_PROC_SYS', 'default route', '"uplink"', 'VXLAN −50']) expect(STANDALONE_USAGE).toContain(s);
  });
});

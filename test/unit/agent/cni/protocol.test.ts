import { describe, expect, it } from 'vitest';
import { CniError } from '../../../../agent/cni/errors.js';
import { formatResult, mergeResults, normalizeResult, parseEnv, parseNetConf, versionResult, type CniResult } from '../../../../agent/cni/protocol.js';

const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof CniError ? e.code : -1;
  }
  return undefined;
}

describe('CNI environment', () => {
  it('parses a complete ADD environment with CNI_ARGS', () => {
    expect(parseEnv({ ...env, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web' })).toEqual({
      command: 'ADD', containerId: 'abc', netns: '/var/run/netns/x', ifName: 'eth0', path: '/opt/cni/bin',
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'ns', K8S_POD_NAME: 'web' },
    });
  });

  it.each([
    [{ CNI_COMMAND: undefined }, /CNI_COMMAND is not set/],
    [{ CNI_COMMAND: 'STATUS' }, /CNI_COMMAND "STATUS" is not supported/],
    [{ CNI_CONTAINERID: '' }, /CNI_CONTAINERID is not set/],
    [{ CNI_CONTAINERID: '-bad id' }, /CNI_CONTAINERID "-bad id" must start/],
    [{ CNI_IFNAME: undefined }, /CNI_IFNAME is not set/],
    [{ CNI_IFNAME: 'a-very-long-ifname0' }, /longer than 15/],
    [{ CNI_IFNAME: 'eth/0' }, /contains/],
    [{ CNI_NETNS: undefined }, /CNI_NETNS is not set \(ADD needs/],
    [{ CNI_NETNS: 'relative/ns' }, /not an absolute path/],
    [{ CNI_ARGS: 'K8S_POD_NAME' }, /CNI_ARGS: "K8S_POD_NAME" is not KEY=VALUE/],
  ])('rejects %j with code 4 and a message naming the variable', (patch, msg) => {
    const e = { ...env, ...patch };
    expect(codeOf(() => parseEnv(e))).toBe(4);
    expect(() => parseEnv(e)).toThrow(msg);
  });

  it('names every bad variable at once', () => {
    expect(() => parseEnv({ CNI_COMMAND: 'ADD' })).toThrow(/CNI_CONTAINERID is not set; CNI_IFNAME is not set; CNI_NETNS is not set/);
  });

  it('lets DEL go without CNI_NETNS', () => {
    expect(parseEnv({ ...env, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns).toBeUndefined();
  });
});

describe('network config', () => {
  const base = { cniVersion: '1.0.0', name: 'k8s', type: 'margay-cni' };
  it('applies defaults', () => {
    expect(parseNetConf(JSON.stringify(base))).toEqual({ ...base, socket: '/run/margay/cni.sock', timeoutSeconds: 60 });
  });
  it.each([
    ['{', 6, /not JSON/],
    ['[1]', 6, /not a JSON object/],
    [JSON.stringify({ ...base, cniVersion: '2.0.0' }), 1, /cniVersion "2.0.0" is not supported; margay-cni supports 0.3.0, 0.3.1, 0.4.0, 1.0.0/],
    [JSON.stringify({ ...base, cniVersion: undefined }), 7, /"cniVersion" is missing/],
    [JSON.stringify({ ...base, name: '' }), 7, /"name" must be/],
    [JSON.stringify({ ...base, socket: 'rel.sock' }), 7, /"socket" must be an absolute path/],
    [JSON.stringify({ ...base, mtu: 10 }), 7, /"mtu"/],
    [JSON.stringify({ ...base, prevResult: 3 }), 7, /"prevResult"/],
  ])('rejects %s with code %i', (text, code, msg) => {
    expect(codeOf(() => parseNetConf(text))).toBe(code);
    expect(() => parseNetConf(text)).toThrow(msg);
  });
  describe('a malformed prevResult', () => {
    const withPrev = (prevResult: unknown): string => JSON.stringify({ ...base, prevResult });
    it.each([
      [{ ips: [null] }, /"prevResult\.ips\[0\]" must be an object with an "address" string/],
      [{ ips: [{ address: '10.0.0.1/32' }, 'x'] }, /"prevResult\.ips\[1\]" must be an object/],
      [{ ips: [{ gateway: '10.0.0.1' }] }, /"prevResult\.ips\[0\]" must be an object with an "address" string/],
      [{ ips: [{ address: 5 }] }, /"prevResult\.ips\[0\]"/],
      [{ ips: { address: '10.0.0.1/32' } }, /"prevResult\.ips" must be an array/],
      [{ interfaces: [null] }, /"prevResult\.interfaces\[0\]" must be an object/],
      [{ routes: [{ dst: '0.0.0.0/0' }, null] }, /"prevResult\.routes\[1\]" must be an object with a "dst" string/],
    ])('%j: code 7 naming the field (ADD, CHECK), never a TypeError', (prev, msg) => {
      for (const command of [undefined, 'ADD', 'CHECK'] as const) {
        expect(codeOf(() => parseNetConf(withPrev(prev), command))).toBe(7);
        expect(() => parseNetConf(withPrev(prev), command)).toThrow(msg);
      }
    });
    it('DEL ignores a prevResult that does not parse (DEL must complete; prevResult is optional there)', () => {
      for (const prev of [{ ips: [null] }, { routes: [7] }, 3, 'x', null]) {
        const conf = parseNetConf(withPrev(prev), 'DEL');
        expect(conf.prevResult, JSON.stringify(prev)).toBeUndefined();
        expect(conf.name).toBe('k8s');
      }
      // a good one is still read on DEL
      expect(parseNetConf(withPrev({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.1/32' }] }), 'DEL').prevResult).toEqual({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.1/32' }] });
      // the rest of the config is still checked on DEL
      expect(codeOf(() => parseNetConf(JSON.stringify({ ...base, mtu: 10, prevResult: { ips: [null] } }), 'DEL'))).toBe(7);
    });
    it('null lists count as absent', () => {
      expect(parseNetConf(withPrev({ cniVersion: '1.0.0', ips: null, interfaces: null, routes: null })).prevResult).toEqual({ cniVersion: '1.0.0' });
    });
  });

  it('normalizes a 0.4.0 prevResult (drops ips[].version)', () => {
    const conf = parseNetConf(JSON.stringify({ ...base, cniVersion: '0.4.0', prevResult: { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.1/32' }] } }));
    expect(conf.prevResult).toEqual({ cniVersion: '0.4.0', ips: [{ address: '10.0.0.1/32' }] });
  });
});

describe('results', () => {
  const mine: CniResult = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'mgw1', mac: 'ee:ee:ee:ee:ee:ee' }, { name: 'eth0', mac: '0a:00:00:00:00:01', sandbox: '/var/run/netns/p' }],
    ips: [{ address: '10.0.0.1/32', gateway: '169.254.1.1', interface: 1 }, { address: 'fd00::1/128', gateway: 'fe80::1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
    dns: {},
  };
  it('prints 1.0.0 without and 0.4.0 with ips[].version', () => {
    expect((formatResult(mine, '1.0.0').ips as object[])[0]).toEqual({ address: '10.0.0.1/32', gateway: '169.254.1.1', interface: 1 });
    expect((formatResult(mine, '0.4.0').ips as { version: string }[]).map((i) => i.version)).toEqual(['4', '6']);
    expect(formatResult(mine, '0.4.0').cniVersion).toBe('0.4.0');
  });
  it('appends to a previous result, shifting interface indices', () => {
    const prev = normalizeResult({ interfaces: [{ name: 'lo0' }], ips: [{ address: '192.0.2.1/24', interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }], dns: { nameservers: ['1.1.1.1'] } }, '1.0.0');
    const m = mergeResults(prev, mine);
    expect(m.interfaces!.map((i) => i.name)).toEqual(['lo0', 'mgw1', 'eth0']);
    expect(m.ips!.map((i) => i.interface)).toEqual([0, 2, 2]);
    expect(m.routes).toHaveLength(1);
    expect(m.dns).toEqual({ nameservers: ['1.1.1.1'] });
    expect(mergeResults(undefined, mine)).toBe(mine);
  });
  it('answers VERSION with the supported versions', () => {
    expect(versionResult('0.4.0')).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  });
});

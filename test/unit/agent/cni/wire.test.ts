import { describe, expect, it } from 'vitest';
import { CniError } from '../../../../agent/cni/errors.js';
import { parseNetConf } from '../../../../agent/cni/protocol.js';
import { clientConf, decodeAnyRequest, decodeRawResponse, finishRaw, planRaw, RAW_WIRE_VERSION } from '../../../../agent/cni/wire.js';

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/ns/a', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p' };
const CONF = { cniVersion: '0.4.0', name: 'k8s', type: 'margay-cni', mtu: 1400 };

describe('wire: the raw form', () => {
  it('decodes raw requests and still the structured ones; rejects a raw request with non-string env', () => {
    expect(decodeAnyRequest(JSON.stringify({ v: RAW_WIRE_VERSION, env: ENV, stdin: '{}' }))).toMatchObject({ form: 'raw', req: { stdin: '{}' } });
    expect(decodeAnyRequest(JSON.stringify({ v: 1, command: 'DEL', containerId: 'c', ifName: 'eth0', args: {}, network: 'n', cniVersion: '1.0.0' }))).toMatchObject({ form: 'structured' });
    expect(() => decodeAnyRequest(JSON.stringify({ v: 2, env: { CNI_COMMAND: 1 }, stdin: '' }))).toThrow(/env is not an object of strings/);
    expect(() => decodeAnyRequest('nope')).toThrow(CniError);
  });

  it('plans an ADD as the handler request, with the config\'s version, mtu and args', () => {
    const plan = planRaw({ v: 2, env: ENV, stdin: JSON.stringify(CONF) });
    expect(plan).toMatchObject({ kind: 'work', req: { command: 'ADD', containerId: 'c1', netns: '/ns/a', ifName: 'eth0', network: 'k8s', cniVersion: '0.4.0', mtu: 1400, args: { K8S_POD_NAME: 'p' } } });
  });

  it('answers VERSION and bad input itself, in the spec\'s error form (env before config, as the plugin did)', () => {
    expect(planRaw({ v: 2, env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"0.4.0"}' })).toEqual({ kind: 'answer', exit: 0, stdout: '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}\n' });
    const bad = planRaw({ v: 2, env: { CNI_COMMAND: 'ADD' }, stdin: 'not json' });
    expect(bad).toMatchObject({ kind: 'answer', exit: 1 });
    expect(JSON.parse((bad as { stdout: string }).stdout)).toMatchObject({ cniVersion: '1.0.0', code: 4, msg: expect.stringMatching(/CNI_CONTAINERID is not set; CNI_IFNAME is not set; CNI_NETNS is not set/) as unknown });
    const check031 = planRaw({ v: 2, env: { ...ENV, CNI_COMMAND: 'CHECK' }, stdin: JSON.stringify({ ...CONF, cniVersion: '0.3.1' }) });
    expect(JSON.parse((check031 as { stdout: string }).stdout)).toMatchObject({ cniVersion: '0.3.1', code: 1 });
  });

  it('finishes ADD with the merged, formatted result and DEL/CHECK with nothing', () => {
    const plan = planRaw({ v: 2, env: ENV, stdin: JSON.stringify({ ...CONF, prevResult: { cniVersion: '0.4.0', interfaces: [{ name: 'x' }], ips: [] } }) });
    if (plan.kind !== 'work') throw new Error('expected work');
    const done = finishRaw(plan, { cniVersion: '0.4.0', interfaces: [{ name: 'mgw1' }, { name: 'eth0' }], ips: [{ address: '10.0.0.1/32', interface: 1 }] });
    expect(done.exit).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ cniVersion: '0.4.0', interfaces: [{ name: 'x' }, { name: 'mgw1' }, { name: 'eth0' }], ips: [{ version: '4', address: '10.0.0.1/32', interface: 2 }] });
    expect(finishRaw({ ...plan, req: { ...plan.req, command: 'DEL' } }, undefined)).toEqual({ exit: 0, stdout: '' });
  });

  it('a malformed prevResult: DEL goes on without it, CHECK and ADD answer 7 naming the field (not 104)', () => {
    const stdin = JSON.stringify({ ...CONF, prevResult: { ips: [null] } });
    const del = planRaw({ v: 2, env: { ...ENV, CNI_COMMAND: 'DEL' }, stdin });
    expect(del).toMatchObject({ kind: 'work', req: { command: 'DEL', containerId: 'c1' } });
    expect((del as { req: object }).req).not.toHaveProperty('prevResult');
    for (const command of ['CHECK', 'ADD']) {
      const plan = planRaw({ v: 2, env: { ...ENV, CNI_COMMAND: command }, stdin });
      expect(plan, command).toMatchObject({ kind: 'answer', exit: 1 });
      expect(JSON.parse((plan as { stdout: string }).stdout), command).toMatchObject({ code: 7, msg: expect.stringMatching(/"prevResult\.ips\[0\]"/) as unknown });
    }
  });

  it('the structured form (older plugins): a malformed prevResult is 7 on CHECK, dropped on DEL', () => {
    const req = { v: 1, containerId: 'c', ifName: 'eth0', args: {}, network: 'n', cniVersion: '1.0.0', prevResult: { ips: [null] } };
    expect(decodeAnyRequest(JSON.stringify({ ...req, command: 'DEL' }))).toMatchObject({ form: 'structured', req: { command: 'DEL' } });
    expect((decodeAnyRequest(JSON.stringify({ ...req, command: 'DEL' })).req as object)).not.toHaveProperty('prevResult');
    try {
      decodeAnyRequest(JSON.stringify({ ...req, command: 'CHECK' }));
      throw new Error('expected a CniError');
    } catch (e) {
      expect(e).toBeInstanceOf(CniError);
      expect((e as CniError).code).toBe(7);
      expect((e as CniError).message).toMatch(/"prevResult\.ips\[0\]"/);
    }
  });

  it('clientConf takes the socket and timeout as parseNetConf does, with the same messages', () => {
    expect(clientConf(JSON.stringify(CONF))).toEqual({ socket: '/run/margay/cni.sock', timeoutSeconds: 60, cniVersion: '0.4.0' });
    expect(clientConf(JSON.stringify({ socket: '/s', timeoutSeconds: 2, cniVersion: '9' }))).toEqual({ socket: '/s', timeoutSeconds: 2, cniVersion: '1.0.0' });
    for (const extra of [{ socket: 'rel' }, { socket: null, timeoutSeconds: -1 }, { timeoutSeconds: '5' }]) {
      const conf = JSON.stringify({ ...CONF, ...extra });
      let agentMsg = '';
      try { parseNetConf(conf); } catch (e) { agentMsg = (e as Error).message; }
      expect(agentMsg).not.toBe('');
      expect(() => clientConf(conf)).toThrow(agentMsg);
    }
  });

  it('decodeRawResponse: the raw answer, an older agent\'s structured error, or 105', () => {
    expect(decodeRawResponse('{"v":2,"exit":0,"stdout":"","agentMs":1}')).toMatchObject({ exit: 0, stdout: '' });
    expect(decodeRawResponse('{"ok":false,"error":{"code":105,"msg":"m"},"agentMs":0}')).toEqual({ error: { code: 105, msg: 'm' } });
    expect(() => decodeRawResponse('{"ok":true}')).toThrow(/without "exit" and "stdout"/);
  });
});

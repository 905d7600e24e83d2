/**
 * The plugin executables' own behaviour — the Go margay-cni (dist/bin) and the
 * Node fallback, run as processes — against fake agents on a unix socket: what
 * each says and does when there is no agent, it does not answer in time, or it
 * answers something unreadable; that it forwards the CNI_* environment and stdin
 * verbatim and prints the agent's answer verbatim; and that its VERSION answer is
 * protocol.ts's (the two lists of supported versions cannot drift).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostIfName } from '../../../../agent/cni/names.js';
import { cniPlugin, type CniPlugin } from '../../../../agent/cni/plugin-path.js';
import { SUPPORTED_VERSIONS, versionResult } from '../../../../agent/cni/protocol.js';
import { RAW_WIRE_VERSION, type RawRequest } from '../../../../agent/cni/wire.js';
import { jsonOut, runWithStdin } from '../../../support/spawn-stdin.js';
import { FakeWiring, startFakeCniAgent, type FakeCniAgent } from '../../../support/cni-fakes.js';

interface Run { code: number | null; stdout: string; stderr: string; out: Record<string, unknown> | undefined; ms: number }

async function runPlugin(plugin: CniPlugin, env: Record<string, string | undefined>, stdin: string): Promise<Run> {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const r = await runWithStdin(plugin.argv, clean, stdin, 20_000);
  return { ...r, out: jsonOut(r.stdout, () => undefined) };
}

/** A fake agent: records request lines and answers each with `reply(line)` (undefined: never answers). */
async function fakeAgent(path: string, reply: (line: string) => string | undefined): Promise<{ server: Server; lines: string[]; close: () => Promise<void> }> {
  const lines: string[] = [];
  const held: Socket[] = [];
  const server = createServer((sock) => {
    held.push(sock);
    let buf = '';
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      lines.push(line);
      const r = reply(line);
      if (r !== undefined) sock.end(r);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    server, lines,
    close: () => new Promise<void>((resolve) => { for (const s of held) s.destroy(); server.close(() => resolve()); }),
  };
}

const ADD_ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/ns/a', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

const plugins = [cniPlugin('go'), cniPlugin('node')];

describe.each(plugins.map((p) => [p.kind, p] as const))('margay-cni (%s) as a process', (_kind, plugin) => {
  if (!plugin.built) {
    it.skip(`skipped: needs the build ${plugin.path} (npm run build; the Go one needs golang-go)`, () => undefined);
    return;
  }
  let dir: string;
  const conf = (extra: object = {}): string => JSON.stringify({ cniVersion: '1.0.0', name: 'k8s', type: 'margay-cni', socket: join(dir, 'agent.sock'), ...extra });
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'margay-cni-client-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers VERSION itself, exactly as protocol.ts versionResult() does, for every requested version', async () => {
    const asked: [string, string | undefined][] = [
      ...SUPPORTED_VERSIONS.map((v) => [JSON.stringify({ cniVersion: v }), v] as [string, string]),
      ['{"cniVersion":"9.9.9"}', '9.9.9'], ['{"cniVersion":""}', ''], ['', undefined], ['{}', undefined], ['null', undefined], ['[1]', undefined],
      ['not json', undefined], ['{"cniVersion":5}', undefined], ['{"cniVersion":null}', undefined], ['{"cniVersion":"0.3.1","cniVersion":"0.4.0"}', '0.4.0'],
    ];
    for (const [stdin, requested] of asked) {
      const r = await runPlugin(plugin, { CNI_COMMAND: 'VERSION' }, stdin);
      expect(r.code, stdin).toBe(0);
      expect(r.stdout, stdin).toBe(`${JSON.stringify(versionResult(requested))}\n`);
    }
  });

  it('no socket: code 11, "agent not running", in the config\'s cniVersion', async () => {
    const sock = join(dir, 'absent.sock');
    const r = await runPlugin(plugin, ADD_ENV, conf({ socket: sock, cniVersion: '0.4.0' }));
    expect(r.code).toBe(1);
    expect(r.out).toMatchObject({ cniVersion: '0.4.0', code: 11, msg: `the margay agent is not running on this node: there is no socket at ${sock} (is the margay agent pod running?)` });
  });

  it('a socket path nobody listens on: code 11, "nothing listens"', async () => {
    const sock = join(dir, 'dead.sock');
    writeFileSync(sock, ''); // connect(2) to a non-socket: ECONNREFUSED, as for a dead agent's socket file
    const r = await runPlugin(plugin, ADD_ENV, conf({ socket: sock }));
    expect(r.code).toBe(1);
    expect(r.out).toMatchObject({ cniVersion: '1.0.0', code: 11, msg: `the margay agent is not running on this node: nothing listens on the socket at ${sock} (is the margay agent pod running?)` });
  });

  it('an agent that does not answer within timeoutSeconds: code 11, and the plugin gives up on time', async () => {
    const sock = join(dir, 'silent.sock');
    const agent = await fakeAgent(sock, () => undefined);
    try {
      const r = await runPlugin(plugin, ADD_ENV, conf({ socket: sock, timeoutSeconds: 0.4 }));
      expect(r.code).toBe(1);
      expect(r.out).toMatchObject({ code: 11, msg: `the margay agent at ${sock} did not answer ADD within 0.4 s` });
      expect(r.ms).toBeGreaterThanOrEqual(380);
      expect(r.ms).toBeLessThan(5000);
    } finally {
      await agent.close();
    }
  });

  it('malformed agent replies: code 105 with what was wrong', async () => {
    const cases: [string, RegExp][] = [
      ['garbage\n', /reply that is not JSON/],
      ['\n', /reply that is not JSON/],
      ['[1,2]\n', /reply that is not a JSON object/],
      ['{"v":2,"exit":7,"stdout":""}\n', /reply without "exit" and "stdout"/],
      ['{"v":2,"exit":0}\n', /reply without "exit" and "stdout"/],
      ['{"v":2,"exit":"0","stdout":""}\n', /reply without "exit" and "stdout"/],
    ];
    for (const [i, [reply, msg]] of cases.entries()) {
      const sock = join(dir, `bad${i}.sock`);
      const agent = await fakeAgent(sock, () => reply);
      try {
        const r = await runPlugin(plugin, ADD_ENV, conf({ socket: sock }));
        expect(r.code, reply).toBe(1);
        expect(r.out, reply).toMatchObject({ cniVersion: '1.0.0', code: 105 });
        expect(String(r.out?.msg), reply).toMatch(msg);
      } finally {
        await agent.close();
      }
    }
  });

  it('an agent that closes the connection without answering (restarting): code 11, try again later — not 105', async () => {
    const closed = (sock: string) => new RegExp(`^the margay agent at ${sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} closed the connection without answering ADD \\(is it restarting\\?\\)$`);
    // read the request, then close with no byte
    const sock = join(dir, 'closing.sock');
    const agent = await fakeAgent(sock, () => '');
    try {
      const r = await runPlugin(plugin, ADD_ENV, conf({ socket: sock, cniVersion: '0.4.0' }));
      expect(r.code).toBe(1);
      expect(r.out).toMatchObject({ cniVersion: '0.4.0', code: 11 });
      expect(String(r.out?.msg)).toMatch(closed(sock));
      expect(agent.lines).toHaveLength(1);
    } finally {
      await agent.close();
    }
    // drop every connection at once, the request read or not (EOF, ECONNRESET or EPIPE: the same)
    const sock2 = join(dir, 'dropping.sock');
    const dropper = createServer((c) => { c.on('error', () => undefined); c.destroy(); });
    await new Promise<void>((resolve) => dropper.listen(sock2, resolve));
    try {
      for (let i = 0; i < 3; i++) {
        const r = await runPlugin(plugin, ADD_ENV, conf({ socket: sock2 }));
        expect(r.out, r.stdout).toMatchObject({ cniVersion: '1.0.0', code: 11 });
        expect(String(r.out?.msg)).toMatch(closed(sock2));
      }
    } finally {
      await new Promise<void>((resolve) => dropper.close(() => resolve()));
    }
  });

  it('the real CniServer stopped with an ADD in flight (agent restart): the plugin says 11', async () => {
    const wiring = new FakeWiring();
    const sock = join(dir, 'restarting.sock');
    const agent = await startFakeCniAgent({ socketPath: sock, wiring });
    try {
      wiring.gate(hostIfName('inflight'));
      const pending = runPlugin(plugin, { ...ADD_ENV, CNI_CONTAINERID: 'inflight' }, conf({ socket: sock }));
      for (let i = 0; i < 200 && !wiring.started.includes(hostIfName('inflight')); i++) await new Promise((r) => setTimeout(r, 25));
      expect(wiring.started).toContain(hostIfName('inflight'));
      await agent.server.stop();
      const r = await pending;
      expect(r.code).toBe(1);
      expect(r.out).toMatchObject({ code: 11, msg: expect.stringMatching(/closed the connection without answering ADD/) as unknown });
    } finally {
      await agent.stop();
    }
  });

  it('an agent that only speaks the older structured form: its error is printed (105, version skew)', async () => {
    const sock = join(dir, 'old.sock');
    const agent = await fakeAgent(sock, () => '{"ok":false,"error":{"code":105,"msg":"agent: request is not margay-cni wire version 1"},"agentMs":0.1}\n');
    try {
      const r = await runPlugin(plugin, ADD_ENV, conf({ socket: sock, cniVersion: '0.4.0' }));
      expect(r.code).toBe(1);
      expect(r.out).toEqual({ cniVersion: '0.4.0', code: 105, msg: 'agent: request is not margay-cni wire version 1' });
    } finally {
      await agent.close();
    }
  });

  it('forwards the CNI_* environment (only) and stdin verbatim; prints the answer verbatim with its exit code', async () => {
    const sock = join(dir, 'echo.sock');
    const stdin = `  ${conf({ socket: sock, extra: { a: [1, 'é<&>'] } })}\n\n`;
    for (const exit of [0, 1]) {
      const agent = await fakeAgent(sock, () => `${JSON.stringify({ v: 2, exit, stdout: `{"exactly":"this"}  \n`, agentMs: 1.5 })}\n`);
      try {
        const r = await runPlugin(plugin, { ...ADD_ENV, CNI_ARGS: 'K8S_POD_NAME=x', NOT_CNI: 'secret', MARGAY_CNI_TIMING: undefined }, stdin);
        expect(r.code).toBe(exit);
        expect(r.stdout).toBe('{"exactly":"this"}  \n');
        const req = JSON.parse(agent.lines[0]!) as RawRequest;
        expect(req.v).toBe(RAW_WIRE_VERSION);
        expect(req.stdin).toBe(stdin);
        expect(req.env).toEqual({ ...ADD_ENV, CNI_ARGS: 'K8S_POD_NAME=x' });
      } finally {
        await agent.close();
      }
    }
  });

  it('the config fields it needs itself: not JSON (6), a relative socket or a bad timeout (7), before any connection', async () => {
    const cases: [string, number, RegExp][] = [
      ['{nope', 6, /network config on stdin is not JSON/],
      ['"str"', 6, /network config on stdin is not a JSON object/],
      [conf({ socket: 'relative.sock' }), 7, /"socket" must be an absolute path/],
      [conf({ socket: 5 }), 7, /"socket" must be an absolute path/],
      [conf({ timeoutSeconds: 0 }), 7, /"timeoutSeconds" must be a positive number/],
      [conf({ timeoutSeconds: '3' }), 7, /"timeoutSeconds" must be a positive number/],
    ];
    for (const [stdin, code, msg] of cases) {
      const r = await runPlugin(plugin, ADD_ENV, stdin);
      expect(r.code, stdin).toBe(1);
      expect(r.out, stdin).toMatchObject({ cniVersion: '1.0.0', code });
      expect(String(r.out?.msg), stdin).toMatch(msg);
    }
  });

  describe('against the real CniServer (fake kernel)', () => {
    let agent: FakeCniAgent | undefined;
    beforeAll(async () => { agent = await startFakeCniAgent({ socketPath: join(dir, 'agent.sock') }); });
    afterAll(() => agent?.stop());

    it('CNI_COMMAND missing: the agent says so (4); with no agent the plugin says the agent is not running (11)', async () => {
      const r = await runPlugin(plugin, { ...ADD_ENV, CNI_COMMAND: undefined }, conf());
      expect(r.code).toBe(1);
      expect(r.out).toMatchObject({ code: 4, msg: 'CNI_COMMAND is not set (expected ADD, DEL, CHECK or VERSION)' });
      const none = await runPlugin(plugin, { ...ADD_ENV, CNI_COMMAND: undefined }, conf({ socket: join(dir, 'absent.sock') }));
      expect(none.out).toMatchObject({ code: 11, msg: expect.stringMatching(/agent is not running/) as unknown });
    });

    it('a very large timeoutSeconds is a long wait, not none', async () => {
      const r = await runPlugin(plugin, { ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'big' }, conf({ timeoutSeconds: 1e12 }));
      expect(r.stdout).toBe('');
      expect(r.code).toBe(0);
    });

    it('every bad variable is named in one error (4)', async () => {
      const r = await runPlugin(plugin, { CNI_COMMAND: 'ADD', CNI_IFNAME: 'x'.repeat(16), CNI_NETNS: 'relative', CNI_ARGS: 'novalue' }, conf());
      expect(r.code).toBe(1);
      expect(r.out).toMatchObject({ cniVersion: '1.0.0', code: 4 });
      const msg = String(r.out?.msg);
      for (const bad of ['CNI_CONTAINERID is not set', 'CNI_IFNAME "xxxxxxxxxxxxxxxx" is not a valid interface name', 'CNI_NETNS "relative" is not an absolute path', 'CNI_ARGS: "novalue" is not KEY=VALUE']) {
        expect(msg).toContain(bad);
      }
    });

    it('ADD with a 0.4.0 config and a prevResult: the agent merges and formats (ips[].version, indices shifted)', async () => {
      const prevResult = { cniVersion: '0.4.0', interfaces: [{ name: 'lo0' }], ips: [{ version: '4', address: '192.0.2.9/32', interface: 0 }] };
      const r = await runPlugin(plugin, { ...ADD_ENV, CNI_CONTAINERID: 'p40' }, conf({ cniVersion: '0.4.0', prevResult }));
      expect(r.code, r.stdout).toBe(0);
      expect(r.out).toMatchObject({
        cniVersion: '0.4.0',
        interfaces: [{ name: 'lo0' }, { name: expect.stringMatching(/^mgw/) as unknown }, { name: 'eth0', sandbox: '/ns/a' }],
        ips: [{ version: '4', address: '192.0.2.9/32', interface: 0 }, { version: '4', address: '10.7.0.0/32', interface: 2 }],
      });
      expect((await runPlugin(plugin, { ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'p40' }, conf({ cniVersion: '0.4.0' }))).code).toBe(0);
    });

    it('an agent asked for its stages (CniServerOptions.stages) tells where its share went; the plugin passes them on', async () => {
      const staged = await startFakeCniAgent({ socketPath: join(dir, 'staged.sock'), pools: [{ name: 'v4', spec: { cidr: '10.8.0.0/28', blockSize: 28 } }], stages: true });
      try {
        const r = await runPlugin(plugin, { ...ADD_ENV, CNI_CONTAINERID: 'st1', MARGAY_CNI_TIMING: '1' }, conf({ socket: join(dir, 'staged.sock') }));
        expect(r.code, r.stdout).toBe(0);
        const t = JSON.parse(r.stderr.trim().split('\n').pop()!) as { agentMs: number; agentStages?: Record<string, number> };
        expect(Object.keys(t.agentStages ?? {})).toEqual(expect.arrayContaining(['requestMs', 'netnsMs', 'wiringMs', 'cpuMs', 'runqMs', 'offCpuMs']));
        expect(t.agentStages!.wiringMs).toBeLessThanOrEqual(t.agentMs);
      } finally {
        await staged.stop();
      }
    });

    it('MARGAY_CNI_TIMING=1: its stages, its CPU and the agent\'s share on stderr, stdout unchanged', async () => {
      const r = await runPlugin(plugin, { ...ADD_ENV, CNI_CONTAINERID: 'tm1', MARGAY_CNI_TIMING: '1' }, conf());
      expect(r.code, r.stdout).toBe(0);
      expect(r.out).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: expect.stringMatching(/^10\.7\.0\./) as unknown }] });
      const t = JSON.parse(r.stderr.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(t.client).toBe(plugin.kind);
      for (const k of ['agentMs', 'loaded', 'connected', 'answered', 'done', 'cpu']) expect(typeof t[k], k).toBe('number');
      expect(t.agentStages).toBeUndefined(); // only when the agent is asked for them
      expect(t.agentMs as number).toBeGreaterThan(0);
      expect(t.connected as number).toBeLessThanOrEqual(t.answered as number);
      expect(t.answered as number).toBeLessThanOrEqual(t.done as number);
      expect((await runPlugin(plugin, { ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'tm1' }, conf())).code).toBe(0);
    });
  });
});

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import type { PodEvent } from '../../../../agent/cni/handler.js';
import { CniServer } from '../../../../agent/cni/server.js';
import { cniPlugin, type CniPluginKind } from '../../../../agent/cni/plugin-path.js';
import { sendJsonLine } from '../../../support/line-client.js';
import { FakeWiring, startFakeCniAgent, type FakeCniAgent } from '../../../support/cni-fakes.js';

// Both plugin executables, the Go one (dist/bin/margay-cni) and the Node fallback,
// against the same in-process agent: they must behave the same.
const KINDS: CniPluginKind[] = ['go', 'node'];

describe.each(KINDS.map((k) => cniPlugin(k)).map((p) => [p.kind, p] as const))('margay-cni (%s) ⇄ CniServer (fake kernel)', (_kind, plugin) => {
  if (!plugin.built) {
    it.skip(`skipped: needs the build ${plugin.path} (npm run build; the Go one needs golang-go)`, () => undefined);
    return;
  }
  let agent: FakeCniAgent;
  let dir: string;
  let server: CniServer;
  const wiring = new FakeWiring(['/ns/a', '/ns/b']);
  const events: PodEvent[] = [];
  beforeAll(async () => {
    agent = await startFakeCniAgent({ wiring, pools: [{ name: 'v4', spec: { cidr: '10.5.0.0/30', blockSize: 30 } }, { name: 'v6', spec: { cidr: 'fd05::/126', blockSize: 126 } }] });
    server = agent.server;
    dir = agent.dir!;
    server.on('pod', (e) => events.push(e));
  });
  afterAll(() => agent.stop());

  // The server runs in this process: the plugin must be spawned asynchronously.
  async function cni(command: string, id: string, opts: { netns?: string; conf?: object; raw?: string; ifName?: string } = {}): Promise<{ code: number | null; out: Record<string, unknown> | undefined }> {
    const conf = { cniVersion: '1.0.0', name: 'k8s', type: 'margay-cni', socket: server.socketPath, ...opts.conf };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_IFNAME: opts.ifName ?? 'eth0', CNI_PATH: '/usr/lib/cni', CNI_ARGS: `K8S_POD_NAMESPACE=ns;K8S_POD_NAME=${id}` };
    if (opts.netns !== '') env.CNI_NETNS = opts.netns ?? '/ns/a';
    const child = spawn(plugin.argv[0]!, plugin.argv.slice(1), { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stdin.end(opts.raw ?? JSON.stringify(conf));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(timer);
    return { code, out: stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined };
  }

  it('ADD returns interfaces, one IPv4 and one IPv6 address, routes; a retried ADD returns the same', async () => {
    const a = (await cni('ADD', 'c1'));
    expect(a.code).toBe(0);
    expect(a.out).toMatchObject({
      cniVersion: '1.0.0',
      interfaces: [{ name: expect.stringMatching(/^mgw/) as unknown }, { name: 'eth0', sandbox: '/ns/a' }],
      ips: [{ address: '10.5.0.0/32', interface: 1 }, { address: 'fd05::/128', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
    });
    expect((await cni('ADD', 'c1'))).toEqual(a);
    expect(events.filter((e) => e.containerId === 'c1').map((e) => [e.type, e.pod?.name, e.hostIf])).toEqual([['added', 'c1', (a.out!.interfaces as { name: string }[])[0]!.name], ['added', 'c1', (a.out!.interfaces as { name: string }[])[0]!.name]]);
  });

  it('CHECK passes after ADD, fails for an unknown container (3) and when the interface is gone (103)', async () => {
    const add = (await cni('ADD', 'c2'));
    expect((await cni('CHECK', 'c2', { conf: { prevResult: add.out } })).code).toBe(0);
    expect((await cni('CHECK', 'nope')).out).toMatchObject({ code: 3, msg: expect.stringMatching(/container nope \(eth0\) is unknown to margay/) as unknown });
    const bad = { ...add.out, ips: [{ address: '10.9.9.9/32' }] };
    expect((await cni('CHECK', 'c2', { conf: { prevResult: bad } })).out).toMatchObject({ code: 103, msg: expect.stringMatching(/prevResult does not list 10\.5\.0\.1\/32/) as unknown });
    wiring.links.delete((add.out!.interfaces as { name: string }[])[0]!.name);
    expect((await cni('CHECK', 'c2')).out).toMatchObject({ code: 103, msg: expect.stringMatching(/host interface mgw\w+ does not exist/) as unknown });
    expect((await cni('DEL', 'c2')).code).toBe(0);
  });

  it('DEL twice, DEL of an unknown container and DEL without CNI_NETNS all succeed', async () => {
    expect((await cni('DEL', 'c1')).code).toBe(0);
    expect((await cni('DEL', 'c1')).code).toBe(0);
    expect((await cni('DEL', 'never-added', { netns: '' })).code).toBe(0);
    expect((await cni('CHECK', 'c1')).out).toMatchObject({ code: 3 });
  });

  it('reports pool exhaustion (100); DEL gives the addresses back', async () => {
    const got: { code: number | null }[] = [];
    for (const id of ['e1', 'e2', 'e3', 'e4']) got.push(await cni('ADD', id));
    expect(got.every((g) => g.code === 0)).toBe(true);
    const r = (await cni('ADD', 'e5'));
    expect(r.out).toMatchObject({ code: 100, msg: expect.stringMatching(/IPv4 pools exhausted: no free address in v4 \(10.5.0.0\/30\) for node n1/) as unknown });
    for (const id of ['e1', 'e2', 'e3', 'e4']) expect((await cni('DEL', id)).code).toBe(0);
    expect((await cni('ADD', 'e5')).code).toBe(0);
    expect((await cni('DEL', 'e5')).code).toBe(0);
  });

  it('rolls back the allocation when wiring fails (102)', async () => {
    wiring.failNext = true;
    const r = (await cni('ADD', 'w1'));
    expect(r.out).toMatchObject({ code: 102, msg: expect.stringMatching(/wiring eth0 of container w1 .* File exists/) as unknown });
    expect(await agent.store.get('handle', 'k8s.w1.eth0')).toBeUndefined();
  });

  it('reports a missing network namespace as an unknown container (3)', async () => {
    expect((await cni('ADD', 'x1', { netns: '/ns/gone' })).out).toMatchObject({ code: 3, msg: 'container x1: network namespace /ns/gone does not exist' });
  });

  it('answers 0.4.0 configs with 0.4.0 results and refuses CHECK for 0.3.1 (1)', async () => {
    const r = (await cni('ADD', 'v1', { conf: { cniVersion: '0.4.0' } }));
    expect(r.out).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4' }, { version: '6' }] });
    expect((await cni('CHECK', 'v1', { conf: { cniVersion: '0.3.1' } })).out).toMatchObject({ code: 1 });
    expect((await cni('DEL', 'v1')).code).toBe(0);
  });

  it('answers VERSION without the agent', async () => {
    const r = (await cni('VERSION', '', { raw: '{"cniVersion":"1.0.0"}', conf: { socket: '/nonexistent/x.sock' } }));
    expect(r).toEqual({ code: 0, out: { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] } });
  });

  it('says so when the agent is not running (11)', async () => {
    const r = (await cni('ADD', 'z1', { conf: { socket: join(dir, 'absent.sock') } }));
    expect(r.code).toBe(1);
    expect(r.out).toMatchObject({ code: 11, msg: `the margay agent is not running on this node: there is no socket at ${join(dir, 'absent.sock')} (is the margay agent pod running?)` });
  });

  it('rejects bad input before talking to the agent (4, 6, 7)', async () => {
    expect((await cni('ADD', 'y1', { netns: '' })).out).toMatchObject({ code: 4, msg: expect.stringMatching(/CNI_NETNS is not set/) as unknown });
    expect((await cni('ADD', 'y1', { raw: 'not json' })).out).toMatchObject({ code: 6 });
    expect((await cni('ADD', 'y1', { conf: { name: '' } })).out).toMatchObject({ code: 7 });
  });

  it('still answers the structured (wire v1) form of plugins installed before the raw form', async () => {
    const ask = async (req: object): Promise<Record<string, unknown>> => JSON.parse(await sendJsonLine(server.socketPath, req)) as Record<string, unknown>;
    const add = await ask({ v: 1, command: 'ADD', containerId: 'old1', netns: '/ns/b', ifName: 'eth0', args: {}, network: 'k8s', cniVersion: '1.0.0' });
    expect(add).toMatchObject({ ok: true, result: { cniVersion: '1.0.0', ips: [{ address: expect.stringMatching(/^10\.5\.0\./) as unknown }, { address: expect.stringMatching(/^fd05::/) as unknown }] } });
    expect(await ask({ v: 1, command: 'DEL', containerId: 'old1', ifName: 'eth0', args: {}, network: 'k8s', cniVersion: '1.0.0' })).toMatchObject({ ok: true });
    expect(await ask({ v: 9 })).toMatchObject({ ok: false, error: { code: 105 } });
  });

  it('refuses to start a second server on a live socket', async () => {
    const ipam = new Ipam({ store: agent.store, node: 'n1', pools: [] });
    await expect(new CniServer({ socketPath: server.socketPath, ipam, wiring }).start()).rejects.toThrow(/already serving/);
  });
});

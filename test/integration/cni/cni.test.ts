import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { cniPlugin, type CniPluginKind } from '../../../agent/cni/plugin-path.js';
import { hostIfName } from '../../../agent/cni/names.js';
import {
  addPodNs, createCniNode, destroyCniNode, execChain, execPlugin, ip, netnsExec, run,
  NODE_ADDR, NODE_ADDR6, type CniNode, type ConfList, type Invocation,
} from './harness.js';

// The plugin a node would run (Go when built), with both wirings; the Node
// fallback once more with netlink wiring when the Go one is the default.
const plugin = cniPlugin();
const built = plugin.built && cniPlugin('node').built; // the Node build holds the CNI server too
const SUITES: [string, CniPluginKind][] = [['netlink', plugin.kind], ['ip', plugin.kind], ...(plugin.kind === 'go' ? [['netlink', 'node'] as [string, CniPluginKind]] : [])];
if (!built) process.stderr.write(`test/integration/cni: skipped, ${plugin.path} missing (run npm run build)\n`);
if (needsRoot) process.stderr.write(`test/integration/cni: skipped, ${ROOT_SKIP_REASON}\n`);

// 8 IPv4 and 8 IPv6 addresses: small enough to exhaust in a test.
const POOLS = [
  { name: 'v4', spec: { cidr: '10.66.0.0/29', blockSize: 29 } },
  { name: 'v6', spec: { cidr: 'fd66::/125', blockSize: 125 } },
];

describe.skipIf(needsRoot || !built).each(SUITES)(`margay-cni against real namespaces, %s wiring, %s plugin (${ROOT_SKIP_REASON})`, (wiring, kind) => {
  let node: CniNode | undefined;
  const n = (): CniNode => node as CniNode;
  const conf = (extra: object = {}): string => JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'margay-cni', socket: n().socket, ...extra });
  const cni = (inv: Invocation, extra: object = {}, raw?: string) => execPlugin(n(), 'margay-cni', inv, raw ?? conf(extra));
  const nsPath = (ns: string): string => `/var/run/netns/${ns}`;
  const pod = (id: string, ns: string, extra: Partial<Invocation> = {}): Invocation => ({ command: 'ADD', containerId: id, netns: nsPath(ns), args: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${id}`, ...extra });

  beforeAll(async () => { node = await createCniNode(POOLS, { wiring: wiring as 'netlink' | 'ip', plugin: kind }); });
  afterAll(async () => { await destroyCniNode(node); });

  it('VERSION lists the supported versions', async () => {
    const r = await cni({ command: 'VERSION', containerId: '' }, {}, '{"cniVersion":"1.0.0"}');
    expect(r.code).toBe(0);
    expect(r.out).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  });

  it('ADD wires a dual-stack pod that reaches its node, CHECK passes, DEL removes everything', async () => {
    const ns = await addPodNs(n(), 'p1');
    const add = await cni(pod('c1', ns));
    expect(add.code, JSON.stringify(add.out)).toBe(0);
    const host = hostIfName('c1');
    expect(add.out).toMatchObject({
      cniVersion: '1.0.0',
      interfaces: [{ name: host, mac: 'ee:ee:ee:ee:ee:ee' }, { name: 'eth0', sandbox: nsPath(ns) }],
      ips: [{ address: '10.66.0.0/32', gateway: '169.254.1.1', interface: 1 }, { address: 'fd66::/128', gateway: 'fe80::1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }, { dst: '::/0', gw: 'fe80::1' }],
    });
    // node side
    expect((await ip(n().nodeNs, 'route', 'show', '10.66.0.0/32')).stdout).toMatch(new RegExp(`10\\.66\\.0\\.0 dev ${host} proto 81 scope link`));
    expect((await ip(n().nodeNs, '-6', 'route', 'show', 'fd66::/128')).stdout).toContain(`dev ${host} proto 81`);
    expect((await netnsExec(n().nodeNs, ['cat', `/proc/sys/net/ipv4/conf/${host}/proxy_arp`])).stdout.trim()).toBe('1');
    expect((await ip(n().nodeNs, '-6', 'neigh', 'show', 'proxy')).stdout).toContain(`fe80::1 dev ${host} proxy`);
    // pod side
    expect((await ip(ns, '-4', 'addr', 'show', 'dev', 'eth0')).stdout).toContain('inet 10.66.0.0/32');
    expect((await ip(ns, 'route', 'show', 'default')).stdout).toMatch(/default via 169\.254\.1\.1 dev eth0 .*onlink/);
    expect((await ip(ns, '-6', 'route', 'show', 'default')).stdout).toContain('default via fe80::1 dev eth0');
    // traffic both ways, both families
    await netnsExec(ns, ['ping', '-c1', '-W3', NODE_ADDR]);
    await netnsExec(ns, ['ping', '-c1', '-W3', NODE_ADDR6]);
    await netnsExec(n().nodeNs, ['ping', '-c1', '-W3', '10.66.0.0']);
    // the agent heard about it, with the host interface name policy needs
    expect(n().lines.some((l) => (l.event as { type?: string; hostIf?: string } | undefined)?.type === 'added' && (l.event as { hostIf: string }).hostIf === host)).toBe(true);

    expect((await cni({ ...pod('c1', ns), command: 'CHECK' }, { prevResult: add.out })).code).toBe(0);
    const del = await cni({ ...pod('c1', ns), command: 'DEL' });
    expect(del.code).toBe(0);
    expect((await ip(n().nodeNs, 'link', 'show')).stdout).not.toContain(host);
    expect((await ip(n().nodeNs, 'route', 'show', 'proto', '81')).stdout).toBe('');
    expect((await ip(ns, 'link', 'show')).stdout).not.toContain('eth0');
  });

  it('a repeated ADD returns the same addresses and leaves the pod working; a repeated DEL succeeds', async () => {
    const ns = await addPodNs(n(), 'p2');
    const a = await cni(pod('c2', ns));
    const b = await cni(pod('c2', ns));
    expect(a.code).toBe(0);
    expect(b.out).toEqual(a.out);
    await netnsExec(ns, ['ping', '-c1', '-W3', NODE_ADDR]);
    expect((await cni({ ...pod('c2', ns), command: 'CHECK' })).code).toBe(0);
    expect((await cni({ ...pod('c2', ns), command: 'DEL' })).code).toBe(0);
    expect((await cni({ ...pod('c2', ns), command: 'DEL' })).code).toBe(0);
  });

  it('out of order: DEL before ADD succeeds, CHECK before ADD and after DEL is "unknown container" (3)', async () => {
    const ns = await addPodNs(n(), 'p3');
    expect((await cni({ ...pod('c3', ns), command: 'DEL' })).code).toBe(0);
    expect((await cni({ ...pod('c3', ns), command: 'CHECK' })).out).toMatchObject({ code: 3 });
    expect((await cni(pod('c3', ns))).code).toBe(0);
    expect((await cni({ ...pod('c3', ns), command: 'DEL' })).code).toBe(0);
    expect((await cni({ ...pod('c3', ns), command: 'CHECK' })).out).toMatchObject({ code: 3, msg: expect.stringContaining('is unknown to margay') as unknown });
  });

  it('DEL succeeds when the namespace is already gone, and gives the address back', async () => {
    const ns = await addPodNs(n(), 'p4');
    const a = await cni(pod('c4', ns));
    expect(a.code).toBe(0);
    await run(['ip', 'netns', 'delete', ns]);
    expect((await cni({ ...pod('c4', ns), command: 'DEL' })).code).toBe(0);
    expect((await cni({ ...pod('c4', ns), command: 'DEL', netns: undefined, env: { CNI_NETNS: undefined } })).code).toBe(0);
    const ns2 = await addPodNs(n(), 'p4b');
    const b = await cni(pod('c4b', ns2));
    expect((b.out?.ips as { address: string }[])[0]!.address).toBe((a.out?.ips as { address: string }[])[0]!.address);
    expect((await cni({ ...pod('c4b', ns2), command: 'DEL' })).code).toBe(0);
  });

  it('CHECK reports what drifted (103): a default route deleted by hand', async () => {
    const ns = await addPodNs(n(), 'p5');
    expect((await cni(pod('c5', ns))).code).toBe(0);
    await ip(ns, 'route', 'del', 'default');
    const r = await cni({ ...pod('c5', ns), command: 'CHECK' });
    expect(r.out).toMatchObject({ code: 103, msg: expect.stringContaining('no IPv4 default route via 169.254.1.1') as unknown });
    expect((await cni({ ...pod('c5', ns), command: 'DEL' })).code).toBe(0);
  });

  it('every error case, in the spec\'s JSON form with a message a person understands', async () => {
    const ns = await addPodNs(n(), 'p6');
    const cases: { what: string; run: () => Promise<{ code: number | null; out: Record<string, unknown> | undefined }>; code: number; msg: RegExp }[] = [
      { what: 'missing CNI_NETNS', run: () => cni({ command: 'ADD', containerId: 'e1' }), code: 4, msg: /CNI_NETNS is not set/ },
      { what: 'missing CNI_CONTAINERID', run: () => cni({ command: 'ADD', containerId: '', netns: nsPath(ns) }), code: 4, msg: /CNI_CONTAINERID is not set/ },
      { what: 'bad CNI_IFNAME', run: () => cni({ command: 'ADD', containerId: 'e1', netns: nsPath(ns), ifName: 'x'.repeat(16) }), code: 4, msg: /not a valid interface name/ },
      { what: 'unknown command', run: () => cni({ command: 'GC' as 'ADD', containerId: 'e1', netns: nsPath(ns) }), code: 4, msg: /CNI_COMMAND "GC" is not supported/ },
      { what: 'namespace does not exist', run: () => cni(pod('e1', `${n().prefix}nope`)), code: 3, msg: /network namespace \/var\/run\/netns\/mg\w+-nope does not exist/ },
      { what: 'config not JSON', run: () => cni(pod('e1', ns), {}, '{nope'), code: 6, msg: /not JSON/ },
      { what: 'config without name', run: () => cni(pod('e1', ns), { name: '' }), code: 7, msg: /"name" must be a non-empty string/ },
      { what: 'unsupported cniVersion', run: () => cni(pod('e1', ns), { cniVersion: '9.9.9' }), code: 1, msg: /cniVersion "9.9.9" is not supported/ },
      { what: 'agent not running', run: () => cni(pod('e1', ns), { socket: join(n().dir, 'run', 'absent.sock') }), code: 11, msg: /margay agent is not running on this node: there is no socket at/ },
    ];
    for (const c of cases) {
      const r = await c.run();
      expect(r.code, c.what).toBe(1);
      expect(r.out, c.what).toMatchObject({ cniVersion: expect.any(String) as unknown, code: c.code });
      expect(String(r.out?.msg), c.what).toMatch(c.msg);
    }
    // nothing was allocated by any of them
    expect((await ip(n().nodeNs, 'route', 'show', 'proto', '81')).stdout).toBe('');
  });

  it('pool exhausted (100) names the pool; DEL makes room again', async () => {
    const ns = await addPodNs(n(), 'p7');
    const ids = Array.from({ length: 8 }, (_, i) => `x${i}`);
    for (const [i, id] of ids.entries()) {
      const r = await cni(pod(id, ns, { ifName: `net${i}` }));
      expect(r.code, JSON.stringify(r.out)).toBe(0);
    }
    const full = await cni(pod('x8', ns, { ifName: 'net8' }));
    expect(full.out).toMatchObject({ code: 100, msg: expect.stringMatching(/IPv4 pools exhausted: no free address in v4 \(10\.66\.0\.0\/29\) for node node1/) as unknown });
    expect((await cni({ ...pod('x3', ns, { ifName: 'net3' }), command: 'DEL' })).code).toBe(0);
    expect((await cni(pod('x8', ns, { ifName: 'net8' }))).code).toBe(0);
    for (const [i, id] of [...ids.entries(), [8, 'x8'] as const]) {
      expect((await cni({ ...pod(id, ns, { ifName: `net${i}` }), command: 'DEL' })).code).toBe(0);
    }
  });

  it('chains with portmap (conflist ADD → CHECK → DEL, prevResult threaded) and the port mapping carries traffic', async () => {
    const ns = await addPodNs(n(), 'p8');
    const list: ConfList = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      plugins: [
        { type: 'margay-cni', socket: n().socket },
        { type: 'portmap', capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }, snat: true },
      ],
    };
    const inv = pod('c8', ns);
    const add = await execChain(n(), list, inv);
    expect(add.code, `${JSON.stringify(add.out)} ${add.stderr}`).toBe(0);
    // portmap passes margay's result through
    expect(add.out).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.66.0.0/32' }, { address: 'fd66::/128' }] });
    const nat = (await netnsExec(n().nodeNs, ['iptables', '-t', 'nat', '-S'])).stdout;
    expect(nat).toMatch(/--to-destination 10\.66\.0\.0:80/);
    // a server in the pod on port 80, reached from the fabric through the node's port 8080
    const srv = (await import('node:child_process')).spawn('ip', ['netns', 'exec', ns, 'socat', 'TCP-LISTEN:80,reuseaddr,fork', 'SYSTEM:echo hello-from-pod'], { stdio: 'ignore' });
    try {
      let answer = '';
      for (let i = 0; i < 20 && !answer.includes('hello'); i++) {
        answer = (await netnsExec(n().fabricNs, ['nc', '-w', '2', NODE_ADDR, '8080'], { input: '', timeoutMs: 5000 }).catch(() => ({ stdout: '' }))).stdout;
        if (!answer.includes('hello')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer).toContain('hello-from-pod');
    } finally {
      srv.kill('SIGTERM');
    }
    const check = await execChain(n(), list, { ...inv, command: 'CHECK' }, add.out);
    if (check.code !== 0) {
      // Debian's portmap 1.1.1 CHECK looks for ip6tables rules it never made
      // (containernetworking/plugins#819, fixed upstream later): margay-cni's CHECK
      // must have passed (it runs first); only portmap may fail, with that message.
      expect(check.plugin, JSON.stringify(check.out)).toBe('portmap');
      expect(String(check.out?.msg)).toMatch(/could not check ipv6 dnat/);
      process.stderr.write('cni chain: portmap CHECK hit containernetworking/plugins#819 (known bug in 1.1.1); margay-cni CHECK passed\n');
    }
    const del = await execChain(n(), list, { ...inv, command: 'DEL' }, add.out);
    expect(del.code, JSON.stringify(del.out)).toBe(0);
    expect((await netnsExec(n().nodeNs, ['iptables', '-t', 'nat', '-S'])).stdout).not.toMatch(/10\.66\.0\.0:80/);
    expect((await ip(n().nodeNs, 'link', 'show')).stdout).not.toContain(hostIfName('c8'));
  });

  it('0.4.0 configs get 0.4.0 results (ips[].version)', async () => {
    const ns = await addPodNs(n(), 'p9');
    const r = await cni(pod('c9', ns), { cniVersion: '0.4.0' });
    expect(r.out).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4' }, { version: '6' }] });
    expect((await cni({ ...pod('c9', ns), command: 'DEL' }, { cniVersion: '0.4.0' })).code).toBe(0);
  });
});

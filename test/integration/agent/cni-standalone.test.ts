/**
 * The standalone CNI server (agent/cni/standalone.ts) as the agent's CNI path: a pod
 * without a netconf `mtu` gets the default the pools' tunnels allow over the uplink,
 * and --proc-sys / MARGAY_PROC_SYS / the config's procSys move the per-veth sysctls.
 * One node namespace (uplink up0 to a fabric namespace, default route over it); one
 * server at a time, started and stopped by PID.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cniPlugin, installCniPlugin } from '../../../agent/cni/plugin-path.js';
import { hostIfName } from '../../../agent/cni/names.js';
import type { IpPool } from '../../../agent/ipam/types.js';
import { inNetns, stopProcess } from '../../../agent/lab/exec.js';
import { addNetns, addVethPair, deleteNetns, ip, netnsExec, newRunPrefix } from '../../../agent/lab/netns.js';
import { REPO_ROOT } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { execPlugin, type CniNode, type Invocation } from '../cni/harness.js';

const STANDALONE_JS = join(REPO_ROOT, 'dist', 'agent', 'cni', 'standalone.js');
const plugin = cniPlugin();
const req = requirements({ root: true, built: [STANDALONE_JS, plugin.path], file: import.meta.url });

const VXLAN_POOL: IpPool = { name: 'vx', spec: { cidr: '10.68.0.0/28', blockSize: 28, vxlanMode: 'Always' } };
const IPIP_POOL: IpPool = { name: 'ipip', spec: { cidr: '10.69.0.0/28', blockSize: 28, ipipMode: 'Always' } };

describe.skipIf(req.skip)(`standalone CNI server: default pod MTU and sysctl root (${req.why})`, () => {
  const prefix = newRunPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'margay-cni-standalone-'));
  const node: CniNode = {
    prefix, nodeNs: `${prefix}node`, fabricNs: `${prefix}fab`, dir, socket: join(dir, 'run', 'cni.sock'), cniPath: join(dir, 'bin'),
    plugin, server: undefined as unknown as CniNode['server'], lines: [], namespaces: [],
  };
  let serial = 0;

  /** Starts the server with CONFIG (+ the node's socket and a fresh store); resolves its ready line. */
  async function start(cfg: Record<string, unknown>, args: string[] = [], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
    serial += 1;
    const file = join(dir, `server${serial}.json`);
    writeFileSync(file, JSON.stringify({ socket: node.socket, node: 'node1', storeDir: join(dir, `ipam${serial}`), wiring: 'netlink', ...cfg }));
    const { MARGAY_PROC_SYS: _drop, ...inherited } = process.env;
    node.server = spawn('ip', inNetns(node.nodeNs, [process.execPath, STANDALONE_JS, ...args, file]).slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, MARGAY_LOG_LEVEL: 'warn', ...env },
    });
    let buf = '';
    let err = '';
    node.server.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`CNI server did not get ready in 15 s: ${err}`)), 15_000);
      node.server.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
          buf = buf.slice(nl + 1);
          if (line.ready) { clearTimeout(timer); resolve(line); }
        }
      });
      node.server.once('exit', (c) => { clearTimeout(timer); reject(new Error(`CNI server exited ${c}: ${err}`)); });
    });
  }

  const conf = (extra: object = {}): string => JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'margay-cni', socket: node.socket, ...extra });
  const pod = (id: string, ns: string, command: Invocation['command'] = 'ADD'): Invocation => ({ command, containerId: id, netns: `/var/run/netns/${ns}`, args: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${id}` });
  const linkMtu = async (ns: string, dev: string): Promise<number> => {
    const m = /\bmtu (\d+)/.exec((await ip(ns, 'link', 'show', 'dev', dev)).stdout);
    if (!m) throw new Error(`no mtu for ${dev} in ${ns}`);
    return Number(m[1]);
  };
  async function podNs(name: string): Promise<string> {
    const ns = `${prefix}${name}`;
    await addNetns(ns);
    node.namespaces.push(ns);
    return ns;
  }

  beforeAll(async () => {
    await addNetns(node.nodeNs);
    node.namespaces.push(node.nodeNs);
    await addNetns(node.fabricNs);
    node.namespaces.push(node.fabricNs);
    await addVethPair(node.nodeNs, 'up0', node.fabricNs, 'dn0');
    await ip(node.nodeNs, 'addr', 'add', '192.168.78.2/24', 'dev', 'up0');
    await ip(node.fabricNs, 'addr', 'add', '192.168.78.1/24', 'dev', 'dn0');
    await ip(node.nodeNs, 'route', 'add', 'default', 'via', '192.168.78.1');
    mkdirSync(node.cniPath);
    installCniPlugin(node.cniPath, plugin);
  });
  afterEach(async () => {
    if (node.server) await stopProcess(node.server);
    node.server = undefined as unknown as CniNode['server'];
  });
  afterAll(async () => {
    if (node.server) await stopProcess(node.server);
    for (const ns of node.namespaces) await deleteNetns(ns).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a VXLAN pool over the default route\'s device (1500): pods without a netconf mtu get 1450; a netconf mtu still wins', async () => {
    const ready = await start({ pools: [VXLAN_POOL] });
    expect(ready).toMatchObject({ defaultMtu: 1450, uplink: 'up0' });
    const ns = await podNs('vx1');
    const add = await execPlugin(node, 'margay-cni', pod('vx1', ns), conf());
    expect(add.code, JSON.stringify(add.out) + add.stderr).toBe(0);
    expect(await linkMtu(ns, 'eth0')).toBe(1450);
    expect(await linkMtu(node.nodeNs, hostIfName('vx1'))).toBe(1450);
    const ns2 = await podNs('vx2');
    const add2 = await execPlugin(node, 'margay-cni', pod('vx2', ns2), conf({ mtu: 1400 }));
    expect(add2.code, JSON.stringify(add2.out) + add2.stderr).toBe(0);
    expect(await linkMtu(ns2, 'eth0')).toBe(1400);
    expect((await execPlugin(node, 'margay-cni', pod('vx1', ns, 'DEL'), conf())).code).toBe(0);
    expect((await execPlugin(node, 'margay-cni', pod('vx2', ns2, 'DEL'), conf({ mtu: 1400 }))).code).toBe(0);
  });

  it.each(['netlink', 'ip'] as const)('%s wiring: an IPIP pool over a named uplink of MTU 9000 gives 8980; --proc-sys moves the per-veth sysctls (the node namespace keeps its own)', async (wiring) => {
    await ip(node.nodeNs, 'link', 'set', 'dev', 'up0', 'mtu', '9000');
    const root = join(dir, `procsys-${wiring}`);
    const id = `ip${wiring}`;
    const hostIf = hostIfName(id);
    for (const d of ['ipv4/conf', 'ipv4/neigh', 'ipv6/conf', 'ipv6/neigh']) mkdirSync(join(root, 'net', d, hostIf), { recursive: true });
    // the config's procSys is overridden by MARGAY_PROC_SYS, and that by --proc-sys
    const ready = await start({ pools: [IPIP_POOL], uplink: 'up0', procSys: '/nonexistent-config', wiring }, ['--proc-sys', root], { MARGAY_PROC_SYS: '/nonexistent-env' });
    expect(ready).toMatchObject({ defaultMtu: 8980, uplink: 'up0' });
    const ns = await podNs(id);
    const add = await execPlugin(node, 'margay-cni', pod(id, ns), conf());
    expect(add.code, JSON.stringify(add.out) + add.stderr).toBe(0);
    expect(await linkMtu(ns, 'eth0')).toBe(8980);
    const at = (p: string): string => readFileSync(join(root, 'net', p), 'utf8');
    expect(at(`ipv4/neigh/${hostIf}/proxy_delay`)).toBe('0');
    // the netlink wiring sets proxy_arp and forwarding through netlink (IFLA_INET_CONF), the ip wiring as files
    if (wiring === 'ip') {
      expect(at(`ipv4/conf/${hostIf}/proxy_arp`)).toBe('1');
      expect(at(`ipv4/conf/${hostIf}/forwarding`)).toBe('1');
    }
    // written there, not in the node namespace's own /proc/sys (the kernel's default stays)
    expect((await netnsExec(node.nodeNs, ['sysctl', '-n', `net.ipv4.neigh.${hostIf}.proxy_delay`])).stdout.trim()).not.toBe('0');
    expect((await execPlugin(node, 'margay-cni', pod(id, ns, 'DEL'), conf())).code).toBe(0);
  });

  it('MARGAY_PROC_SYS without net/ipv4 under it: the server refuses to start and says why', async () => {
    await expect(start({ pools: [VXLAN_POOL] }, [], { MARGAY_PROC_SYS: join(dir, 'empty') })).rejects.toThrow(/net\/ipv4/);
  });
});

/**
 * A node namespace with a CNI server in it, and a minimal container runtime that
 * calls plugins the way containerd does (binary found in CNI_PATH, CNI_* env,
 * config on stdin, a conflist chain with prevResult). Shared by the CNI
 * integration tests and the CNI benchmark.
 *
 * Namespaces: <prefix>node (the node, with an uplink to <prefix>fab, which gives
 * it a default route as real nodes have: proxy ARP needs a route to 169.254.1.1),
 * and pod namespaces created by the caller. Every process runs inside them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cniPlugin, installCniPlugin, type CniPlugin, type CniPluginKind } from '../../../agent/cni/plugin-path.js';
import { inNetns, run, stopProcess } from '../../../agent/lab/exec.js';
import { addNetns, addVethPair, deleteNetns, ip, netnsExec, newRunPrefix } from '../../../agent/lab/netns.js';
import type { IpPool } from '../../../agent/ipam/types.js';
import { jsonOut, runWithStdin } from '../../support/spawn-stdin.js';

/** The repository root, whether this file runs from test/ (vitest) or dist/test/ (bench). */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}
const REPO_ROOT = repoRoot();

export const NODE_ADDR = '192.168.77.2';
export const FABRIC_ADDR = '192.168.77.1';
export const NODE_ADDR6 = 'fd77:77::2';
export const FABRIC_ADDR6 = 'fd77:77::1';

export interface CniNode {
  prefix: string;
  nodeNs: string;
  fabricNs: string;
  dir: string;
  socket: string;
  cniPath: string;
  /** the margay-cni in cniPath: Go (dist/bin) when built, else Node, or as asked */
  plugin: CniPlugin;
  server: ChildProcess;
  /** JSON lines the server printed (ready, pod events). */
  lines: Record<string, unknown>[];
  namespaces: string[];
}

export interface PluginResult {
  code: number | null;
  out: Record<string, unknown> | undefined;
  stderr: string;
  ms: number;
  /** In a chain: the plugin type that produced this result. */
  plugin?: string;
}

export type WiringKind = 'netlink' | 'ip';

/** `kernelDad`: leave the node namespace's accept_dad at the kernel's default (1), as on a real node. */
export interface CniNodeOptions { strictAffinity?: boolean; wiring?: WiringKind; storeDir?: string; plugin?: CniPluginKind; kernelDad?: boolean }

/** Creates the node, writes CNI_PATH (margay-cni, Go or Node, + Debian's plugins) and starts the CNI server. */
export async function createCniNode(pools: IpPool[], opts: CniNodeOptions = {}): Promise<CniNode> {
  const prefix = newRunPrefix();
  const nodeNs = `${prefix}node`;
  const fabricNs = `${prefix}fab`;
  const dir = mkdtempSync(join(tmpdir(), 'margay-cni-it-'));
  const node: CniNode = { prefix, nodeNs, fabricNs, dir, socket: join(dir, 'run', 'cni.sock'), cniPath: join(dir, 'bin'), plugin: cniPlugin(opts.plugin), server: undefined as unknown as ChildProcess, lines: [], namespaces: [] };
  node.namespaces.push(nodeNs, fabricNs);
  try {
    await setUp(node, pools, opts);
  } catch (e) {
    await destroyCniNode(node);
    throw e;
  }
  return node;
}

async function setUp(node: CniNode, pools: IpPool[], opts: CniNodeOptions): Promise<void> {
  const { nodeNs, fabricNs, dir } = node;
  await addNetns(nodeNs);
  await addNetns(fabricNs);
  await addVethPair(nodeNs, 'up0', fabricNs, 'dn0');
  const dad = opts.kernelDad === true ? [] : ['net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0'];
  await netnsExec(nodeNs, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', ...dad]);
  await netnsExec(fabricNs, ['sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
  await ip(nodeNs, 'addr', 'add', `${NODE_ADDR}/24`, 'dev', 'up0');
  await ip(nodeNs, 'addr', 'add', `${NODE_ADDR6}/64`, 'dev', 'up0', 'nodad');
  await ip(fabricNs, 'addr', 'add', `${FABRIC_ADDR}/24`, 'dev', 'dn0');
  await ip(fabricNs, 'addr', 'add', `${FABRIC_ADDR6}/64`, 'dev', 'dn0', 'nodad');
  await ip(nodeNs, 'route', 'add', 'default', 'via', FABRIC_ADDR);
  await ip(nodeNs, 'route', 'add', 'default', 'via', FABRIC_ADDR6);

  mkdirSync(node.cniPath);
  if (!node.plugin.built) throw new Error(`${node.plugin.path} missing: run npm run build`);
  installCniPlugin(node.cniPath, node.plugin);
  for (const p of ['portmap', 'loopback']) symlinkSync(`/usr/lib/cni/${p}`, join(node.cniPath, p));

  const cfg = join(dir, 'server.json');
  writeFileSync(cfg, JSON.stringify({ socket: node.socket, node: 'node1', storeDir: opts.storeDir ?? join(dir, 'ipam'), pools, strictAffinity: opts.strictAffinity === true, wiring: opts.wiring ?? 'netlink' }));
  node.server = spawn('ip', inNetns(nodeNs, [process.execPath, join(REPO_ROOT, 'dist', 'agent', 'cni', 'standalone.js'), cfg]).slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MARGAY_LOG_LEVEL: 'warn' } });
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('CNI server did not get ready in 15 s')), 15_000);
    node.server.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    node.server.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        node.lines.push(line);
        if (line.ready) { clearTimeout(timer); resolve(); }
      }
    });
    node.server.once('exit', (c) => { clearTimeout(timer); reject(new Error(`CNI server exited ${c}`)); });
  });
}

export async function destroyCniNode(node: CniNode | undefined): Promise<void> {
  if (!node) return;
  if (node.server) await stopProcess(node.server);
  // pods' host veths go with the node namespace; pod namespaces are deleted by name
  for (const ns of node.namespaces) await deleteNetns(ns);
  rmSync(node.dir, { recursive: true, force: true });
}

export async function addPodNs(node: CniNode, name: string): Promise<string> {
  const ns = `${node.prefix}${name}`;
  await addNetns(ns);
  node.namespaces.push(ns);
  return ns;
}

export interface Invocation {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
  containerId: string;
  netns?: string;
  ifName?: string;
  args?: string;
  env?: Record<string, string | undefined>;
}

/** Runs one plugin binary from CNI_PATH inside the node namespace, as a runtime does. */
export function execPlugin(node: CniNode, type: string, inv: Invocation, stdin: string): Promise<PluginResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: inv.command, CNI_CONTAINERID: inv.containerId, CNI_IFNAME: inv.ifName ?? 'eth0', CNI_PATH: node.cniPath };
  if (inv.netns !== undefined) env.CNI_NETNS = inv.netns;
  if (inv.args !== undefined) env.CNI_ARGS = inv.args;
  for (const [k, v] of Object.entries(inv.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return runWithStdin(['ip', 'netns', 'exec', node.nodeNs, join(node.cniPath, type)], env, stdin, 60_000)
    .then((r) => ({ code: r.code, out: jsonOut(r.stdout, (raw) => ({ unparsed: raw })), stderr: r.stderr, ms: r.ms }));
}

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

/** ADD/CHECK/DEL of a conflist chain, as libcni does it (DEL in reverse; prevResult threaded). */
export async function execChain(node: CniNode, list: ConfList, inv: Invocation, cached?: Record<string, unknown>): Promise<PluginResult> {
  const plugins = inv.command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
  let prev = inv.command === 'ADD' ? undefined : cached;
  let last: PluginResult = { code: 0, out: undefined, stderr: '', ms: 0 };
  for (const p of plugins) {
    const conf = { ...p, cniVersion: list.cniVersion, name: list.name, ...(prev ? { prevResult: prev } : {}) };
    last = { ...(await execPlugin(node, String(p.type), inv, JSON.stringify(conf))), plugin: String(p.type) };
    if (last.code !== 0) return last;
    if (inv.command === 'ADD') prev = last.out;
  }
  return inv.command === 'ADD' ? last : { ...last, out: undefined };
}

export { run, netnsExec, ip };

import { spawn } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { REPO_ROOT } from '../../support/cli.js';
import { renderChart } from '../../support/helm-render/render.js';
import { cniPlugin } from '../../../agent/cni/plugin-path.js';
import { hostIfName } from '../../../agent/cni/names.js';
import { addPodNs, createCniNode, destroyCniNode, execChain, netnsExec, ip, NODE_ADDR, type CniNode, type ConfList } from '../cni/harness.js';

// The chart's own conflist (margay-cni → portmap → bandwidth), rendered from the chart
// and run as a runtime runs it, with Debian's portmap and bandwidth plugins (the ones
// the image carries): hostPort traffic reaches the pod, the bandwidth limits become tc
// qdiscs, and DEL removes all of it. Only the socket path is the test's own.
const plugin = cniPlugin();
const built = plugin.built && cniPlugin('node').built;
const debian = ['portmap', 'bandwidth'].every((p) => existsSync(`/usr/lib/cni/${p}`));
const why = needsRoot ? ROOT_SKIP_REASON : !built ? `${plugin.path} missing (npm run build)` : !debian ? 'Debian containernetworking-plugins not installed' : 'root, built, Debian plugins present';
if (needsRoot || !built || !debian) process.stderr.write(`test/integration/charts/conflist-chain: skipped, ${why}\n`);

const POOLS = [{ name: 'v4', spec: { cidr: '10.67.0.0/29', blockSize: 29 } }];

/** What libcni does with a conflist: runtimeConfig.<capability> for each capability a plugin declares and the runtime has a value for. */
function withRuntimeConfig(list: ConfList, args: Record<string, unknown>): ConfList {
  return {
    ...list,
    plugins: list.plugins.map((p) => {
      const caps = Object.entries((p.capabilities ?? {}) as Record<string, boolean>).filter(([c, on]) => on && c in args);
      return caps.length === 0 ? p : { ...p, runtimeConfig: Object.fromEntries(caps.map(([c]) => [c, args[c]])) };
    }),
  };
}

describe.skipIf(needsRoot || !built || !debian)(`the chart's conflist with Debian's portmap and bandwidth (${why})`, () => {
  let node: CniNode | undefined;
  const n = (): CniNode => node as CniNode;
  beforeAll(async () => {
    node = await createCniNode(POOLS);
    symlinkSync('/usr/lib/cni/bandwidth', join(n().cniPath, 'bandwidth')); // the harness links portmap and loopback
  }, 60_000);
  afterAll(async () => { await destroyCniNode(node); }, 60_000);

  it('ADD: hostPort 8082 reaches the pod\'s port 80, the bandwidth annotations become tbf qdiscs; DEL removes the rules, the ifb device and the veth', async () => {
    const cm = renderChart(join(REPO_ROOT, 'charts', 'margay')).objects.find((o) => o.obj.kind === 'ConfigMap')!.obj as { data: Record<string, string> };
    const chart = JSON.parse(cm.data['cni-conflist']!) as ConfList;
    expect(chart.plugins.map((p) => p.type)).toEqual(['margay-cni', 'portmap', 'bandwidth']);
    chart.plugins[0] = { ...chart.plugins[0], socket: n().socket };
    // as kubelet passes a pod's ports[].hostPort and kubernetes.io/{ingress,egress}-bandwidth: 8M / 4M (bits/s)
    const list = withRuntimeConfig(chart, {
      portMappings: [{ hostPort: 8082, containerPort: 80, protocol: 'tcp' }],
      bandwidth: { ingressRate: 8_000_000, ingressBurst: 2_147_483_647, egressRate: 4_000_000, egressBurst: 2_147_483_647 },
    });
    expect(list.plugins.map((p) => Object.keys((p.runtimeConfig ?? {}) as object))).toEqual([[], ['portMappings'], ['bandwidth']]);

    const ns = await addPodNs(n(), 'pc');
    const inv = { command: 'ADD' as const, containerId: 'chart1', netns: `/var/run/netns/${ns}`, args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=chart1' };
    const add = await execChain(n(), list, inv);
    expect(add.code, `${add.plugin}: ${JSON.stringify(add.out)} ${add.stderr}`).toBe(0);
    expect(add.out).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.67.0.0/32' }] });
    const hostVeth = hostIfName('chart1');
    expect((await netnsExec(n().nodeNs, ['iptables', '-t', 'nat', '-S'])).stdout).toMatch(/--to-destination 10\.67\.0\.0:80/);
    // ingress (toward the pod): a tbf on the host veth; egress: a tbf on an ifb the host veth's ingress is redirected to
    const qdiscs = (await netnsExec(n().nodeNs, ['tc', 'qdisc', 'show'])).stdout;
    expect(qdiscs).toMatch(new RegExp(`qdisc tbf \\S+ dev ${hostVeth} root .*rate 8Mbit`));
    expect(qdiscs).toMatch(/qdisc tbf \S+ dev bwp\S+ root .*rate 4Mbit/);

    const srv = spawn('ip', ['netns', 'exec', ns, 'socat', 'TCP-LISTEN:80,reuseaddr,fork', 'SYSTEM:echo hello-through-hostport'], { stdio: 'ignore' });
    try {
      let answer = '';
      for (let i = 0; i < 20 && !answer.includes('hello'); i++) {
        answer = (await netnsExec(n().fabricNs, ['nc', '-w', '2', NODE_ADDR, '8082'], { input: '', timeoutMs: 5000 }).catch(() => ({ stdout: '' }))).stdout;
        if (!answer.includes('hello')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer).toContain('hello-through-hostport');
    } finally {
      srv.kill('SIGTERM');
    }

    const del = await execChain(n(), list, { ...inv, command: 'DEL' }, add.out);
    expect(del.code, `${del.plugin}: ${JSON.stringify(del.out)} ${del.stderr}`).toBe(0);
    expect((await netnsExec(n().nodeNs, ['iptables', '-t', 'nat', '-S'])).stdout).not.toMatch(/10\.67\.0\.0:80/);
    const links = (await ip(n().nodeNs, 'link', 'show')).stdout;
    expect(links).not.toContain(hostVeth);
    expect(links).not.toMatch(/bwp/);
  }, 90_000);
});

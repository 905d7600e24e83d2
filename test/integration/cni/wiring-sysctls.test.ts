/**
 * Pod wiring against a node namespace that keeps the kernel's defaults (accept_dad=1)
 * and pods whose namespace has IPv6 disabled: what real nodes and runtimes hand us,
 * not what the main CNI suite's harness tunes away. Both wirings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { cniPlugin } from '../../../agent/cni/plugin-path.js';
import { hostIfName } from '../../../agent/cni/names.js';
import { addPodNs, createCniNode, destroyCniNode, execPlugin, ip, netnsExec, NODE_ADDR6, type CniNode, type Invocation } from './harness.js';

const plugin = cniPlugin();
const built = plugin.built && cniPlugin('node').built;
if (!built) process.stderr.write(`test/integration/cni/wiring-sysctls: skipped, ${plugin.path} missing (run npm run build)\n`);
if (needsRoot) process.stderr.write(`test/integration/cni/wiring-sysctls: skipped, ${ROOT_SKIP_REASON}\n`);

const POOLS = [
  { name: 'v4', spec: { cidr: '10.67.0.0/29', blockSize: 29 } },
  { name: 'v6', spec: { cidr: 'fd67::/125', blockSize: 125 } },
];

const why = [...(needsRoot ? [ROOT_SKIP_REASON] : []), ...(built ? [] : ['needs the built plugins (npm run build)'])].join('; ') || 'needs root and the built plugins';

describe.skipIf(needsRoot || !built).each(['netlink', 'ip'] as const)(`pod wiring on a node with the kernel's sysctl defaults, %s wiring (${why})`, (wiring) => {
  let node: CniNode | undefined;
  const n = (): CniNode => node as CniNode;
  const conf = (extra: object = {}): string => JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'margay-cni', socket: n().socket, ...extra });
  const cni = (inv: Invocation, extra: object = {}) => execPlugin(n(), 'margay-cni', inv, conf(extra));
  const pod = (id: string, ns: string, extra: Partial<Invocation> = {}): Invocation => ({ command: 'ADD', containerId: id, netns: `/var/run/netns/${ns}`, args: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${id}`, ...extra });
  const podAddr6 = (out: Record<string, unknown> | undefined): string => {
    const ips = (out?.ips ?? []) as { address: string }[];
    const a = ips.find((i) => i.address.includes(':'))?.address;
    if (!a) throw new Error(`no IPv6 address in ${JSON.stringify(out)}`);
    return a.split('/')[0] as string;
  };

  beforeAll(async () => { node = await createCniNode(POOLS, { wiring, kernelDad: true }); });
  afterAll(async () => { await destroyCniNode(node); });

  it('the node reaches the new pod over IPv6 right after ADD (no DAD on either veth end)', async () => {
    expect((await netnsExec(n().nodeNs, ['sysctl', '-n', 'net.ipv6.conf.default.accept_dad'])).stdout.trim()).toBe('1');
    const ns = await addPodNs(n(), 'dad');
    const add = await cni(pod('cdad', ns));
    expect(add.code, JSON.stringify(add.out)).toBe(0);
    const host = hostIfName('cdad');
    // a probe from the node (as kubelet's) within 1 s of ADD
    await netnsExec(n().nodeNs, ['ping', '-6', '-c1', '-W1', podAddr6(add.out)]);
    expect((await netnsExec(n().nodeNs, ['cat', `/proc/sys/net/ipv6/conf/${host}/accept_dad`])).stdout.trim()).toBe('0');
    expect((await netnsExec(ns, ['cat', '/proc/sys/net/ipv6/conf/eth0/accept_dad'])).stdout.trim()).toBe('0');
    expect((await ip(n().nodeNs, '-6', 'addr', 'show', 'dev', host)).stdout).not.toContain('tentative');
    expect((await cni({ ...pod('cdad', ns), command: 'DEL' })).code).toBe(0);
  });

  it('ADD dual-stack into a netns with disable_ipv6=1 succeeds, and the pod talks IPv6', async () => {
    const ns = await addPodNs(n(), 'noip6');
    await netnsExec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.lo.disable_ipv6=1']);
    const add = await cni(pod('cnoip6', ns));
    expect(add.code, JSON.stringify(add.out)).toBe(0);
    expect((await ip(ns, '-6', 'addr', 'show', 'dev', 'eth0')).stdout).toContain(`inet6 ${podAddr6(add.out)}/128`);
    await netnsExec(ns, ['ping', '-6', '-c1', '-W2', NODE_ADDR6]);
    expect((await cni({ ...pod('cnoip6', ns), command: 'CHECK' }, { prevResult: add.out })).code).toBe(0);
    expect((await cni({ ...pod('cnoip6', ns), command: 'DEL' })).code).toBe(0);
  });

  it('CHECK reports MTU drift and proxy_arp=0', async () => {
    const ns = await addPodNs(n(), 'drift');
    const add = await cni(pod('cdrift', ns), { mtu: 1400 });
    expect(add.code, JSON.stringify(add.out)).toBe(0);
    const host = hostIfName('cdrift');
    expect((await cni({ ...pod('cdrift', ns), command: 'CHECK' }, { mtu: 1400, prevResult: add.out })).code).toBe(0);
    await ip(ns, 'link', 'set', 'eth0', 'mtu', '1300');
    await netnsExec(n().nodeNs, ['sysctl', '-qw', `net.ipv4.conf.${host}.proxy_arp=0`, `net.ipv6.conf.${host}.proxy_ndp=0`]);
    const r = await cni({ ...pod('cdrift', ns), command: 'CHECK' }, { mtu: 1400, prevResult: add.out });
    expect(r.code).toBe(1);
    const msg = String((r.out as { msg?: unknown } | undefined)?.msg);
    expect(r.out, msg).toMatchObject({ code: 103 });
    expect(msg).toMatch(/eth0 .*MTU 1300, not 1400/);
    expect(msg).toContain(`net.ipv4.conf.${host}.proxy_arp is 0, not 1`);
    expect(msg).toContain(`net.ipv6.conf.${host}.proxy_ndp is 0, not 1`);
    expect(msg).not.toContain('forwarding');
    expect((await cni({ ...pod('cdrift', ns), command: 'DEL' })).code).toBe(0);
  });

  it('CHECK without netconf mtu: the ends need only agree (a pod keeps its ADD\'s MTU when the default changes)', async () => {
    const ns = await addPodNs(n(), 'mtuagree');
    // an MTU other than the server's default, as for a pod added before a pool got VXLAN
    const add = await cni(pod('cagree', ns), { mtu: 1400 });
    expect(add.code, JSON.stringify(add.out)).toBe(0);
    const host = hostIfName('cagree');
    const check = () => cni({ ...pod('cagree', ns), command: 'CHECK' }, { prevResult: add.out });
    const first = await check();
    expect(first.code, JSON.stringify(first.out)).toBe(0);
    // a chained plugin (tuning) sets another MTU on both ends: still fine
    await ip(n().nodeNs, 'link', 'set', host, 'mtu', '1350');
    await ip(ns, 'link', 'set', 'eth0', 'mtu', '1350');
    expect((await check()).code).toBe(0);
    await ip(ns, 'link', 'set', 'eth0', 'mtu', '1300');
    const r = await check();
    expect(r.out).toMatchObject({ code: 103 });
    expect(String((r.out as { msg?: unknown } | undefined)?.msg)).toMatch(/eth0 .*MTU 1300, not 1350/);
    expect((await cni({ ...pod('cagree', ns), command: 'DEL' })).code).toBe(0);
  });
});

/**
 * VXLAN CrossSubnet with real agents on a routed lab (n1 and n3 on subnet a, n2 on
 * subnet b; the fabric router knows nothing of pods): each agent allocates its VXLAN
 * device address from IPAM, learns the others' from the IPAM records, routes
 * same-subnet blocks directly and other-subnet blocks through vxlan.margay.
 * Dual stack: the IPv6 pool is CrossSubnet too; IPv6 blocks of the other subnet ride
 * the same device via the owner's VTEP link-local address, and pods reach each
 * other over IPv6 across the router.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { POD_POOL_V4, POD_POOL_V6 } from '../../../agent/lab/plan.js';
import { vtepLinkLocal, vtepMac } from '../../../agent/dataplane/plan/vtep.js';
import type { AgentStatus } from '../../../agent/status/types.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab, startAgents } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });
const v4 = (r: { prefix: string }): boolean => !r.prefix.includes(':');

describe.skipIf(needs.skip)(`VXLAN CrossSubnet with real agents on a routed fabric (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  const pods: Record<string, CniPod> = {};

  beforeAll(async () => {
    lab = await createLab({ nodes: 3, fabric: 'routed' });
    cluster = await createAgentCluster(lab, { pool: { vxlanMode: 'CrossSubnet' }, ipv6: true });
    await cluster.writeManifest('ippool.yaml', [
      { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool' }, spec: { cidr: POD_POOL_V4, blockSize: 26, vxlanMode: 'CrossSubnet' } },
      { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool-v6' }, spec: { cidr: POD_POOL_V6, blockSize: 122, vxlanMode: 'CrossSubnet' } },
    ]);
    await startAgents(cluster, ['n1', 'n2', 'n3']);
    pods.a = await cluster.addPod('n1', 'a');
    pods.b = await cluster.addPod('n2', 'b');
    pods.c = await cluster.addPod('n3', 'c');
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('other-subnet blocks go through vxlan.margay, same-subnet blocks directly, and pods reach each other', async () => {
    const c = cluster as AgentCluster;
    const n1 = await waitFor(async () => {
      const s: AgentStatus | undefined = await c.status('n1').catch(() => undefined);
      return s && s.routes.some((r) => v4(r) && r.reason === 'vxlan to n2') && s.routes.some((r) => v4(r) && r.reason === 'direct to n3') ? s : undefined;
    }, 30_000, 'n1 routes n2 over VXLAN and n3 directly', 200);
    expect(n1.routes.find((r) => v4(r) && r.reason === 'vxlan to n2')?.via).toMatch(/^via 10\.244\.\d+\.\d+ dev vxlan\.margay onlink$/);
    expect(n1.routes.find((r) => v4(r) && r.reason === 'direct to n3')?.via).toBe(`via ${c.lab.node('n3').address} dev eth0`);
    expect(n1.problems).toEqual([]);
    // the fabric router has no pod routes: crossing subnets needs the tunnel
    expect((await c.lab.exec(c.lab.fabric.ns, ['ip', 'route', 'show', '10.244.0.0/16', 'match', '10.244.0.0/16'])).stdout).not.toContain('10.244');
    for (const [x, y] of [['a', 'b'], ['b', 'c'], ['c', 'a'], ['a', 'c']] as const) {
      expect(await waitFor(async () => (await c.lab.ping(pods[x]!.netns, pods[y]!.ipv4, { count: 1, timeoutS: 1 })).ok, 15_000, `${x} → ${y}`, 100), `${x} → ${y}`).toBe(true);
    }
    const link = await c.lab.exec(c.lab.node('n1').ns, ['ip', '-d', 'link', 'show', 'vxlan.margay']);
    expect(link.stdout).toContain('vxlan id 4096');
  }, 90_000);

  it('IPv6: the other subnet\'s block via n2\'s VTEP link-local on vxlan.margay, the same subnet\'s directly; pods reach each other over IPv6', async () => {
    const c = cluster as AgentCluster;
    for (const p of Object.values(pods)) expect(p.ipv6).toMatch(/^fd44:/);
    const v6 = (r: { prefix: string }): boolean => r.prefix.includes(':');
    const n1 = await waitFor(async () => {
      const s: AgentStatus | undefined = await c.status('n1').catch(() => undefined);
      return s && s.problems.length === 0 && s.routes.some((r) => v6(r) && r.reason === 'vxlan to n2') && s.routes.some((r) => v6(r) && r.reason === 'direct to n3') ? s : undefined;
    }, 30_000, 'n1 routes n2\'s IPv6 block over VXLAN and n3\'s directly', 200);
    expect(n1.routes.find((r) => v6(r) && r.reason === 'vxlan to n2')?.via).toBe(`via ${vtepLinkLocal(vtepMac('n2'))} dev vxlan.margay`);
    expect(n1.routes.find((r) => v6(r) && r.reason === 'direct to n3')?.via).toBe(`via ${c.lab.node('n3').address6} dev eth0`);
    expect(n1.problems).toEqual([]);
    const neigh = (await c.lab.exec(c.lab.node('n1').ns, ['ip', '-6', 'neigh', 'show', 'dev', 'vxlan.margay'])).stdout;
    expect(neigh).toContain(`${vtepLinkLocal(vtepMac('n2'))} lladdr ${vtepMac('n2')} PERMANENT`);
    for (const [x, y] of [['a', 'b'], ['b', 'c'], ['c', 'a']] as const) {
      expect(await waitFor(async () => (await c.lab.ping(pods[x]!.netns, pods[y]!.ipv6!, { count: 1, timeoutS: 1 })).ok, 15_000, `${x} → ${y} over IPv6`, 100), `${x} → ${y}`).toBe(true);
    }
  }, 90_000);

  it('margay status shows each node\'s VXLAN tunnel address: the one on its device, the one the other nodes route via', async () => {
    const c = cluster as AgentCluster;
    const vx = (s: AgentStatus | undefined) => s?.tunnels?.find((t) => t.type === 'vxlan' && t.address !== undefined);
    const [n1, n2] = await waitFor(async () => {
      const [s1, s2] = await Promise.all([c.status('n1').catch(() => undefined), c.status('n2').catch(() => undefined)]);
      return vx(s1) && vx(s2) ? [s1 as AgentStatus, s2 as AgentStatus] as const : undefined;
    }, 30_000, 'n1 and n2 report their VXLAN tunnel addresses', 200);
    const t1 = vx(n1)!;
    // dual stack on IPv4 underlays: the one IPv4-underlay device, no IPIP; IPv6 rides it via the link-local
    expect(n1.tunnels).toEqual([{ type: 'vxlan', device: 'vxlan.margay', address: t1.address, address6: vtepLinkLocal(vtepMac('n1')), mac: vtepMac('n1') }]);
    expect(t1.address).toMatch(/^10\.244\.\d+\.\d+$/);
    const addrs = (await c.lab.exec(c.lab.node('n1').ns, ['ip', 'addr', 'show', 'dev', 'vxlan.margay'])).stdout;
    expect(addrs).toContain(`inet ${t1.address}/32`);
    expect(addrs).toContain(`inet6 ${t1.address6}/64 scope link`);
    // what n1 reports for n2 is what n2 reports for itself
    expect(n1.routes.find((r) => v4(r) && r.reason === 'vxlan to n2')?.via).toBe(`via ${vx(n2)!.address} dev vxlan.margay onlink`);
    const text = spawnSync(process.execPath, [MARGAY_JS, 'status', '--socket', c.statusSocket('n1')], { encoding: 'utf8', timeout: 15_000 });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain(`| vxlan.margay | VXLAN (IPv4 underlay) | ${t1.address}, ${t1.address6} (link-local) |`);
  }, 60_000);

  it('the node\'s own traffic leaving vxlan.margay from another local address (kube-proxy\'s DNAT) is masqueraded to the tunnel address, as felix does', async () => {
    const c = cluster as AgentCluster;
    const rule = '-A MARGAY-NAT-OUTGOING -o vxlan.margay -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE';
    const rules = await waitFor(async () => {
      const out = (await c.lab.exec(c.lab.node('n1').ns, ['iptables', '-t', 'nat', '-S'])).stdout;
      return out.includes(rule) ? out : undefined;
    }, 30_000, 'n1 masquerades its own traffic into vxlan.margay', 200);
    expect(rules).toContain('-A POSTROUTING');
    expect(rules.split('\n').filter((l) => l === rule)).toHaveLength(1);
  }, 60_000);
});

describe.skipIf(needs.skip)(`a VXLAN tunnel address follows its pool (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  beforeAll(async () => {
    lab = await createLab({ nodes: 2, fabric: 'routed' });
    cluster = await createAgentCluster(lab, { pool: { vxlanMode: 'Always' } });
    await startAgents(cluster, ['n1', 'n2']);
  }, 120_000);
  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  it('the pool holding it stops tunnelling and another VXLAN pool exists: the address is released and one from the new pool is taken', async () => {
    const c = cluster as AgentCluster;
    const vx = (s: AgentStatus | undefined) => s?.tunnels?.find((t) => t.type === 'vxlan')?.address;
    const first = await waitFor(async () => vx(await c.status('n1').catch(() => undefined)), 30_000, 'n1 has a VXLAN tunnel address', 200);
    expect(first.startsWith(POD_POOL_V4.split('.').slice(0, 2).join('.'))).toBe(true);
    await c.writeManifest('ippool.yaml', [
      { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'lab-pool' }, spec: { cidr: POD_POOL_V4, blockSize: 26, vxlanMode: 'Never' } },
      { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'migrated' }, spec: { cidr: '10.250.0.0/16', blockSize: 26, vxlanMode: 'Always' } },
    ]);
    const moved = await waitFor(async () => {
      const a = vx(await c.status('n1').catch(() => undefined));
      return a?.startsWith('10.250.') ? a : undefined;
    }, 30_000, 'n1 takes a VXLAN tunnel address from the new pool', 200);
    const addrs = (await c.lab.exec(c.lab.node('n1').ns, ['ip', '-4', 'addr', 'show', 'dev', 'vxlan.margay'])).stdout;
    expect(addrs).toContain(`inet ${moved}/32`);
    expect(addrs).not.toContain(`inet ${first}/32`);
  }, 60_000);
});

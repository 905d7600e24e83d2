import { describe, expect, it } from 'vitest';
import { planLab, planPod } from '../../../../agent/lab/plan.js';
import { fabricSteps, nodeSteps, podSteps, type Step } from '../../../../agent/lab/wiring.js';

const plan = planLab('mgab12-', 'routed', 2);
const n1 = plan.nodes[0]!;
const pod = planPod(plan.prefix, 'n1', 'web');
const all: Step[] = [
  ...fabricSteps(plan),
  ...plan.nodes.flatMap((n) => nodeSteps(plan, n)),
  ...podSteps(n1, pod, { ipv4: '10.244.1.2', ipv6: 'fd44:0:1::2' }),
];

describe('lab wiring steps', () => {
  it('runs every step inside a lab namespace (never the root namespace)', () => {
    const labNs = new Set([plan.fabric.ns, ...plan.nodes.map((n) => n.ns), pod.ns]);
    for (const s of all) expect(labNs.has(s.ns), JSON.stringify(s)).toBe(true);
    expect(all.filter((s) => s.kind === 'netns').map((s) => s.ns)).toEqual([plan.fabric.ns, 'mgab12-n1', 'mgab12-n2', pod.ns]);
  });

  it('creates every veth with its peer sent straight into another lab namespace', () => {
    const adds = all.flatMap((s) => (s.kind === 'ip' ? s.lines.filter((l) => / type veth /.test(l)).map((l) => [s.ns, l] as const) : []));
    expect(adds).toHaveLength(3);
    for (const [ns, line] of adds) {
      const target = /netns (\S+)$/.exec(line)?.[1];
      expect(target, line).toMatch(/^mgab12-/);
      expect(target).not.toBe(ns);
    }
  });

  it('creates a namespace before anything runs in it', () => {
    const made = new Set<string>();
    for (const s of all) {
      if (s.kind === 'netns') made.add(s.ns);
      else expect(made.has(s.ns), JSON.stringify(s)).toBe(true);
    }
  });

  it('routes the node via its own subnet gateway and enslaves its port to that bridge', () => {
    const n2 = plan.nodes[1]!;
    const [, , nodeIp, fabricIp] = nodeSteps(plan, n2) as [Step, Step, Step & { lines: string[] }, Step & { lines: string[] }];
    expect(nodeIp.lines).toContain('route add default via 172.30.2.1 dev eth0');
    expect(nodeIp.lines).toContain('addr add 172.30.2.12/24 dev eth0');
    expect(fabricIp.lines).toEqual(['link set n2 master br-b', 'link set n2 up']);
  });

  it('wires a pod Calico-style: /32 + onlink default via 169.254.1.1, host route and proxy ARP on the host veth', () => {
    const steps = podSteps(n1, pod, { ipv4: '10.244.1.2' });
    const byNs = (ns: string, kind: Step['kind']) => steps.filter((s) => s.ns === ns && s.kind === kind);
    expect(byNs(pod.ns, 'ip')).toEqual([
      {
        kind: 'ip',
        ns: pod.ns,
        lines: ['link set lo up', 'addr add 10.244.1.2/32 dev eth0', 'link set eth0 up', 'route add default via 169.254.1.1 dev eth0 onlink'],
      },
    ]);
    const nodeIp = byNs(n1.ns, 'ip')[0] as { lines: string[] };
    expect(nodeIp.lines).toContain('route add 10.244.1.2/32 dev p-web scope link');
    expect(nodeIp.lines[0]).toContain('address ee:ee:ee:ee:ee:ee');
    expect(byNs(n1.ns, 'sysctl')[0]).toMatchObject({ settings: ['net.ipv4.conf.p-web.proxy_arp=1', 'net.ipv4.neigh.p-web.proxy_delay=0'] });
    expect(steps.some((s) => s.kind === 'ip' && s.lines.some((l) => l.includes('fd44')))).toBe(false);
  });

  it('adds the IPv6 address, host route, proxy NDP for fe80::1 and the v6 default route only when asked', () => {
    const steps = podSteps(n1, pod, { ipv4: '10.244.1.2', ipv6: 'fd44:0:1::2' });
    const lines = steps.flatMap((s) => (s.kind === 'ip' ? s.lines : []));
    expect(lines).toContain('addr add fd44:0:1::2/128 dev eth0 nodad');
    expect(lines).toContain('route add fd44:0:1::2/128 dev p-web');
    expect(lines).toContain('route add default via fe80::1 dev eth0');
    expect(lines).toContain('neigh add proxy fe80::1 dev p-web');
    expect(steps.at(-1)).toMatchObject({ kind: 'sysctl', settings: expect.arrayContaining(['net.ipv6.conf.p-web.proxy_ndp=1']) });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, ip, netnsExec, newRunPrefix } from '../../../agent/lab/netns.js';
import { netnsPath } from '../../../agent/dataplane/kernel/nl-socket.js';
import { NetlinkPodWiring } from '../../../agent/dataplane/pod-wiring.js';
import type { PodLink } from '../../../agent/cni/handler.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

describe.skipIf(needsRoot)(`pod wiring over netlink (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  const prefix = newRunPrefix();
  const node = `${prefix}node`;
  const pod = `${prefix}pod`;
  let wiring: NetlinkPodWiring;
  const link: PodLink = {
    hostIf: 'mgwtest1', podIf: 'eth0', netns: netnsPath(pod), mtu: 1450,
    addresses: [
      { family: 4, address: '10.244.7.5', prefix: 32, block: '10.244.7.0/26', pool: 'p' },
      { family: 6, address: 'fd44:7::5', prefix: 128, block: 'fd44:7::/122', pool: 'p6' },
    ],
  };

  beforeAll(async () => {
    await addNetns(node);
    await addNetns(pod);
    await ip(node, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1');
    await ip(node, 'link', 'set', 'up0', 'up');
    await ip(node, 'link', 'set', 'up1', 'up');
    await ip(node, 'addr', 'add', '10.9.0.1/24', 'dev', 'up0');
    await ip(node, 'route', 'add', 'default', 'via', '10.9.0.254');
    wiring = new NetlinkPodWiring({ nodeNetnsPath: netnsPath(node) });
  });
  afterAll(async () => {
    wiring?.close();
    await deleteNetns(pod);
    await deleteNetns(node);
  });

  it('wires the pod: veth into the pod namespace, addresses, routes, sysctls; the pod reaches its node', async () => {
    const macs = await wiring.add(link);
    expect(macs.hostMac).toBe('ee:ee:ee:ee:ee:ee');
    const [host] = JSON.parse((await ip(node, '-j', 'link', 'show', 'mgwtest1')).stdout) as { address: string; mtu: number; flags: string[] }[];
    expect(host).toMatchObject({ address: 'ee:ee:ee:ee:ee:ee', mtu: 1450 });
    expect(host?.flags).toContain('UP');
    const [eth] = JSON.parse((await ip(pod, '-j', 'addr', 'show', 'eth0')).stdout) as { address: string; addr_info: { local: string; prefixlen: number }[] }[];
    expect(eth?.address).toBe(macs.podMac);
    expect(eth?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(expect.arrayContaining(['10.244.7.5/32', 'fd44:7::5/128']));
    expect((await ip(pod, 'route', 'show', 'default')).stdout.trim()).toBe('default via 169.254.1.1 dev eth0 proto 81 onlink');
    expect((await ip(node, 'route', 'show', '10.244.7.5')).stdout.trim()).toBe('10.244.7.5 dev mgwtest1 proto 81 scope link');
    const sysctl = async (k: string): Promise<string> => (await netnsExec(node, ['sysctl', '-n', k])).stdout.trim();
    expect(await sysctl('net.ipv4.conf.mgwtest1.proxy_arp')).toBe('1');
    expect(await sysctl('net.ipv4.conf.mgwtest1.forwarding')).toBe('1');
    expect(await sysctl('net.ipv4.neigh.mgwtest1.proxy_delay')).toBe('0');
    expect(await sysctl('net.ipv6.conf.mgwtest1.proxy_ndp')).toBe('1');
    expect((await ip(node, '-6', 'neigh', 'show', 'proxy')).stdout).toContain('fe80::1 dev mgwtest1 proxy');
    expect((await netnsExec(pod, ['ping', '-c', '1', '-W', '2', '10.9.0.1'])).stdout).toContain('1 received');
    expect(await wiring.check(link)).toEqual([]);
  });

  it('check names what is missing', async () => {
    await ip(node, 'route', 'del', '10.244.7.5/32');
    await ip(pod, 'addr', 'del', 'fd44:7::5/128', 'dev', 'eth0');
    expect(await wiring.check(link)).toEqual(['no host route to 10.244.7.5/32 via mgwtest1', 'eth0 in /var/run/netns/' + pod + ' lacks fd44:7::5/128']);
  });

  it('a repeated ADD repairs everything, and DEL is idempotent', async () => {
    await wiring.add(link);
    expect(await wiring.check(link)).toEqual([]);
    expect(await wiring.del('mgwtest1')).toBe(true);
    expect(await wiring.del('mgwtest1')).toBe(false);
    expect((await ip(pod, 'link', 'show')).stdout).not.toContain('eth0');
    expect(await wiring.check(link)).toEqual(['host interface mgwtest1 does not exist']);
  });
});

import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { ObjectCache, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import type { Rtnl } from '../../../../agent/dataplane/kernel/rtnl.js';
import type { AddrMsg } from '../../../../agent/dataplane/netlink/addr.js';
import { RT_SCOPE_UNIVERSE } from '../../../../agent/dataplane/netlink/constants.js';
import type { LinkMsg } from '../../../../agent/dataplane/netlink/link.js';
import { podMtuProvider } from '../../../../agent/node/pod-mtu.js';

function snap(...objs: Resource[]): Snapshot {
  const c = new ObjectCache();
  for (const o of objs) c.set(o);
  return c.snapshot();
}
const node: Resource = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', annotations: { 'margay.io/bgp-ipv4-address': '192.0.2.5/24' } } };
const pool = (name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name }, spec });

/** A kernel with eth0 (MTU `mtu`) holding the node's address; counts link dumps. */
function fakeRtnl(mtu: number): { rtnl: Rtnl; dumps: () => number } {
  let dumps = 0;
  const links: LinkMsg[] = [{ index: 1, name: 'lo', flags: 0 }, { index: 2, name: 'eth0', flags: 0, mtu }];
  const addrs: AddrMsg[] = [{ family: 4, ifindex: 2, address: '192.0.2.5/24', scope: RT_SCOPE_UNIVERSE, flags: 0 }];
  const rtnl = { links: () => { dumps++; return links; }, addrs: (f: 4 | 6) => addrs.filter((a) => a.family === f) } as unknown as Rtnl;
  return { rtnl, dumps: () => dumps };
}
const logs: string[] = [];
const log = { info: (_o: unknown, m: string) => logs.push(`info ${m}`), warn: (_o: unknown, m: string) => logs.push(`warn ${m}`) } as unknown as Logger;

describe('the agent\'s default pod MTU (podMtuProvider)', () => {
  it('uplink 9000 with a VXLAN pool: 8950; worked out once per snapshot; a new snapshot with an IPIP pool only: 8980', () => {
    const k = fakeRtnl(9000);
    let current: Snapshot | undefined = snap(node, pool('p', { cidr: '10.0.0.0/16', vxlanMode: 'Always' }));
    const mtu = podMtuProvider({ node: 'n1' }, () => current, () => k.rtnl, log);
    expect(mtu()).toBe(8950);
    expect(mtu()).toBe(8950);
    expect(k.dumps()).toBe(1);
    current = snap(node, pool('p', { cidr: '10.0.0.0/16', ipipMode: 'Always' }));
    expect(mtu()).toBe(8980);
    expect(k.dumps()).toBe(2);
  });

  it('no snapshot yet, or no uplink: undefined (the kernel\'s MTU), a warning once', () => {
    const k = fakeRtnl(1500);
    let current: Snapshot | undefined;
    const mtu = podMtuProvider({ node: 'n1', uplink: 'nosuch0' }, () => current, () => k.rtnl, log);
    expect(mtu()).toBeUndefined();
    logs.length = 0;
    current = snap(node);
    expect(mtu()).toBeUndefined();
    current = snap(node, pool('p', { cidr: '10.0.0.0/16' }));
    expect(mtu()).toBeUndefined();
    expect(logs.filter((l) => l.startsWith('warn'))).toHaveLength(1);
  });
});

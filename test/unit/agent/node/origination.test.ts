import { describe, expect, it, vi } from 'vitest';
import { pino, type Logger } from 'pino';
import { ObjectCache, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import type { NodeBgp } from '../../../../agent/node/bgp.js';
import type { IpamView } from '../../../../agent/node/ipam-view.js';
import { Origination, type OriginationDeps } from '../../../../agent/node/origination.js';
import type { RouteTrace } from '../../../../agent/node/route-trace.js';

const n1: Resource = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: {}, annotations: { 'margay.io/bgp-ipv4-address': '172.30.0.11/24' } } };
const config = (spec: object): Resource => ({ apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec });
function snap(...objs: Resource[]): Snapshot {
  const c = new ObjectCache();
  for (const o of objs) c.set(o);
  return c.snapshot();
}

describe('Origination: the bgp log level from BGPConfiguration.logSeverityScreen', () => {
  it('follows logSeverityScreen, and goes back to the agent\'s configured level when it is removed', async () => {
    const silent = pino({ level: 'silent' });
    const bgpLog: Logger = pino({ level: 'warn' }); // the agent's configured level (--log-level)
    let current = snap(n1, config({ logSeverityScreen: 'Debug' }));
    const update = vi.fn(() => Promise.resolve());
    const deps: OriginationDeps = {
      o: { node: 'n1', bgpDefaults: {}, fastRoutes: true, logs: { agent: silent, bgp: bgpLog, dataplane: silent, policy: silent, cni: silent } },
      bgp: { update } as unknown as NodeBgp, bgpOff: false, trace: {} as RouteTrace, view: { read: true, borrowedHere: () => [] } as unknown as IpamView,
      own: () => [], snapshot: () => current, writeFast: () => undefined, dropDeferredIpam: () => undefined,
    };
    const o = new Origination(deps);
    await o.update();
    expect(bgpLog.level).toBe('debug');
    current = snap(n1, config({ logSeverityScreen: 'Error' }));
    await o.update();
    expect(bgpLog.level).toBe('error');
    current = snap(n1, config({}));
    await o.update();
    expect(bgpLog.level).toBe('warn');
    expect(update).toHaveBeenCalledTimes(3);
  });
});

describe('Origination: addresses this node holds in other nodes\' blocks (borrowed)', () => {
  it('originates their host routes with its blocks, in the whole update and in a claim\'s or release\'s fast announcement', async () => {
    const silent = pino({ level: 'silent' });
    const block = (cidr: string) => ({ cidr, pool: 'p', affinity: 'host:n1', allocations: [null, null, null, null], attributes: {} });
    let own = [block('10.0.0.4/30')];
    let borrowed = ['10.0.0.1/32'];
    const update = vi.fn((_plan: unknown, _originated: readonly string[]) => Promise.resolve());
    const originate = vi.fn((_prefixes: readonly string[]) => true);
    const deps: OriginationDeps = {
      o: { node: 'n1', bgpDefaults: {}, fastRoutes: true, logs: { agent: silent, bgp: silent, dataplane: silent, policy: silent, cni: silent } },
      bgp: { update, originate } as unknown as NodeBgp, bgpOff: false,
      trace: { claim: () => undefined, originate: () => undefined } as unknown as RouteTrace,
      view: { read: true, borrowedHere: () => borrowed, claimed: () => undefined } as unknown as IpamView,
      own: () => own, snapshot: () => snap(n1), writeFast: () => undefined, dropDeferredIpam: () => undefined,
    };
    const o = new Origination(deps);
    await o.update();
    expect(update.mock.calls[0]?.[1]).toEqual(['10.0.0.4/30', '10.0.0.1/32']);
    o.claimed(block('10.0.0.8/30'));
    expect(originate.mock.calls[0]?.[0]).toEqual(['10.0.0.4/30', '10.0.0.8/30', '10.0.0.1/32']);
    own = [block('10.0.0.8/30')];
    o.released('10.0.0.4/30');
    expect(originate.mock.calls[1]?.[0]).toEqual(['10.0.0.8/30', '10.0.0.1/32']);
    borrowed = []; // the pod's address released: withdrawn with the next update
    await o.update();
    expect(update.mock.calls[1]?.[1]).toEqual(['10.0.0.8/30']);
  });
});

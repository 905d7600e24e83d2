import { describe, expect, it } from 'vitest';
import type { Resource } from '../../../../agent/datastore/resources.js';
import type { Snapshot } from '../../../../agent/datastore/snapshot.js';
import { RoutingInputs } from '../../../../agent/node/routing-key.js';

const node = (name: string, extra: { labels?: Record<string, string>; heartbeat?: string; address?: string } = {}): Resource => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
  status: { addresses: [{ type: 'InternalIP', address: extra.address ?? '10.0.0.1' }], conditions: [{ type: 'Ready', lastHeartbeatTime: extra.heartbeat ?? 't0' }] },
}) as unknown as Resource;
const snap = (objects: Record<string, Map<string, Resource>>): Snapshot => ({ revision: 1, objects: new Map(Object.entries(objects)) as Snapshot['objects'] });

describe('RoutingInputs', () => {
  it('a pod-only snapshot (the routing kinds\' maps unchanged) and a kubelet heartbeat are no change; labels, addresses and pools are', () => {
    const r = new RoutingInputs();
    const nodes = new Map([['a', node('a')]]);
    const pools = new Map<string, Resource>();
    expect(r.changed(snap({ Node: nodes, IPPool: pools, Pod: new Map() }))).toBe(true);
    nodes.set('a', node('a', { labels: { only: 'seen-by-the-key' } })); // in place: only the identity shortcut says "unchanged"
    expect(r.changed(snap({ Node: nodes, IPPool: pools, Pod: new Map([['x/p', node('p')]]) }))).toBe(false); // same maps: not even keyed
    nodes.set('a', node('a'));
    expect(r.changed(snap({ Node: new Map([['a', node('a', { heartbeat: 't1' })]]), IPPool: pools }))).toBe(false); // a new map, a heartbeat only
    expect(r.changed(snap({ Node: new Map([['a', node('a', { labels: { rack: 'r1' } })]]), IPPool: pools }))).toBe(true);
    expect(r.changed(snap({ Node: new Map([['a', node('a', { labels: { rack: 'r1' }, address: '10.0.0.2' })]]), IPPool: pools }))).toBe(true);
    const pool = { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.244.0.0/16' } } as unknown as Resource;
    expect(r.changed(snap({ Node: new Map([['a', node('a', { labels: { rack: 'r1' }, address: '10.0.0.2' })]]), IPPool: new Map([['p', pool]]) }))).toBe(true);
  });
});

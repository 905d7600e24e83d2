import { describe, expect, it } from 'vitest';
import { validateObject } from '../../../crds/schemas.js';
import { Ipam } from '../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../agent/ipam/store.js';
import type { Block, Handle } from '../../../agent/ipam/types.js';

// The IPAM records the agent writes must be valid IPAMBlock / IPAMHandle specs:
// the Kubernetes store keeps each record as the spec of one object.
const asObject = (kind: string, name: string, spec: Block | Handle) => ({ apiVersion: 'margay.io/v1', kind, metadata: { name }, spec });
const k8sName = (key: string) => key.toLowerCase().replace(/[^a-z0-9-]/g, '-');
const errorsOf = (obj: unknown) => {
  const r = validateObject(obj);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
};

describe('agent/ipam records fit the IPAM CRDs', () => {
  it('blocks and handles written by a real allocation, and after a release', async () => {
    const store = new MemoryIpamStore();
    const ipam = new Ipam({
      store, node: 'node-1',
      pools: [
        { name: 'v4', spec: { cidr: '10.244.0.0/16', blockSize: 26 } },
        { name: 'v6', spec: { cidr: 'fd00:10:244::/56', blockSize: 122 } },
      ],
    });
    await ipam.assign({ handle: 'c1.eth0', pod: { namespace: 'default', name: 'web-1' }, containerId: 'c1' });
    await ipam.assign({ handle: 'c2.eth0' });
    await ipam.release('c2.eth0');
    const blocks = await store.list('block');
    const handles = await store.list('handle');
    expect(blocks.length).toBe(2);
    expect(handles.length).toBe(1);
    for (const b of blocks) expect(errorsOf(asObject('IPAMBlock', k8sName(b.value.cidr), b.value)), b.value.cidr).toEqual([]);
    for (const h of handles) {
      expect(h.value.addresses.length).toBe(2);
      expect(errorsOf(asObject('IPAMHandle', k8sName(h.value.handle), h.value))).toEqual([]);
    }
  });

  it('a block no node owns any more (affinity null) is valid; a made-up affinity is not', () => {
    const block: Block = { cidr: '10.0.0.0/30', pool: 'v4', affinity: null, allocations: ['h', null, null, null], attributes: { h: { node: 'n1' } } };
    expect(errorsOf(asObject('IPAMBlock', '10-0-0-0-30', block))).toEqual([]);
    expect(errorsOf(asObject('IPAMBlock', '10-0-0-0-30', { ...block, affinity: 'node-1' }))).toEqual([
      'spec.affinity: Invalid value: "node-1": must match ^host:.+$',
    ]);
  });
});

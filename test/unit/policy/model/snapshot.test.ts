import { describe, expect, it } from 'vitest';
import { podFromObject } from '../../../../policy/model/snapshot.js';

const podWith = (iface: string) => podFromObject({
  metadata: { namespace: 'x', name: 'a', annotations: { 'margay.io/interface': iface } },
  spec: { nodeName: 'n1' }, status: { podIP: '10.0.0.2', phase: 'Running' },
});

describe('podFromObject: the margay.io/interface annotation', () => {
  it('a workload veth name (mgw + 1..12 lower-case hex digits) is taken', () => {
    for (const v of ['mgw0', 'mgw0123456789a', 'mgw0123456789ab']) {
      const p = podWith(v);
      expect(p.interface).toBe(v);
      expect(p.ignoredInterface).toBeUndefined();
    }
  });

  it('invalid interface annotation ignored (it would go straight into `-o <iface>` and break every apply on the node)', () => {
    for (const v of ['mgw-this-name-is-too-long', 'mgw x', 'eth0', 'mgw', 'mgw+', 'mgw0123456789abc', 'MGW01', 'mgw0A', 'mgw01\n-A FORWARD -j ACCEPT', '']) {
      const p = podWith(v);
      expect(p.interface, JSON.stringify(v)).toBeUndefined();
      expect(p.ignoredInterface).toBe(v);
    }
    expect(podFromObject({ metadata: { name: 'b' } }).ignoredInterface).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { podFromObject } from '../../../../policy/model/snapshot.js';
import { namedPortMembers } from '../../../../policy/resolve/resolve.js';

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

describe('podFromObject: named container ports (as upstream FindPort: containers, then sidecar init containers)', () => {
  const podOf = (spec: Record<string, unknown>) => podFromObject({ metadata: { namespace: 'x', name: 'a' }, spec: { nodeName: 'n1', ...spec }, status: { podIP: '10.0.0.5' } });
  const http = (port: number) => ({ ports: [{ name: 'http', containerPort: port }] });

  it("a main container's named port wins over an init container's of the same name, sidecar or not", () => {
    for (const restartPolicy of [undefined, 'Always']) {
      const p = podOf({ initContainers: [{ name: 'init', ...(restartPolicy ? { restartPolicy } : {}), ...http(9999) }], containers: [{ name: 'c', ...http(80) }] });
      expect(namedPortMembers([p], 'http', 'TCP'), String(restartPolicy)).toEqual([{ ip: '10.0.0.5', port: 80 }]);
    }
  });

  it("a sidecar (restartPolicy: Always) init container's named port counts when no main container has the name; a plain init container's never does", () => {
    const sidecar = podOf({ initContainers: [{ name: 'proxy', restartPolicy: 'Always', ...http(15001) }], containers: [{ name: 'c', ports: [{ name: 'metrics', containerPort: 9090 }] }] });
    expect(namedPortMembers([sidecar], 'http', 'TCP')).toEqual([{ ip: '10.0.0.5', port: 15001 }]);
    expect(namedPortMembers([sidecar], 'metrics', 'TCP')).toEqual([{ ip: '10.0.0.5', port: 9090 }]);
    const plain = podOf({ initContainers: [{ name: 'init', ...http(9999) }], containers: [{ name: 'c' }] });
    expect(namedPortMembers([plain], 'http', 'TCP')).toEqual([]);
    expect(plain.ports).toEqual([]);
  });
});

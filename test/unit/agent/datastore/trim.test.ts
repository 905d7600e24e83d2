import { describe, expect, it } from 'vitest';
import type { Resource } from '../../../../agent/datastore/resources.js';
import { trimForAgent } from '../../../../agent/datastore/trim.js';
import { podFromObject } from '../../../../policy/model/snapshot.js';
import { readNodes } from '../../../../agent/node-config/node-config.js';
import type { Snapshot } from '../../../../agent/datastore/snapshot.js';

// a Pod and a Node as a real API server sends them (abridged), with what the agent never reads
const pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { 'margay.io/interface': 'mgw0123456789a' }, deletionTimestamp: '2026-11-21T10:00:00Z',
    managedFields: [{ manager: 'kubelet', operation: 'Update', fieldsV1: { 'f:status': {} } }] },
  spec: {
    nodeName: 'n1', hostNetwork: false, volumes: [{ name: 'v', emptyDir: {} }], serviceAccountName: 'default',
    containers: [{ name: 'c', image: 'nginx', env: [{ name: 'A', value: 'x'.repeat(500) }], ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ name: 'v', mountPath: '/v' }] }],
    initContainers: [{ name: 'side', image: 'proxy', restartPolicy: 'Always', ports: [{ name: 'metrics', containerPort: 9090 }] }, { name: 'init', image: 'busybox', ports: [{ name: 'http', containerPort: 9999 }] }],
  },
  status: { phase: 'Running', podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }, { ip: 'fd00::5' }], conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c', ready: true, imageID: 'sha256:abc' }] },
} as unknown as Resource;
const node = {
  apiVersion: 'v1', kind: 'Node',
  metadata: { name: 'n1', labels: { rack: 'r1' }, annotations: { 'margay.io/bgp-ipv4-address': '172.30.0.11/24' }, managedFields: [{ manager: 'kubelet' }] },
  spec: { podCIDR: '10.244.0.0/24' },
  status: { addresses: [{ type: 'InternalIP', address: '172.30.0.11' }], images: [{ names: ['nginx'], sizeBytes: 1 }], conditions: [{ type: 'Ready', lastHeartbeatTime: 't' }], nodeInfo: { kubeletVersion: 'v1.31' } },
} as unknown as Resource;

describe('trimForAgent', () => {
  it('a Pod keeps what the policy model reads: the same PodInfo from the trimmed object, without env, volumes, statuses or managedFields', () => {
    const t = trimForAgent(pod);
    expect(podFromObject(t)).toEqual(podFromObject(pod));
    const text = JSON.stringify(t);
    for (const gone of ['managedFields', 'env', 'volumes', 'volumeMounts', 'containerStatuses', 'conditions', 'image', 'serviceAccountName']) expect(text).not.toContain(`"${gone}"`);
    expect(text.length).toBeLessThan(JSON.stringify(pod).length / 2);
  });

  it('a Node keeps metadata, spec and its addresses (what node-config reads), not its images, conditions or managedFields', () => {
    const t = trimForAgent(node);
    const nodesOf = (n: Resource) => readNodes({ revision: 1, objects: new Map([['Node', new Map([['n1', n]])]]) } as Snapshot, {});
    expect(nodesOf(t)).toEqual(nodesOf(node));
    expect(t).toEqual({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { rack: 'r1' }, annotations: { 'margay.io/bgp-ipv4-address': '172.30.0.11/24' } }, spec: { podCIDR: '10.244.0.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '172.30.0.11' }] } });
  });

  it('other kinds lose only managedFields', () => {
    const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x', managedFields: [{}] }, spec: { podSelector: {} } } as unknown as Resource;
    expect(trimForAgent(policy)).toEqual({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x' }, spec: { podSelector: {} } });
  });
});

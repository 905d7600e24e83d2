import { describe, expect, it } from 'vitest';
import { validateObject, knownKinds } from '../../../crds/schemas.js';

const meta = { name: 'x' };
const pool = (spec: Record<string, unknown>) => ({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: meta, spec });
const peer = (spec: Record<string, unknown>) => ({ apiVersion: 'margay.io/v1', kind: 'BGPPeer', metadata: meta, spec });
const errorsOf = (obj: unknown) => {
  const r = validateObject(obj);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
};

describe('validateObject: margay kinds against the CRD schemas', () => {
  it('accepts a minimal IPPool and returns it with the CRD defaults applied, leaving the input alone', () => {
    const input = pool({ cidr: '10.244.0.0/16' });
    const r = validateObject(input);
    expect(r).toEqual({
      ok: true,
      kind: 'IPPool',
      object: pool({ cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, disabled: false }),
    });
    expect(input.spec).toEqual({ cidr: '10.244.0.0/16' });
  });

  it('gives a BGPConfiguration with no spec an empty spec: no field defaults (a node.NAME object would override the cluster\'s)', () => {
    const r = validateObject({ apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: { name: 'default' } });
    expect(r.ok && r.object.spec).toEqual({});
  });

  // Each row: the object, and the exact field errors it must produce.
  const rows: [string, unknown, string[]][] = [
    ['a negative blockSize', pool({ cidr: '10.0.0.0/16', blockSize: -1 }), [
      'spec: blockSize must be 20-32 for an IPv4 pool and 116-128 for an IPv6 pool',
      'spec: cidr is smaller than one block: its prefix length must not exceed blockSize (26 for IPv4, 122 for IPv6 when absent)',
      'spec.blockSize: Invalid value: -1: must be >= 0',
    ]],
    ['an unknown mode', pool({ cidr: '10.0.0.0/16', vxlanMode: 'Sometimes' }), [
      'spec.vxlanMode: Unsupported value: "Sometimes": supported values: "Always", "CrossSubnet", "Never"',
    ]],
    ['a misspelt field', pool({ cidr: '10.0.0.0/16', ipipmode: 'Always' }), ['spec.ipipmode: unknown field']],
    ['host bits in the cidr', pool({ cidr: '10.0.0.1/16' }), ['spec.cidr: cidr must be a network address with no host bits set, e.g. 10.244.0.0/16']],
    ['a cidr that is not one', pool({ cidr: '10.0.0.0/33' }), [
      'spec.cidr: Invalid value: "10.0.0.0/33": must be a valid cidr',
      'spec.cidr: cidr must be a network address with no host bits set, e.g. 10.244.0.0/16',
    ]],
    ['IPIP and VXLAN both on', pool({ cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }), ['spec: ipipMode and vxlanMode cannot both be enabled on one pool']],
    ['IPIP on IPv6', pool({ cidr: 'fd00::/48', ipipMode: 'Always' }), ['spec: ipipMode is IPv4-only; an IPv6 pool must use ipipMode Never']],
    ['a block larger than the pool', pool({ cidr: '10.0.0.0/28', blockSize: 26 }), ['spec: cidr is smaller than one block: its prefix length must not exceed blockSize (26 for IPv4, 122 for IPv6 when absent)']],
    ['an IPv6 block size on IPv4', pool({ cidr: '10.0.0.0/8', blockSize: 122 }), [
      'spec: blockSize must be 20-32 for an IPv4 pool and 116-128 for an IPv6 pool',
      'spec.blockSize: Invalid value: 122: must be <= 128',
    ].slice(0, 1)],
    ['a missing cidr', pool({}), ['spec.cidr: Required value']],
    ['a missing spec', { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: meta }, ['spec: Required value']],
    ['an ASN of 0', peer({ peerIP: '10.0.0.1', asNumber: 0 }), ['spec.asNumber: Invalid value: 0: must be >= 1']],
    ['an ASN above 4294967295', peer({ peerIP: '10.0.0.1', asNumber: 4294967296 }), ['spec.asNumber: Invalid value: 4294967296: must be <= 4294967295']],
    ['a bad peer IP', peer({ peerIP: '10.0.0.256', asNumber: 65000 }), ['spec.peerIP: peerIP must be an IPv4 or IPv6 address, IPv4:port or [IPv6]:port']],
    ['a peer with no AS', peer({ peerIP: '10.0.0.1' }), ['spec: peerIP and asNumber are required unless peerSelector is set']],
    ['peerSelector with asNumber (Calico refuses it)', peer({ peerSelector: "rr == 'true'", asNumber: 65000 }), ['spec: asNumber must not be set with peerSelector (the selected nodes\' own AS numbers are used)']],
    ['node with nodeSelector', peer({ peerIP: '10.0.0.1', asNumber: 1, node: 'a', nodeSelector: 'all()' }), ['spec: node and nodeSelector are mutually exclusive']],
    ['two password forms', peer({ peerIP: '10.0.0.1', asNumber: 1, password: { value: 'x', secretKeyRef: { name: 's', key: 'k' } } }), [
      'spec.password: password needs exactly one of secretKeyRef and value',
    ]],
    ['a secretKeyRef without key', peer({ peerIP: '10.0.0.1', asNumber: 1, password: { secretKeyRef: { name: 's' } } }), ['spec.password.secretKeyRef.key: Required value']],
    ['a bad restart time', peer({ peerIP: '10.0.0.1', asNumber: 1, maxRestartTime: '2 minutes' }), [
      'spec.maxRestartTime: Invalid value: "2 minutes": must match ^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$',
    ]],
    ['a port out of range', { apiVersion: 'margay.io/v1', kind: 'BGPConfiguration', metadata: meta, spec: { listenPort: 70000 } }, [
      'spec.listenPort: Invalid value: 70000: must be <= 65535',
    ]],
    ['a handle address that is not an IP', { apiVersion: 'margay.io/v1', kind: 'IPAMHandle', metadata: meta, spec: { handle: 'h', attrs: { node: 'n' }, addresses: [{ family: 4, address: '10.0.0.300', block: '10.0.0.0/26', pool: 'p' }] } }, [
      'spec.addresses[0].address: address must be an IPv4 or IPv6 address',
    ]],
    ['a block allocation that is a number', { apiVersion: 'margay.io/v1', kind: 'IPAMBlock', metadata: meta, spec: { cidr: '10.0.0.0/30', pool: 'p', affinity: null, allocations: ['h', null, 3, null], attributes: { h: { node: 'n' } } } }, [
      'spec.allocations[2]: Invalid value: 3: must be string',
    ]],
    ['block attributes without a node', { apiVersion: 'margay.io/v1', kind: 'IPAMBlock', metadata: meta, spec: { cidr: '10.0.0.0/30', pool: 'p', affinity: 'host:n', allocations: ['h', null, null, null], attributes: { h: { pod: { namespace: 'd', name: 'p' } } } } }, [
      'spec.attributes.h.node: Required value',
    ]],
    ['an unknown affinity state', { apiVersion: 'margay.io/v1', kind: 'BlockAffinity', metadata: meta, spec: { node: 'n', cidr: '10.0.0.0/26', state: 'maybe' } }, [
      'spec.state: Unsupported value: "maybe": supported values: "pending", "confirmed", "pendingDeletion"',
    ]],
    ['a bad object name', { ...pool({ cidr: '10.0.0.0/16' }), metadata: { name: 'Pool_A' } }, [
      'metadata.name: Invalid value: "Pool_A": must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
    ]],
    ['a wrong version', { ...pool({ cidr: '10.0.0.0/16' }), apiVersion: 'margay.io/v2' }, ['apiVersion: Unsupported value: "margay.io/v2": IPPool is served as margay.io/v1']],
  ];
  it.each(rows)('rejects %s with the field path', (_name, obj, want) => {
    expect([...errorsOf(obj)].sort()).toEqual([...want].sort());
  });

  it.each([
    pool({ cidr: 'fd00:10:244::/56', blockSize: 122 }),
    pool({ cidr: '10.0.0.0/8', blockSize: 20, vxlanMode: 'CrossSubnet', natOutgoing: true, nodeSelector: "zone == 'a'" }),
    peer({ peerSelector: "rr == 'true'" }),
    peer({ node: 'n1', peerIP: '::ffff:10.0.0.1', asNumber: 4294967295, password: { secretKeyRef: { name: 's', key: 'k' } }, maxRestartTime: '1m30s' }),
    { apiVersion: 'margay.io/v1', kind: 'BlockAffinity', metadata: { name: 'n1-10-0-0-0-26' }, spec: { node: 'n1', cidr: '10.0.0.0/26', state: 'confirmed' } },
  ])('accepts valid object %#', (obj) => {
    expect(errorsOf(obj)).toEqual([]);
  });
});

describe('validateObject: Kubernetes kinds against the API schemas', () => {
  const np = (spec: unknown) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'd' }, spec });

  it('accepts a NetworkPolicy and rejects a bad one by field path', () => {
    expect(errorsOf(np({ podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 80 }] }] }))).toEqual([]);
    expect(errorsOf(np({ podSelector: {}, policyTypes: ['Sideways'], ingress: [{ from: [{ ipBlock: { cidr: 5 } }] }] }))).toEqual([
      'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: 5: must be string',
      'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Egress", "Ingress"',
    ]);
  });

  it('requires metadata.name on core kinds too', () => {
    expect(errorsOf({ apiVersion: 'v1', kind: 'Namespace', metadata: {} })).toEqual(['metadata.name: Required value']);
    expect(errorsOf({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.0.0.0/24' } })).toEqual([]);
    expect(errorsOf({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd' }, spec: { containers: [{ image: 'x' }] } })).toEqual([
      'spec.containers[0].name: Required value',
    ]);
  });

  it('names the kinds it knows when given another', () => {
    expect(knownKinds().map((k) => k.kind)).toContain('NetworkPolicy');
    expect(errorsOf({ apiVersion: 'v1', kind: 'Service', metadata: meta })[0]).toMatch(/^kind: Unsupported value: "Service": margay validates .*IPPool/);
    expect(errorsOf('text')).toEqual([': must be an object with apiVersion, kind and metadata']);
    expect(errorsOf({ metadata: meta })).toEqual(['apiVersion: Required value', 'kind: Required value']);
  });
});

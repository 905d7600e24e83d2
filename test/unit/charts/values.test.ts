import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { renderChart, RenderError, ValuesSchemaError, helmRenderBinary } from '../../support/helm-render/render.js';
import { REPO_ROOT } from '../../support/cli.js';

// The first run builds the Go renderer (cached by source hash): allow for it.
beforeAll(() => {
  helmRenderBinary();
}, 300_000);

const CHART = join(REPO_ROOT, 'charts', 'margay');
const pool = (extra: Record<string, unknown>) => ({ ipPools: [{ name: 'p', cidr: '10.0.0.0/16', ...extra }] });
const peer = (extra: Record<string, unknown>) => ({ bgp: { asNumber: 64512, nodeToNodeMesh: true, peers: [{ name: 'tor', ...extra }] } });

function schemaErrors(values: Record<string, unknown>): string[] {
  try {
    renderChart(CHART, { values: [values] });
  } catch (err) {
    if (err instanceof ValuesSchemaError) return err.errors.map((e) => `${e.path}: ${e.message}`).sort();
    throw err;
  }
  return [];
}

function renderFailure(values: Record<string, unknown>): string {
  try {
    renderChart(CHART, { values: [values] });
  } catch (err) {
    if (err instanceof RenderError) return err.message;
    throw err;
  }
  return '(rendered)';
}

describe('values.schema.json rejects bad values with the value\'s path', () => {
  const rows: [string, Record<string, unknown>, string[]][] = [
    ['a negative blockSize', pool({ blockSize: -1 }), ['ipPools[0].blockSize: Invalid value: -1: must be >= 20']],
    ['an unknown mode', pool({ ipipMode: 'Sometimes' }), [
      'ipPools[0].ipipMode: Unsupported value: "Sometimes": supported values: "Always", "CrossSubnet", "Never"',
    ]],
    ['an ASN of 0', { bgp: { asNumber: 0, nodeToNodeMesh: true } }, ['bgp.asNumber: Invalid value: 0: must be >= 1']],
    ['an ASN above 32 bits', { bgp: { asNumber: 4294967296, nodeToNodeMesh: true } }, ['bgp.asNumber: Invalid value: 4294967296: must be <= 4294967295']],
    ['a peer ASN out of range', peer({ peerIP: '10.0.0.1', asNumber: -5 }), ['bgp.peers[0].asNumber: Invalid value: -5: must be >= 1']],
    ['a peer IP that is not one', peer({ peerIP: '300.1.1.1', asNumber: 65001 }), [
      'bgp.peers[0].peerIP: Invalid value: "300.1.1.1": The peer\'s IPv4 or IPv6 address.',
    ]],
    ['a peer with node and nodeSelector', peer({ peerIP: '10.0.0.1', asNumber: 65001, node: 'a', nodeSelector: 'all()' }), [
      'bgp.peers[0]: node and nodeSelector are mutually exclusive',
    ]],
    ['a peer without AS', peer({ peerIP: '10.0.0.1' }), [
      'bgp.peers[0]: a peer needs peerIP and asNumber, or a peerSelector',
    ]],
    ['a link-local pool (the IPPool CRD refuses it)', { ipPools: [{ name: 'll', cidr: '169.254.0.0/16' }] }, [
      'ipPools[0].cidr: Invalid value: "169.254.0.0/16": a pool must not overlap a link-local range (169.254.0.0/16, fe80::/10), as the IPPool CRD refuses',
    ]],
    ['an IPv6 link-local pool', { ipPools: [{ name: 'll6', cidr: 'fe80::/64' }] }, [
      'ipPools[0].cidr: Invalid value: "fe80::/64": a pool must not overlap a link-local range (169.254.0.0/16, fe80::/10), as the IPPool CRD refuses',
    ]],
    ['a peer with peerSelector and asNumber (the BGPPeer CRD refuses it)', peer({ peerSelector: "rr == 'true'", asNumber: 65001 }), [
      'bgp.peers[0]: asNumber must not be set with peerSelector (the selected nodes\' own AS numbers are used)',
    ]],
    ['a plain-text password (the chart takes Secrets only)', peer({ peerIP: '10.0.0.1', asNumber: 65001, password: { value: 'x' } }), [
      'bgp.peers[0].password.existingSecret: Required value',
      'bgp.peers[0].password.value: unknown field',
    ]],
    ['a misspelt top-level value', { ippools: [] }, ['ippools: unknown field']],
    ['a CIDR without a prefix', pool({ cidr: '10.0.0.0' }), [
      'ipPools[0].cidr: Invalid value: "10.0.0.0": must match ^(([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/[0-9]{1,3})$',
    ]],
    ['a bad log level', { logLevel: 'loud' }, ['logLevel: Unsupported value: "loud": supported values: "fatal", "error", "warn", "info", "debug", "trace"']],
    ['a health port of 0', { healthPort: 0 }, ['healthPort: Invalid value: 0: must be >= 1']],
    ['a metrics address that is no bind-all or loopback', { metrics: { address: '10.0.0.1' } }, [
      'metrics.address: Unsupported value: "10.0.0.1": supported values: "127.0.0.1", "0.0.0.0", "::"',
    ]],
    ['maxUnavailable 0', { updateStrategy: { maxUnavailable: 0 } }, [
      'updateStrategy.maxUnavailable: Invalid value: 0: A number of nodes (1 or more) or a percentage such as 10%.',
    ]],
    ['an unknown iptables backend', { iptablesBackend: 'nftables' }, ['iptablesBackend: Unsupported value: "nftables": supported values: "auto", "nft", "legacy"']],
    ['an unknown capability', { capabilities: ['NET_ADMIN', 'ALL'] }, [
      'capabilities[1]: Unsupported value: "ALL": supported values: "NET_ADMIN", "NET_RAW", "NET_BIND_SERVICE", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE"',
    ]],
  ];
  it.each(rows)('rejects %s', (_name, values, want) => {
    expect(schemaErrors(values)).toEqual([...want].sort());
  });

  it('accepts the chart\'s own values.yaml and good overrides', () => {
    expect(schemaErrors({})).toEqual([]);
    expect(schemaErrors(pool({ blockSize: 28, vxlanMode: 'Always', natOutgoing: false }))).toEqual([]);
    expect(schemaErrors(peer({ peerSelector: "rr == 'true'" }))).toEqual([]);
    expect(schemaErrors({ updateStrategy: { maxUnavailable: '10%' } })).toEqual([]);
    expect(schemaErrors({ metrics: { address: '::', annotations: true } })).toEqual([]);
  });
});

describe('the chart stops with a clear message on values the schema cannot judge alone', () => {
  it.each([
    ['IPIP and VXLAN both on', pool({ ipipMode: 'Always', vxlanMode: 'Always' }), 'ipPools[0] (p): ipipMode and vxlanMode cannot both be enabled'],
    ['IPIP on an IPv6 pool', { ipPools: [{ name: 'v6', cidr: 'fd00::/48', ipipMode: 'CrossSubnet' }] }, 'ipPools[0] (v6): ipipMode is IPv4-only'],
    ['an IPv4 block size on IPv6', { ipPools: [{ name: 'v6', cidr: 'fd00::/48', blockSize: 26 }] }, 'ipPools[0] (v6): blockSize 26 is out of range for IPv6; use 116-128'],
    ['an IPv6 block size on IPv4', pool({ blockSize: 122 }), 'ipPools[0] (p): blockSize 122 is out of range for IPv4; use 20-32'],
    ['blocks bigger than the pool', { ipPools: [{ name: 'small', cidr: '10.0.0.0/27', blockSize: 26 }] }, 'ipPools[0] (small): blockSize 26 is shorter than the pool\'s prefix /27'],
    ['a pool smaller than the default block (the CRD counts an absent blockSize as 26)', { ipPools: [{ name: 'tiny', cidr: '10.0.0.0/28' }] }, 'ipPools[0] (tiny): blockSize 26 (the default) is shorter than the pool\'s prefix /28'],
    ['an IPv6 pool smaller than the default block (122)', { ipPools: [{ name: 'tiny6', cidr: 'fd00::/124' }] }, 'ipPools[0] (tiny6): blockSize 122 (the default) is shorter than the pool\'s prefix /124'],
    ['two pools with one name', { ipPools: [{ name: 'a', cidr: '10.0.0.0/16' }, { name: 'a', cidr: '10.1.0.0/16' }] }, 'ipPools: the name a is used twice'],
    ['scrape annotations on an agent bound to 127.0.0.1', { metrics: { annotations: true } }, 'metrics.annotations: Prometheus cannot scrape an agent bound to 127.0.0.1'],
    ['an existing service account without a name', { serviceAccount: { create: false } }, 'serviceAccount.name is required when serviceAccount.create is false'],
  ])('%s', (_name, values, want) => {
    expect(renderFailure(values)).toContain(want);
  });
});

describe('per-pool defaults are the ones the README documents', () => {
  const poolSpec = (values: Record<string, unknown>): Record<string, unknown> => {
    const pools = renderChart(CHART, { values: [values] }).objects.map((o) => o.obj as { kind?: string; spec?: Record<string, unknown> }).filter((o) => o.kind === 'IPPool');
    expect(pools).toHaveLength(1);
    return pools[0]!.spec!;
  };

  it('a pool with only name and cidr gets vxlanMode CrossSubnet, ipipMode Never and natOutgoing true', () => {
    expect(poolSpec(pool({}))).toMatchObject({ cidr: '10.0.0.0/16', ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: true, disabled: false });
  });

  it('an explicit natOutgoing: false stays false; an explicit vxlanMode is kept', () => {
    expect(poolSpec(pool({ natOutgoing: false }))).toMatchObject({ natOutgoing: false, vxlanMode: 'CrossSubnet' });
    expect(poolSpec(pool({ vxlanMode: 'Never' }))).toMatchObject({ vxlanMode: 'Never', natOutgoing: true });
  });

  it('a pool that turns IPIP on gets no VXLAN by default (the two cannot be combined)', () => {
    expect(poolSpec(pool({ ipipMode: 'Always' }))).toMatchObject({ ipipMode: 'Always', vxlanMode: 'Never' });
    expect(poolSpec(pool({ ipipMode: 'CrossSubnet' }))).toMatchObject({ ipipMode: 'CrossSubnet', vxlanMode: 'Never' });
  });
});

import { describe, expect, it } from 'vitest';
import { renderStatus, renderTable, since } from '../../../../agent/status/render.js';
import type { AgentStatus } from '../../../../agent/status/types.js';

const base: AgentStatus = {
  node: 'n1', asn: 64512, routerId: '172.30.0.11', ready: true, reasons: [], bgpSynced: true,
  peers: [
    { address: '172.30.0.12', type: 'node-to-node mesh', state: 'up', fsm: 'Established', since: '2026-11-21T06:00:01.000Z', info: 'Established', asn: 64512, node: 'n2', passive: false, received: 1, advertised: 1, stale: 0 },
    { address: '172.30.0.1', type: 'global', state: 'start', fsm: 'Active', since: '2026-11-21T06:00:02.000Z', info: 'Active (last: TCP connection failed or closed)', asn: 65010, passive: false, received: 0, advertised: 0, stale: 0 },
    { address: 'fd30::1', type: 'node-specific', state: 'up', fsm: 'Established', since: '2026-11-21T06:00:03.000Z', info: 'Established', asn: 65010, passive: false, received: 0, advertised: 1, stale: 0 },
  ],
  routes: [{ prefix: '10.244.0.0/26', via: 'blackhole', reason: 'own block' }, { prefix: '10.244.0.64/26', via: 'via 172.30.0.12 dev eth0', reason: 'direct to n2' }],
  blocks: [{ cidr: '10.244.0.0/26', pool: 'lab-pool', used: 3, size: 64 }],
  policy: { policies: 2, rejected: 1, localPods: 3, applies: 9, failures: 1, lastError: 'iptables-restore failed', synced: true },
  problems: ['BGPPeer bad: nodeSelector: invalid selector'],
};

describe('margay status SINCE', () => {
  const now = '2026-11-21';
  it('a session up since three days ago shows its date; one up since today the time only', () => {
    const old = { ...base.peers[1]!, since: '2026-11-18T06:00:00.000Z' };
    const t = renderStatus({ ...base, peers: [base.peers[0]!, old] }, now);
    expect(t).toMatch(/\| 172\.30\.0\.1\s+\| global\s+\| start \| 2026-11-18 06:00:00 \| Active/);
    expect(t).toMatch(/\| node-to-node mesh \| up\s+\| 06:00:01\s+\| Established/);
  });
  it('without a clock the date is always shown; a peer never up shows nothing', () => {
    expect(since('2026-11-21T06:00:01.000Z')).toBe('2026-11-21 06:00:01');
    expect(since('2026-11-21T06:00:01.000Z', now)).toBe('06:00:01');
    expect(since('', now)).toBe('');
  });
});

describe('margay status text', () => {
  it('tables have a border, a header and padded cells', () => {
    expect(renderTable(['A', 'LONGER'], [['xyz', '1']])).toBe(['+-----+--------+', '| A   | LONGER |', '+-----+--------+', '| xyz | 1      |', '+-----+--------+'].join('\n'));
    expect(renderTable(['A'], [])).toBe(['+---+', '| A |', '+---+'].join('\n'));
  });

  it('shows identity, IPv4 and IPv6 peer tables like calicoctl, routes, blocks, policy counts and problems', () => {
    const t = renderStatus(base, '2026-11-21');
    expect(t).toContain('margay agent on n1 (AS 64512, router ID 172.30.0.11): ready');
    expect(t).toContain('IPv4 BGP status');
    expect(t).toMatch(/\| 172\.30\.0\.12\s+\| node-to-node mesh \| up\s+\| 06:00:01 \| Established\s+\|/);
    expect(t).toMatch(/\| 172\.30\.0\.1\s+\| global\s+\| start \| 06:00:02 \| Active \(last: TCP connection failed or closed\) \|/);
    expect(t).toContain('IPv6 BGP status');
    expect(t.indexOf('fd30::1')).toBeGreaterThan(t.indexOf('IPv6 BGP status'));
    expect(t).toMatch(/\| 10\.244\.0\.64\/26 \| via 172\.30\.0\.12 dev eth0 \| direct to n2 \|/);
    expect(t).toMatch(/\| 10\.244\.0\.0\/26 \| lab-pool \| 3\/64\s+\|/);
    expect(t).toContain('Policy: 2 NetworkPolicies (1 rejected), 3 local pods, 9 applies, 1 failures, in sync (last error: iptables-restore failed)');
    expect(t).toContain('  - BGPPeer bad: nodeSelector: invalid selector');
  });

  it('a node that is not ready says why; no peers and no routes are said plainly', () => {
    const t = renderStatus({ ...base, ready: false, reasons: ['bgp: not synced'], peers: [], routes: [], blocks: [], problems: [] });
    expect(t).toContain(': not ready\n  - bgp: not synced');
    expect(t).toContain('No IPv4 peers found.');
    expect(t).not.toContain('IPv6 BGP status');
    expect(t).toContain('No routes programmed.');
    expect(t).toContain('No blocks held by this node.');
    expect(t).not.toContain('Problems');
  });
});

describe('margay status tunnels', () => {
  const mac = '66:01:02:03:04:05';
  it('a Tunnels table between the IPAM blocks and the policy line: device, type and tunnel address', () => {
    const t = renderStatus({
      ...base,
      tunnels: [
        { type: 'vxlan', device: 'vxlan.margay', address: '10.244.0.0', address6: 'fe80::6401:2ff:fe03:405', mac },
        { type: 'vxlan-v6', device: 'vxlan-v6.margay', address6: 'fe80::6401:2ff:fe03:405', mac },
        { type: 'ipip', device: 'tunl0', address: '10.245.0.1' },
      ],
    }, '2026-11-21');
    expect(t).toContain('Tunnels\n+-----');
    expect(t).toMatch(/\| DEVICE\s+\| TYPE\s+\| TUNNEL ADDRESS\s+\|/);
    expect(t).toMatch(/\| vxlan\.margay\s+\| VXLAN \(IPv4 underlay\) \| 10\.244\.0\.0, fe80::6401:2ff:fe03:405 \(link-local\) \|/);
    expect(t).toMatch(/\| vxlan-v6\.margay \| VXLAN \(IPv6 underlay\) \| fe80::6401:2ff:fe03:405 \(link-local\)\s+\|/);
    expect(t).toMatch(/\| tunl0\s+\| IPIP\s+\| 10\.245\.0\.1\s+\|/);
    const at = t.indexOf('Tunnels\n');
    expect(at).toBeGreaterThan(t.indexOf('IPAM blocks'));
    expect(at).toBeLessThan(t.indexOf('Policy: '));
  });

  it('a device whose address is not assigned yet says so', () => {
    const t = renderStatus({ ...base, tunnels: [{ type: 'ipip', device: 'tunl0' }] });
    expect(t).toMatch(/\| tunl0\s+\| IPIP \| none \(not assigned yet\) \|/);
  });

  it('no tunnel device: said plainly; an agent that reports no tunnels field (older) gets no section', () => {
    expect(renderStatus({ ...base, tunnels: [] })).toContain('Tunnels\nNo tunnel devices (no IPPool uses VXLAN or IPIP).\n');
    const old = renderStatus(base, '2026-11-21');
    expect(old).not.toContain('Tunnels');
    // the rest of the output is unchanged by the section
    expect(renderStatus({ ...base, tunnels: [] }, '2026-11-21').replace('Tunnels\nNo tunnel devices (no IPPool uses VXLAN or IPIP).\n\n', '')).toBe(old);
  });
});

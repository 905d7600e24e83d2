import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../../../agent/cli/bgp-status.js';

describe('margay bgp status table', () => {
  it('prints one row per peer with ages and the last error of a peer that is down', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const out = renderStatus({
      asn: 65001, routerId: '10.0.0.1', locRib: { total: 3, families: { ipv4: 2, ipv6: 1 } },
      peers: [
        { address: '10.0.0.2', asn: 65002, state: 'Established', since: '2026-01-01T00:09:30Z', reason: 'KEEPALIVE received', received: 2, accepted: 2, advertised: 1 },
        { address: 'fd00::2', asn: 4200000001, state: 'Active', since: '2026-01-01T00:00:00Z', reason: 'automatic start', lastError: 'NOTIFICATION sent 2/2 (OPEN Message Error: Bad Peer AS)', received: 0, accepted: 0, advertised: 0 },
      ],
    }, now);
    const lines = out.split('\n');
    expect(lines[0]).toBe('BGP speaker AS 65001, router ID 10.0.0.1');
    expect(lines[1]).toBe('Loc-RIB: 3 routes (ipv4 2, ipv6 1)');
    expect(lines[3]).toMatch(/^PEER\s+ASN\s+STATE\s+SINCE\s+RCVD\s+ACCEPTED\s+ADVERTISED\s+LAST REASON$/);
    expect(lines[4]).toMatch(/^10\.0\.0\.2\s+65002\s+Established\s+30s\s+2\s+2\s+1\s+KEEPALIVE received$/);
    expect(lines[5]).toMatch(/^fd00::2\s+4200000001\s+Active\s+10m\s+0\s+0\s+0\s+automatic start; last error: NOTIFICATION sent 2\/2/);
  });

  it('names the prefixes a peer sent with our own address as next hop (ignored, RFC 4271 §5.1.3)', () => {
    const out = renderStatus({
      asn: 65001, routerId: '10.0.0.1', locRib: { total: 0, families: {} },
      peers: [{ address: '10.0.0.2', asn: 65002, state: 'Established', since: '2026-01-01T00:09:30Z', reason: 'KEEPALIVE received', received: 3, accepted: 0, advertised: 0, ownNextHop: 3 }],
    }, Date.parse('2026-01-01T00:10:00Z'));
    expect(out.split('\n')[4]).toMatch(/\s3\s+0\s+0\s+KEEPALIVE received; 3 ignored: next hop is this speaker$/);
  });
});

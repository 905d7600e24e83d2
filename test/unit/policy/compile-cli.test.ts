import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { margay, REPO_ROOT } from '../../support/cli.js';

// Runs the built CLI (npm run build first).
const fx = join(REPO_ROOT, 'test', 'unit', 'policy', 'fixtures');
const args = ['policy', 'compile', '--pods', join(fx, 'pods.yaml'), '--namespaces', join(fx, 'namespaces.yaml'), '--policies', join(fx, 'policies')];

describe('margay policy compile', () => {
  it('prints iptables-restore text for both families and rejects the invalid policy by field path', () => {
    const r = margay([...args, '--node', 'node-1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# iptables-restore --noflush \(IPv4\)\n\*filter\n/);
    expect(r.stdout).toContain('# ip6tables-restore --noflush (IPv6)');
    expect(r.stdout.match(/^COMMIT$/gm)).toHaveLength(2);
    expect(r.stderr).toContain('rejected NetworkPolicy z/bad: spec.ingress[0].ports[0].endPort');
    expect(r.stderr).toContain('spec.ingress[0].ports[1].protocol: unsupported protocol "ICMP"');
  });
  it('json: per-pod IR of the node', () => {
    const r = margay([...args, '--node', 'node-2', '--format', 'json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { workloads: { key: string; egress: string[] | null }[]; rejected: unknown[] };
    expect(out.workloads.map((w) => w.key)).toEqual(['x/b', 'y/a', 'y/c', 'z/b']);
    expect(out.workloads.find((w) => w.key === 'y/a')?.egress).toEqual(['y/deny-egress/egress', 'y/web/egress']);
    expect(out.rejected).toHaveLength(1);
  });
  it('ipset format and usage errors', () => {
    expect(margay([...args, '--format', 'ipset']).stdout).toMatch(/^create margay4-/m);
    const bad = margay(['policy', 'compile', '--pods', 'x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--namespaces is required');
    expect(margay([...args, '--format', 'nft']).status).toBe(2);
  });
});

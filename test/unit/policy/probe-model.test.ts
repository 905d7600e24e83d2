import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { margay, REPO_ROOT } from '../../support/cli.js';
import { buildModel, modelSnapshot } from '../../../agent/lab/probe/model.js';
import { workloadInterfaceName } from '../../../policy/resolve/interface-name.js';

describe('probe model', () => {
  it('x, y, z × a, b, c with the standard labels, spread over the nodes, deterministic addresses', () => {
    const m = buildModel(2);
    expect(m.pods.map((p) => `${p.namespace}/${p.name}@${p.node}`)).toEqual([
      'x/a@n1', 'x/b@n2', 'x/c@n1', 'y/a@n2', 'y/b@n1', 'y/c@n2', 'z/a@n1', 'z/b@n2', 'z/c@n1',
    ]);
    expect(m.pods[0]).toMatchObject({ labels: { pod: 'a' }, ips: { ipv4: '10.244.1.2', ipv6: 'fd44:0:1::2' }, iface: workloadInterfaceName('x', 'a') });
    expect(m.namespaces[1]?.labels).toEqual({ ns: 'y', 'kubernetes.io/metadata.name': 'y' });
    expect(buildModel(2)).toEqual(m);
    expect(new Set(buildModel(3).pods.map((p) => p.ips.ipv4)).size).toBe(9);
  });

  it('Namespace objects and Pod stubs add labels; the snapshot names every serve port', () => {
    const m = buildModel(1, [
      { kind: 'Namespace', metadata: { name: 'z', labels: { env: 'prod' } } },
      { kind: 'Pod', metadata: { name: 'c', namespace: 'y', labels: { role: 'db' } } },
    ]);
    expect(m.namespaces[2]?.labels.env).toBe('prod');
    expect(m.pods.find((p) => p.namespace === 'y' && p.name === 'c')?.labels).toEqual({ pod: 'c', role: 'db' });
    const s = modelSnapshot(m);
    expect(s.pods[0]?.ports.map((p) => p.name)).toEqual(['serve-80-tcp', 'serve-80-udp', 'serve-80-sctp', 'serve-81-tcp', 'serve-81-udp', 'serve-81-sctp']);
  });

  it('margay lab probe --print-model prints the model without building anything (built CLI)', () => {
    const r = margay(['lab', 'probe', '--policies', join(REPO_ROOT, 'examples', 'policies'), '--print-model', '--nodes', '3']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { pods: { namespace: string; name: string; labels: Record<string, string>; node: string; ips: string[] }[] };
    expect(out.pods).toHaveLength(9);
    expect(out.pods.find((p) => p.namespace === 'y' && p.name === 'c')).toEqual({ namespace: 'y', name: 'c', labels: { pod: 'c', role: 'db' }, node: 'n3', ips: ['10.244.3.3', 'fd44:0:3::3'] });
    expect(margay(['lab', 'probe', '--policies', 'x', '--protocols', 'icmp']).status).toBe(2);
    expect(margay(['lab', 'probe']).status).toBe(2);
  });
});

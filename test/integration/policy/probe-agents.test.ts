import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifests } from '../../../agent/cli/policy-compile.js';
import { validatePolicies } from '../../../policy/compile.js';
import { evaluate } from '../../../policy/evaluate/evaluate.js';
import type { Snapshot } from '../../../policy/model/snapshot.js';
import type { Protocol } from '../../../policy/model/types.js';
import { MODEL_CONTAINER_PORTS } from '../../../agent/lab/probe/agents-mode.js';
import { margay, REPO_ROOT } from '../../support/cli.js';
import { needsRoot } from '../../support/root.js';

// `margay lab probe` with the real agents (the default): 2 nodes, a margay agent in
// each, pods through margay-cni, the policies written into the file datastore.
// Every probed flow must match the oracle (policy/evaluate) run on the model the
// command reports (with the addresses the agents assigned). 02: only y/b reaches
// x/a; 05: z admits TCP on the named port serve-81-tcp and UDP 80-81 only; 06:
// Pod/Namespace stubs relabel y/c (role=db) and z (env=prod), and y/c admits only z.
const FILES = ['02-allow-from-y-b.yaml', '05-named-ports-and-ranges.yaml', '06-relabel.yaml'];

interface Out {
  model: { nodes: string[]; namespaces: { name: string; labels: Record<string, string> }[]; pods: { namespace: string; name: string; labels: Record<string, string>; node: string; ips: string[] }[] };
  results: { from: string; to: string; port: number; protocol: string; allowed: boolean | null }[];
}

describe.skipIf(needsRoot)('margay lab probe with real agents (needs root: lab namespaces, agents, iptables; built CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'margay-probe-agents-'));
    for (const f of FILES) await copyFile(join(REPO_ROOT, 'examples', 'policies', f), join(dir, f));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--json on 2 nodes: every TCP/UDP flow as the oracle says, allowed and denied flows across nodes', async () => {
    const r = margay(['lab', 'probe', '--policies', dir, '--nodes', '2', '--json'], { timeoutMs: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pods created through margay-cni/);
    const out = JSON.parse(r.stdout) as Out;
    expect(out.model.nodes).toEqual(['n1', 'n2']);
    expect(out.model.pods).toHaveLength(9);
    expect(new Set(out.model.pods.map((p) => p.node))).toEqual(new Set(['n1', 'n2']));
    // relabelled by the stubs in the directory
    expect(out.model.pods.find((p) => p.namespace === 'y' && p.name === 'c')?.labels).toEqual({ pod: 'c', role: 'db' });
    expect(out.model.namespaces.find((n) => n.name === 'z')?.labels.env).toBe('prod');
    // the agents' IPAM (the lab pools), one address per family, all distinct
    const v4 = out.model.pods.map((p) => p.ips[0] as string);
    expect(v4.every((ip) => ip.startsWith('10.244.'))).toBe(true);
    expect(out.model.pods.every((p) => (p.ips[1] ?? '').startsWith('fd44:'))).toBe(true);
    expect(new Set(v4).size).toBe(9);

    const snap: Snapshot = {
      namespaces: out.model.namespaces,
      pods: out.model.pods.map((p) => ({
        namespace: p.namespace, name: p.name, labels: p.labels, ips: p.ips, node: p.node, hostNetwork: false, phase: 'Running', terminating: false,
        ports: MODEL_CONTAINER_PORTS.map((c) => ({ name: c.name, port: c.containerPort, protocol: c.protocol })),
      })),
    };
    const { policies, rejected } = validatePolicies((await loadManifests(dir)).filter((o) => o.kind === 'NetworkPolicy'));
    expect(rejected).toEqual([]);
    expect(policies).toHaveLength(3);
    const ipOf = (key: string): string => snap.pods.find((p) => `${p.namespace}/${p.name}` === key)?.ips[0] as string;
    const nodeOf = (key: string): string => snap.pods.find((p) => `${p.namespace}/${p.name}` === key)?.node as string;

    expect(out.results).toHaveLength(9 * 9 * 2 * 2);
    const wrong: string[] = [];
    let allowedAcross = 0;
    let deniedAcross = 0;
    for (const x of out.results) {
      const want = evaluate(snap, policies, { from: { pod: x.from, ip: ipOf(x.from) }, to: { pod: x.to, ip: ipOf(x.to) }, port: x.port, protocol: x.protocol as Protocol }).allowed;
      if (x.allowed !== want) wrong.push(`${x.from}→${x.to} ${x.protocol}/${x.port}: probe ${x.allowed}, oracle ${want}`);
      else if (nodeOf(x.from) !== nodeOf(x.to)) {
        if (want) allowedAcross++;
        else deniedAcross++;
      }
    }
    expect(wrong).toEqual([]);
    expect(allowedAcross).toBeGreaterThan(0);
    expect(deniedAcross).toBeGreaterThan(0);
    // spot checks the oracle and the agents must agree on
    const one = (from: string, to: string, protocol: string, port: number) => out.results.find((x) => x.from === from && x.to === to && x.protocol === protocol && x.port === port)?.allowed;
    expect(one('y/b', 'x/a', 'TCP', 80)).toBe(true);
    expect(one('y/a', 'x/a', 'TCP', 80)).toBe(false);
    expect(one('x/a', 'z/b', 'TCP', 81)).toBe(true); // named port serve-81-tcp
    expect(one('x/a', 'z/b', 'TCP', 80)).toBe(false);
    expect(one('z/a', 'y/c', 'TCP', 80)).toBe(true); // env=prod → role=db
    expect(one('x/a', 'y/c', 'TCP', 80)).toBe(false);
  }, 300_000);
});

/**
 * Leaked-address GC with the file datastore and a real agent: a pod whose host veth
 * is deleted behind the agent's back (the runtime lost its DEL) gets its addresses
 * released within the bound; a live pod keeps its addresses; the VXLAN tunnel
 * address (no pod) is never collected.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster, type CniPod } from '../../../agent/lab/agents.js';
import { hostIfName } from '../../../agent/cni/names.js';
import { FileIpamStore } from '../../../agent/ipam/file-store.js';
import { MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { destroyAgentLab, startAgents } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });
const GC_MS = 400;

describe.skipIf(needs.skip)(`IPAM leak GC on the file datastore, by the pods' host veths (${needs.why})`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  let store: FileIpamStore;
  const pods: Record<string, CniPod> = {};

  beforeAll(async () => {
    lab = await createLab({ nodes: 1, fabric: 'l2' });
    cluster = await createAgentCluster(lab, { pool: { vxlanMode: 'Always' } });
    store = new FileIpamStore(join(cluster.dir, 'ipam'));
    await startAgents(cluster, ['n1'], () => ['--ipam-gc-interval', String(GC_MS)]);
    pods.live = await cluster.addPod('n1', 'live');
    pods.lost = await cluster.addPod('n1', 'lost');
  }, 120_000);

  afterAll(() => destroyAgentLab(lab, cluster), 60_000);

  const held = async (): Promise<Map<string, string[]>> =>
    new Map((await store.list('handle')).map((r) => [r.value.handle, r.value.addresses.map((a) => a.address)]));
  const handleOf = (p: CniPod): string => [...heldCache.keys()].find((h) => h.includes(`.${p.containerId}.`)) ?? '';
  let heldCache = new Map<string, string[]>();

  it('a pod whose veth vanished loses its address within the bound; the live pod and the tunnel address keep theirs', async () => {
    const c = cluster as AgentCluster;
    const n1 = c.lab.node('n1').ns;
    // several passes with both veths present: nothing is collected
    await new Promise((r) => setTimeout(r, GC_MS * 3));
    heldCache = await held();
    const lost = handleOf(pods.lost!);
    const live = handleOf(pods.live!);
    expect(heldCache.get(lost)).toContain(pods.lost!.ipv4);
    expect(heldCache.get(live)).toContain(pods.live!.ipv4);
    expect([...heldCache.keys()]).toContain('vxlan-tunnel-addr-n1');

    // the runtime "loses" the DEL: the host veth goes behind the agent's back
    const veth = hostIfName(pods.lost!.containerId);
    await c.lab.exec(n1, ['ip', 'link', 'del', veth]);
    const t0 = Date.now();
    await waitFor(async () => !(await held()).has(lost), 10_000, 'the lost pod\'s handle released', 100);
    const took = Date.now() - t0;
    // two passes in a row, the second ≥ 90% of an interval after the first, plus at most one interval of phase
    expect(took).toBeGreaterThanOrEqual(GC_MS * 0.9);
    expect(took).toBeLessThan(GC_MS * 3 + 2000);

    // a few more passes: the live pod and the tunnel address stay
    await new Promise((r) => setTimeout(r, GC_MS * 3));
    const after = await held();
    expect(after.get(live)).toEqual(heldCache.get(live));
    expect(after.has('vxlan-tunnel-addr-n1')).toBe(true);
    const blocks = (await store.list('block')).map((r) => r.value);
    expect(blocks.some((b) => b.allocations.includes(lost))).toBe(false);

    const log = await readFile(join(c.lab.logDir, 'agent-n1.log'), 'utf8');
    const line = log.split('\n').find((l) => l.includes('released the addresses of pod default/lost'));
    expect(line, 'the release is logged with the pod').toBeDefined();
    expect(line).toContain(pods.lost!.ipv4);
    expect(line).toContain(`host interface ${veth} missing`);
    expect(log).not.toContain('released the addresses of pod default/live');
  }, 60_000);
});

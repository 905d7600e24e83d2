import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from '../../../agent/lab/lab.js';
import { listNetns } from '../../../agent/lab/netns.js';
import { podAddress } from '../../../agent/lab/plan.js';
import { isRecordedProcessAlive, waitForLog } from '../../../agent/lab/processes.js';
import { readLabState } from '../../../agent/lab/state.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

if (needsRoot) console.warn(`test/integration/lab/lab.test.ts skipped: ${ROOT_SKIP_REASON}`);

/** Builds a lab, runs `body`, and always destroys it; proves its namespaces are gone. */
function labSuite(title: string, nodes: number, fabric: 'l2' | 'routed', body: (get: () => Lab) => void): void {
  describe.skipIf(needsRoot)(`${title} (needs root)`, () => {
    let lab: Lab | undefined;
    let stateRoot = '';
    beforeAll(async () => {
      stateRoot = await mkdtemp(join(tmpdir(), 'margay-lab-test-'));
      lab = await createLab({ nodes, fabric, stateRoot });
    });
    afterAll(async () => {
      await lab?.destroy();
      await rm(stateRoot, { recursive: true, force: true });
    });
    const get = () => lab as Lab;

    it(`has a fabric and ${nodes} node namespaces, all recorded in the state file`, async () => {
      const all = await listNetns();
      const ours = [get().fabric.ns, ...get().nodes.map((n) => n.ns)];
      for (const ns of ours) expect(all).toContain(ns);
      const state = await readLabState(stateRoot, get().prefix);
      expect(state?.namespaces).toEqual(ours);
      expect(state?.fabric).toBe(fabric);
    });

    it('every node pings every other node (IPv4 and IPv6)', async () => {
      for (const a of get().nodes) {
        for (const b of get().nodes) {
          if (a === b) continue;
          expect((await get().ping(a.ns, b.address)).ok, `${a.name} → ${b.address}`).toBe(true);
          expect((await get().ping(a.ns, b.address6)).ok, `${a.name} → ${b.address6}`).toBe(true);
        }
      }
    });

    it('a pod on each node pings its node, and its node pings it back (v4 and v6)', async () => {
      for (const n of get().nodes) {
        const pod = await get().addPod(n.name, 'web', podAddress(n.index, 1));
        expect((await get().ping(pod.ns, n.address)).ok, `${pod.ns} → ${n.address}`).toBe(true);
        expect((await get().ping(pod.ns, n.address6)).ok, `${pod.ns} → ${n.address6}`).toBe(true);
        expect((await get().ping(n.ns, pod.ipv4)).ok, `${n.ns} → ${pod.ipv4}`).toBe(true);
        const { stdout } = await get().exec(pod.ns, ['ip', '-j', 'route']);
        expect(JSON.parse(stdout)).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '169.254.1.1', dev: 'eth0' }));
      }
    });

    it('a ping to an address no lab namespace has fails (the check can fail)', async () => {
      expect((await get().ping(get().nodes[0]!.ns, '172.30.9.99', { timeoutS: 1 })).ok).toBe(false);
    });

    body(get);
  });
}

labSuite('a 3-node lab on an L2 fabric', 3, 'l2', (get) => {
  it('puts every node on 172.30.0.0/24 with its own address', () => {
    expect(get().nodes.map((n) => n.address)).toEqual(['172.30.0.11', '172.30.0.12', '172.30.0.13']);
  });

  it('runs a process in a node namespace, logs it, and stops it by PID', async () => {
    const n1 = get().node('n1');
    const proc = await get().startProcess(n1.ns, ['sh', '-c', 'ip -o -4 addr show dev eth0; echo ready; exec sleep 60']);
    await waitForLog(proc.logFile, /ready/, 5000);
    expect(await readFile(proc.logFile, 'utf8')).toContain(n1.address);
    expect(isRecordedProcessAlive(proc)).toBe(true);
    await get().stopProcess(proc);
    expect(await proc.exited).toBe('SIGTERM');
    expect(isRecordedProcessAlive(proc)).toBe(false);
  });
});

labSuite('a 1-node lab on a routed fabric, with a detached process', 1, 'routed', (get) => {
  it('starts a detached process in its own process group, recorded in the state file, and stops it', async () => {
    const proc = await get().startProcess(get().node('n1').ns, ['sleep', '60'], { detached: true, name: 'bg' });
    const stat = await readFile(`/proc/${proc.pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgrp).toBe(proc.pid);
    expect(proc.logFile).toBe(join(get().logDir, 'bg.log'));
    await get().stopProcess(proc);
    expect(isRecordedProcessAlive(proc)).toBe(false);
  });
});

labSuite('a 2-node lab on a routed fabric', 2, 'routed', (get) => {
  it('puts the two nodes on different subnets, one router hop apart', async () => {
    const [n1, n2] = get().nodes as [Lab['nodes'][number], Lab['nodes'][number]];
    expect(n1.subnet).toBe('172.30.1.0/24');
    expect(n2.subnet).toBe('172.30.2.0/24');
    const r = await get().ping(n1.ns, n2.address);
    expect(r.output).toMatch(/ttl=63/);
  });
});

describe.skipIf(needsRoot)('lab teardown (needs root)', () => {
  it('destroy() stops processes, deletes every namespace and the state file', async () => {
    const stateRoot = await mkdtemp(join(tmpdir(), 'margay-lab-test-'));
    const lab = await createLab({ nodes: 2, stateRoot });
    try {
      await lab.addPod('n2', 'db', podAddress(2, 1));
      const proc = await lab.startProcess(lab.node('n1').ns, ['sleep', '60']);
      const names = [lab.fabric.ns, ...lab.nodes.map((n) => n.ns), ...lab.pods.map((p) => p.ns)];
      expect(names).toHaveLength(4);
      await lab.destroy();
      const left = await listNetns();
      for (const ns of names) expect(left).not.toContain(ns);
      expect(isRecordedProcessAlive(proc)).toBe(false);
      expect(await readLabState(stateRoot, lab.prefix)).toBeUndefined();
      await expect(stat(lab.logDir)).rejects.toThrow();
    } finally {
      await lab.destroy();
      await rm(stateRoot, { recursive: true, force: true });
    }
  });
});

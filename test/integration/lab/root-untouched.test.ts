import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab } from '../../../agent/lab/lab.js';
import { podAddress } from '../../../agent/lab/plan.js';
import { margay } from '../../support/cli.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { snapshotRoot } from './root-snapshot.js';

if (needsRoot) console.warn(`test/integration/lab/root-untouched.test.ts skipped: ${ROOT_SKIP_REASON}`);

// Other tests may run at the same time on this machine; they too never touch the
// root namespace, so the comparison is exact (minus volatile fields, see
// root-snapshot.ts). A difference here means something created a link, address,
// route or rule in root, or changed a root sysctl.
describe.skipIf(needsRoot)('the root network namespace (needs root)', () => {
  it('is unchanged by labs of both fabrics, with pods and processes, and by lab up/down', async () => {
    const stateRoot = await mkdtemp(join(tmpdir(), 'margay-lab-root-'));
    const before = await snapshotRoot();
    expect(before.links.length).toBeGreaterThan(0);
    expect(before.routes4.length + before.routes6.length).toBeGreaterThan(0);
    try {
      for (const fabric of ['l2', 'routed'] as const) {
        const lab = await createLab({ nodes: 2, fabric, stateRoot });
        try {
          for (const n of lab.nodes) await lab.addPod(n.name, 'p', podAddress(n.index, 1));
          await lab.startProcess(lab.node('n1').ns, ['sleep', '30']);
          expect((await lab.ping(lab.pods[0]!.ns, lab.node('n1').address)).ok).toBe(true);
          expect((await lab.ping(lab.node('n1').ns, lab.node('n2').address6)).ok).toBe(true);
          // Mid-run, with everything up: root already must look the same.
          expect(await snapshotRoot()).toEqual(before);
        } finally {
          await lab.destroy();
        }
      }
      const env = { MARGAY_LAB_STATE_DIR: stateRoot };
      const up = margay(['lab', 'up', '--nodes', '2', '--fabric', 'routed'], { env });
      expect(up.status, up.stderr).toBe(0);
      const down = margay(['lab', 'down'], { env });
      expect(down.status, down.stderr).toBe(0);
      expect(await snapshotRoot()).toEqual(before);
    } finally {
      await rm(stateRoot, { recursive: true, force: true });
    }
  });

  it('the snapshot does see links, addresses, routes and sysctls change (shown on a lab namespace, never root)', async () => {
    const stateRoot = await mkdtemp(join(tmpdir(), 'margay-lab-root-'));
    const lab = await createLab({ nodes: 1, stateRoot });
    try {
      const ns = lab.node('n1').ns;
      const before = await snapshotRoot(ns);
      expect(before.sysctls['net/ipv4/ip_forward']).toBe('1');
      await lab.addPod('n1', 'p', podAddress(1, 1));
      const after = await snapshotRoot(ns);
      expect(after.links.length).toBe(before.links.length + 1);
      expect(after.routes4.length).toBeGreaterThan(before.routes4.length);
      expect(after).not.toEqual(before);
      await lab.exec(ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
      await lab.exec(ns, ['ip', 'addr', 'add', '192.0.2.200/32', 'dev', 'lo']);
      const changed = await snapshotRoot(ns);
      expect(changed.sysctls['net/ipv4/ip_forward']).toBe('0');
      expect(changed.addrs).not.toEqual(after.addrs);
    } finally {
      await lab.destroy();
      await rm(stateRoot, { recursive: true, force: true });
    }
  });
});

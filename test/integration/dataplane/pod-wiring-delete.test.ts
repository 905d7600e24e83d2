/**
 * NetlinkPodWiring's DEL runs on a worker thread, so the kernel's slow veth deletion
 * does not stall the agent's event loop. The worker is this module itself, loaded
 * as JavaScript: the test loads the built module from dist/ (vitest's TypeScript
 * source cannot be a worker; the sync fallback is what pod-wiring.test.ts covers).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, ip, newRunPrefix } from '../../../agent/lab/netns.js';
import type { NetlinkPodWiring } from '../../../agent/dataplane/pod-wiring.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { REPO_ROOT } from '../../support/cli.js';

const BUILT = join(REPO_ROOT, 'dist', 'agent', 'dataplane', 'pod-wiring.js');
const built = existsSync(BUILT);
if (!built) process.stderr.write(`pod-wiring-delete: skipped, ${BUILT} missing (run npx tsc -p tsconfig.json)\n`);

describe.skipIf(needsRoot || !built)(`pod wiring DEL on a worker thread (${needsRoot ? ROOT_SKIP_REASON : 'root, built dist/'})`, () => {
  const prefix = newRunPrefix();
  const node = `${prefix}node`;
  const pods = [0, 1, 2].map((i) => `${prefix}pod${i}`);
  let wiring: NetlinkPodWiring | undefined;

  beforeAll(async () => {
    for (const ns of [node, ...pods]) await addNetns(ns);
    const mod = (await import(pathToFileURL(BUILT).href)) as typeof import('../../../agent/dataplane/pod-wiring.js');
    wiring = new mod.NetlinkPodWiring({ nodeNetnsPath: `/var/run/netns/${node}` });
  });
  afterAll(async () => {
    wiring?.close();
    for (const ns of [...pods, node]) await deleteNetns(ns);
  });

  it('deletes the veth pair off the main thread; the event loop keeps turning meanwhile', async () => {
    const w = wiring as NetlinkPodWiring;
    // longest event-loop gap / DEL time: ≥ 1 for a synchronous delete (no tick can run)
    const ratios: number[] = [];
    for (const [i, pod] of pods.entries()) {
      const hostIf = `mgwdel${i}`;
      await w.add({ hostIf, podIf: 'eth0', netns: `/var/run/netns/${pod}`, addresses: [{ family: 4, address: `10.77.0.${i + 1}`, prefix: 32, block: '10.77.0.0/26', pool: 'p' }] });
      expect((await ip(node, 'link', 'show', hostIf)).stdout).toContain(hostIf);
      let last = performance.now();
      let maxGap = 0;
      const tick = setInterval(() => { const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now; }, 1);
      const t0 = performance.now();
      expect(await w.del(hostIf)).toBe(true);
      const ms = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 5)); // a tick after the DEL: a blocked loop shows as one long gap
      clearInterval(tick);
      ratios.push(maxGap / ms);
      process.stderr.write(`pod-wiring-delete: DEL ${ms.toFixed(1)} ms, longest event-loop gap ${maxGap.toFixed(1)} ms\n`);
      expect(w.deletesOffThread).toBe(true);
      expect((await ip(node, 'link', 'show')).stdout).not.toContain(hostIf);
      expect((await ip(pod, 'link', 'show')).stdout).not.toContain('eth0');
      expect(await w.del(hostIf)).toBe(false);
    }
    expect(Math.min(...ratios)).toBeLessThan(0.5); // a busy machine may stall one DEL's ticks, not all three
  });
});

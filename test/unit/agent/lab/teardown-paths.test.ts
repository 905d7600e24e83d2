import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { teardownState } from '../../../../agent/lab/teardown.js';
import type { LabState } from '../../../../agent/lab/state.js';

// No namespaces and no processes: teardownState only lists namespaces (`ip netns list`),
// which needs no privilege. The state names a lab prefix no namespace carries.
describe('teardownState removes the directories a lab recorded', () => {
  it('removes the agents\' datastore directory recorded in the state (an interrupted demo leaves none)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'margay-teardown-root-'));
    const cluster = await mkdtemp(join(tmpdir(), 'margay-agents-test-'));
    try {
      await mkdir(join(cluster, '.run', 'n1'), { recursive: true });
      await writeFile(join(cluster, 'nodes.yaml'), 'kind: Node\n');
      const state: Pick<LabState, 'prefix' | 'namespaces' | 'processes' | 'paths'> = { prefix: 'mgzz91-', namespaces: [], processes: [], paths: [cluster] };
      await teardownState(root, state);
      expect(existsSync(cluster)).toBe(false);
    } finally {
      await rm(cluster, { recursive: true, force: true });
      await rm(root, { recursive: true, force: true });
    }
  });
});

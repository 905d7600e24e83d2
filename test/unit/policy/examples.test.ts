import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { loadManifests } from '../../../agent/cli/policy-compile.js';
import { validatePolicies } from '../../../policy/compile.js';
import { REPO_ROOT } from '../../support/cli.js';

describe('examples/policies', () => {
  it('every example NetworkPolicy is valid', async () => {
    const dir = join(REPO_ROOT, 'examples', 'policies');
    expect(readdirSync(dir).filter((f) => f.endsWith('.yaml')).length).toBeGreaterThanOrEqual(6);
    const objects = await loadManifests(dir);
    const { policies, rejected } = validatePolicies(objects.filter((o) => o.kind === 'NetworkPolicy'));
    expect(rejected).toEqual([]);
    expect(policies.length).toBeGreaterThanOrEqual(6);
  });
});

import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { compile, snapshotFromObjects } from '../../../../policy/compile.js';
import { iptablesRestoreText, ipsetRestoreText } from '../../../../policy/render/restore-text.js';

// Golden renders of the fixture cluster (test/unit/policy/fixtures). Update with
// `npx vitest run test/unit/policy/render/golden.test.ts -u`; CI never writes them.
const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures');
const docs = (file: string): unknown[] => parseAllDocuments(readFileSync(file, 'utf8')).flatMap((d) => {
  const v = d.toJS() as { kind?: string; items?: unknown[] };
  return v.kind === 'List' ? (v.items ?? []) : [v];
});

describe('golden renders', () => {
  const policyFiles = readdirSync(join(fixtures, 'policies')).filter((f) => f.endsWith('.yaml')).sort();
  it('reads the fixture files', () => {
    expect(policyFiles.length).toBeGreaterThanOrEqual(2);
  });
  for (const file of policyFiles) {
    for (const node of ['node-1', 'node-2']) {
      it(`${file} on ${node}`, async () => {
        const snap = snapshotFromObjects(docs(join(fixtures, 'pods.yaml')), docs(join(fixtures, 'namespaces.yaml')));
        expect(snap.pods).toHaveLength(9);
        const c = compile(snap, docs(join(fixtures, 'policies', file)), node);
        const text = [
          `# rejected: ${JSON.stringify(c.rejected)}`,
          iptablesRestoreText(c.rendered.v4), iptablesRestoreText(c.rendered.v6),
          ipsetRestoreText(c.rendered.v4.sets), ipsetRestoreText(c.rendered.v6.sets),
        ].join('\n');
        await expect(text).toMatchFileSnapshot(join(here, '__goldens__', `${file.replace(/\.yaml$/, '')}.${node}.txt`));
      });
    }
  }
});

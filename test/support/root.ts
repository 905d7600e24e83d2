import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRoot } from '../../agent/lab/netns.js';
import { REPO_ROOT } from './cli.js';

/**
 * Tests that need namespaces or iptables run only as root; otherwise they skip and
 * say why: in describe.skipIf's title (CI's summary lists skipped tests by full
 * name) and, through `requirements`, on stderr.
 */
export const needsRoot = !isRoot();
export const ROOT_SKIP_REASON = 'needs root (network namespaces, iptables); run as root or in CI';

export interface Requirements {
  skip: boolean;
  /** skipping: each missing need (root, or which built files); else every need */
  why: string;
}

/**
 * What a test needs — root, files built into dist/ (the CLI, the CNI plugin) — and
 * which of it is missing: `describe.skipIf(r.skip)(\`title (${r.why})\`, …)`. When
 * something is missing it also says so on stderr, named by `file` (the caller's
 * import.meta.url): vitest's default reporter does not print a skipped suite's title.
 */
export function requirements(o: { root?: boolean; built?: readonly string[]; file?: string }): Requirements {
  const rel = (f: string): string => relative(REPO_ROOT, f);
  const missing: string[] = [];
  if (o.root && needsRoot) missing.push(ROOT_SKIP_REASON);
  const absent = (o.built ?? []).filter((f) => !existsSync(f));
  if (absent.length > 0) missing.push(`needs the build: ${absent.map(rel).join(', ')} missing (run npx tsc -p tsconfig.json)`);
  if (missing.length > 0) {
    const why = missing.join('; ');
    process.stderr.write(`${o.file ? relative(REPO_ROOT, fileURLToPath(o.file)) : 'a test'}: skipped, ${why}\n`);
    return { skip: true, why };
  }
  const all = [...(o.root ? ['root'] : []), ...(o.built?.length ? [`the built ${o.built.map(rel).join(', ')}`] : [])];
  return { skip: false, why: all.length > 0 ? `needs ${all.join(' and ')}` : 'needs nothing' };
}

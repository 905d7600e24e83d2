import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { isRoot } from '../../agent/lab/netns.js';
import { REPO_ROOT } from './cli.js';

/**
 * Tests that need namespaces or iptables run only as root; otherwise they skip and
 * say why (vitest prints the skip reason through describe.skipIf's title).
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
 * which of it is missing: `describe.skipIf(r.skip)(\`title (${r.why})\`, …)`.
 */
export function requirements(o: { root?: boolean; built?: readonly string[] }): Requirements {
  const rel = (f: string): string => relative(REPO_ROOT, f);
  const missing: string[] = [];
  if (o.root && needsRoot) missing.push(ROOT_SKIP_REASON);
  const absent = (o.built ?? []).filter((f) => !existsSync(f));
  if (absent.length > 0) missing.push(`needs the build: ${absent.map(rel).join(', ')} missing (run npx tsc -p tsconfig.json)`);
  if (missing.length > 0) return { skip: true, why: missing.join('; ') };
  const all = [...(o.root ? ['root'] : []), ...(o.built?.length ? [`the built ${o.built.map(rel).join(', ')}`] : [])];
  return { skip: false, why: all.length > 0 ? `needs ${all.join(' and ')}` : 'needs nothing' };
}

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentMetrics } from '../../../agent/health/agent-metrics.js';
import { REPO_ROOT } from '../../support/cli.js';

// docs/agent.md's /metrics table is what an operator builds dashboards and alerts
// from: it must name exactly the metric families the agent exposes, with their types.

/** `| \`a\`, \`b\` | gauge | … |` rows of the table under "/metrics": name → type. */
function documentedMetrics(md: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of md.split('\n')) {
    const m = /^\s*\|\s*(`margay_[^|]+)\|\s*(counter|gauge|histogram)\s*\|/.exec(line);
    if (!m) continue;
    for (const name of (m[1] as string).matchAll(/`(margay_[a-z_]+)`/g)) out.set(name[1] as string, m[2] as string);
  }
  return out;
}

/** `# TYPE name type` lines of the registry's exposition. */
function exposedMetrics(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
}

describe('docs/agent.md metrics table', () => {
  it('lists exactly the metric families the agent exposes, with their types', () => {
    const documented = documentedMetrics(readFileSync(join(REPO_ROOT, 'docs', 'agent.md'), 'utf8'));
    const exposed = exposedMetrics(new AgentMetrics().registry.render());
    expect(exposed.size).toBeGreaterThan(5);
    expect(Object.fromEntries([...documented].sort())).toEqual(Object.fromEntries([...exposed].sort()));
  });

  it('the table reader finds a made-up row (a reader that finds nothing must fail)', () => {
    expect(documentedMetrics('| `margay_x_total`, `margay_y` | counter | `l` |\n| text | gauge | |')).toEqual(new Map([['margay_x_total', 'counter'], ['margay_y', 'counter']]));
  });
});

import { run } from './exec.js';
import { isRoot } from './netns.js';

/**
 * What a lab needs from the host, checked before anything is created, so that a
 * person gets one clear sentence instead of a failed `ip` command half-way.
 * Resolves the problems found (empty: ready).
 */
export async function labHostProblems(tools: readonly string[] = ['ip', 'sysctl']): Promise<string[]> {
  const problems: string[] = [];
  if (!isRoot()) problems.push('a lab needs root (it creates network namespaces): run it as root, e.g. with sudo');
  for (const tool of tools) {
    if (!(await hasTool(tool))) {
      problems.push(`"${tool}" is not installed (${TOOL_PACKAGES[tool] ?? tool}); sh agent/lab/install-system-deps.sh installs it`);
    }
  }
  return problems;
}

const TOOL_PACKAGES: Record<string, string> = {
  ip: 'Debian package iproute2', sysctl: 'Debian package procps', ping: 'Debian package iputils-ping',
  'iptables-restore': 'Debian package iptables', ipset: 'Debian package ipset', bird: 'Debian package bird2',
};

async function hasTool(tool: string): Promise<boolean> {
  try {
    await run(['sh', '-c', `command -v "$1" >/dev/null`, 'sh', tool]);
    return true;
  } catch {
    return false;
  }
}

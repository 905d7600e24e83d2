import { randomBytes } from 'node:crypto';
import { run, inNetns, type ExecResult } from './exec.js';

/**
 * Network namespaces owned by margay. Every name starts with `mg` + a per-run
 * prefix so that parallel runs do not collide and leftovers of a crashed run can be
 * found and removed. Links are always created inside a namespace (`ip -n NS link add
 * ... peer ... netns OTHER`), never in the root namespace.
 */
export const NETNS_ROOT_PREFIX = 'mg';

/** A fresh per-run prefix such as `mg3fa9-` (short: interface names are ≤ 15 chars). */
export function newRunPrefix(): string {
  return `${NETNS_ROOT_PREFIX}${randomBytes(2).toString('hex')}-`;
}

export async function listNetns(): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

export async function addNetns(name: string): Promise<void> {
  await run(['ip', 'netns', 'add', name]);
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

export async function deleteNetns(name: string): Promise<void> {
  await run(['ip', 'netns', 'delete', name]).catch(() => undefined);
}

/** Runs a command inside a namespace. */
export function netnsExec(ns: string, argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return run(inNetns(ns, argv), opts);
}

/** `ip` inside a namespace, e.g. ip(ns, 'addr', 'add', ...). */
export function ip(ns: string, ...args: string[]): Promise<ExecResult> {
  return run(['ip', '-n', ns, ...args]);
}

/** A veth pair with one end in each namespace, created inside `nsA` (never in root). */
export async function addVethPair(nsA: string, nameA: string, nsB: string, nameB: string): Promise<void> {
  await ip(nsA, 'link', 'add', nameA, 'type', 'veth', 'peer', 'name', nameB, 'netns', nsB);
  await ip(nsA, 'link', 'set', nameA, 'up');
  await ip(nsB, 'link', 'set', nameB, 'up');
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

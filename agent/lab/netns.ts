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

/** Runs many `ip` commands in one process inside a namespace (`ip -n NS -batch -`). */
export async function ipBatch(ns: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await run(['ip', '-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** Sets sysctls inside a namespace in one process, e.g. ['net.ipv4.ip_forward=1']. */
export async function setSysctls(ns: string, settings: string[]): Promise<void> {
  if (settings.length === 0) return;
  await netnsExec(ns, ['sysctl', '-q', '-w', ...settings]);
}

export interface PingResult {
  ok: boolean;
  /** Round-trip time of the last reply, when there was one. */
  rttMs?: number;
  output: string;
}

/**
 * Pings `address` from inside `ns` (IPv4 or IPv6), `count` probes 0.2 s apart,
 * waiting at most `timeoutS` for each reply. Never throws for an unanswered ping.
 */
export async function ping(ns: string, address: string, opts: { count?: number; timeoutS?: number } = {}): Promise<PingResult> {
  const count = opts.count ?? 1;
  const timeoutS = opts.timeoutS ?? 2;
  const argv = ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', String(timeoutS), address];
  try {
    const { stdout } = await netnsExec(ns, argv, { timeoutMs: (count * timeoutS + 5) * 1000 });
    const times = [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    const last = times.at(-1);
    return last === undefined ? { ok: true, output: stdout } : { ok: true, rttMs: last, output: stdout };
  } catch (err) {
    return { ok: false, output: err instanceof Error ? err.message : String(err) };
  }
}

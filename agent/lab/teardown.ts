import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { deleteNetns, listNetns, NETNS_ROOT_PREFIX } from './netns.js';
import { isRecordedProcessAlive, stopRecorded } from './processes.js';
import { deletionOrder, pickLatestCliLab, unrecordedNamespaces } from './down-plan.js';
import { labId, readLabState, readLabStates, removeLabState, type LabState } from './state.js';

/**
 * Tearing labs down: stop every recorded process by PID (checked against its
 * recorded start time), remove its recorded directories, then delete the
 * namespaces, then the state file and logs.
 * Used by Lab.destroy() and by `margay lab down`, so a crashed run is cleaned up
 * exactly as a clean one.
 */
export interface TeardownReport {
  prefix: string;
  stopped: { name: string; pid: number; how: 'gone' | 'terminated' | 'killed' }[];
  deleted: string[];
}

export type Progress = (line: string) => void;

export async function teardownState(
  root: string,
  state: Pick<LabState, 'prefix' | 'namespaces' | 'processes' | 'paths'>,
  opts: { children?: Map<number, ChildProcess>; onProgress?: Progress; keepLogs?: boolean } = {},
): Promise<TeardownReport> {
  const say = opts.onProgress ?? (() => undefined);
  const report: TeardownReport = { prefix: state.prefix, stopped: [], deleted: [] };
  const errors: string[] = [];
  for (const p of [...state.processes].reverse()) {
    try {
      const how = await stopRecorded({ ...p, child: opts.children?.get(p.pid) });
      report.stopped.push({ name: p.name, pid: p.pid, how });
      if (how !== 'gone') say(`stopped ${p.name} (PID ${p.pid}, ${how})`);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  // after the processes stopped (agents write their datastore until then)
  for (const path of state.paths ?? []) {
    if (!isAbsolute(path) || path === '/') continue;
    await rm(path, { recursive: true, force: true }).catch((err: Error) => { errors.push(err.message); });
  }
  const existing = new Set(await listNetns());
  for (const ns of deletionOrder(state)) {
    if (!existing.has(ns)) continue;
    await deleteNetns(ns);
    report.deleted.push(ns);
  }
  if (report.deleted.length > 0) say(`deleted ${report.deleted.length} namespaces of lab ${labId(state.prefix)}`);
  const left = (await listNetns()).filter((ns) => state.namespaces.includes(ns));
  if (left.length > 0) errors.push(`namespaces still present: ${left.join(', ')}`);
  if (errors.length > 0) throw new Error(`lab ${labId(state.prefix)} teardown incomplete: ${errors.join('; ')}`);
  if (!opts.keepLogs) await removeLabState(root, state.prefix);
  return report;
}

/**
 * `margay lab down [--prefix P]`: the named lab, or the latest one a person started.
 * With a prefix but no state file, deletes the namespaces carrying that prefix.
 * Resolves undefined when there is nothing to tear down.
 */
export async function labDown(root: string, prefix: string | undefined, onProgress?: Progress): Promise<TeardownReport | undefined> {
  if (prefix === undefined) {
    const latest = pickLatestCliLab(await readLabStates(root));
    return latest ? teardownState(root, latest, { onProgress }) : undefined;
  }
  const p = `${labId(prefix)}-`;
  const state = await readLabState(root, p);
  if (state) return teardownState(root, state, { onProgress });
  const namespaces = (await listNetns()).filter((ns) => ns.startsWith(p));
  if (namespaces.length === 0) return undefined;
  return teardownState(root, { prefix: p, namespaces, processes: [] }, { onProgress });
}

/**
 * `margay lab down --all`: every recorded lab and every unrecorded namespace that
 * `isOurs` accepts (by default every `mg...` namespace). It also removes the labs
 * of tests still running: not for use while tests run on this machine.
 */
export async function labDownAll(
  root: string,
  onProgress?: Progress,
  isOurs: (ns: string) => boolean = (ns) => ns.startsWith(NETNS_ROOT_PREFIX),
): Promise<TeardownReport[]> {
  const states = (await readLabStates(root)).filter((s) => isOurs(s.prefix));
  const reports: TeardownReport[] = [];
  for (const s of states) {
    if (s.owner.pid !== process.pid && isRecordedProcessAlive(s.owner)) {
      onProgress?.(`lab ${labId(s.prefix)} was built by PID ${s.owner.pid}, which is still running; removing it anyway`);
    }
    reports.push(await teardownState(root, s, { onProgress }));
  }
  const strays = unrecordedNamespaces(await listNetns(), states, isOurs);
  if (strays.length > 0) {
    reports.push(await teardownState(root, { prefix: 'unrecorded', namespaces: strays, processes: [] }, { onProgress, keepLogs: true }));
  }
  return reports;
}

import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FabricKind } from './plan.js';
import type { ProcessRecord } from './processes.js';

/**
 * The lab state file: `<root>/<id>.json` (root /run/margay/lab, or
 * $MARGAY_LAB_STATE_DIR; id = the prefix without its trailing '-'), plus a
 * directory `<root>/<id>/` for process logs. It is written (atomically, by rename)
 * before each namespace is created and after each process starts, so that
 * `margay lab down` can clean up after a run that crashed half-way.
 */
export interface LabState {
  version: 1;
  prefix: string;
  fabric: FabricKind;
  /** 'cli' for `margay lab up`/`demo --keep`; 'api' for tests and tools. */
  origin: 'cli' | 'api';
  createdAt: string;
  /** The process that built the lab (start time as in ProcessRecord). */
  owner: { pid: number; startTime: string };
  /** Every namespace created (or about to be), in creation order. */
  namespaces: string[];
  processes: ProcessRecord[];
  /** Directories outside the state root the lab made (the agents' datastore), removed at teardown. */
  paths?: string[];
  nodes: { name: string; ns: string; address: string; address6: string; subnet: string }[];
  pods: { name: string; node: string; ns: string; ipv4: string; ipv6?: string }[];
}

export function labStateRoot(): string {
  return process.env.MARGAY_LAB_STATE_DIR || '/run/margay/lab';
}

/** `mg3fa9-` or `mg3fa9` → `mg3fa9`. */
export function labId(prefix: string): string {
  return prefix.endsWith('-') ? prefix.slice(0, -1) : prefix;
}

export function labLogDir(root: string, prefix: string): string {
  return join(root, labId(prefix));
}

export async function writeLabState(root: string, state: LabState): Promise<void> {
  await mkdir(root, { recursive: true });
  const file = join(root, `${labId(state.prefix)}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file);
}

export async function readLabState(root: string, prefix: string): Promise<LabState | undefined> {
  const text = await readFile(join(root, `${labId(prefix)}.json`), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseLabState(text);
}

/** Every readable state file under root (unreadable or foreign files are skipped). */
export async function readLabStates(root: string): Promise<LabState[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const states: LabState[] = [];
  for (const n of names.filter((f) => f.endsWith('.json')).sort()) {
    const s = parseLabState(await readFile(join(root, n), 'utf8').catch(() => ''));
    if (s) states.push(s);
  }
  return states;
}

/** Removes the state file and the log directory of a lab. */
export async function removeLabState(root: string, prefix: string): Promise<void> {
  await rm(join(root, `${labId(prefix)}.json`), { force: true });
  await rm(labLogDir(root, prefix), { recursive: true, force: true });
}

function parseLabState(text: string): LabState | undefined {
  try {
    const v = JSON.parse(text) as Partial<LabState>;
    if (v.version !== 1 || typeof v.prefix !== 'string' || !Array.isArray(v.namespaces) || !Array.isArray(v.processes)) return undefined;
    return v as LabState;
  } catch {
    return undefined;
  }
}

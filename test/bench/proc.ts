/**
 * Benchmarks' readings of a process from /proc: its only child (to see through a
 * wrapper), CPU time and RSS.
 */
import { readFileSync } from 'node:fs';

const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** `pid`'s only child, if it has exactly one. */
export function onlyChild(pid: number): number | undefined {
  const kids = read(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter((x) => x !== '');
  return kids.length === 1 ? Number(kids[0]) : undefined;
}

/** The CLI started by an older Node runs itself again under the project's Node as its one child, marked MARGAY_NO_REEXEC=1 (agent/cli/runtime-node.ts). */
export function reexecChild(pid: number): number | undefined {
  const child = onlyChild(pid);
  return child !== undefined && read(`/proc/${child}/environ`).split('\0').includes('MARGAY_NO_REEXEC=1') ? child : undefined;
}

/** CPU seconds (user + system) the process has used so far. */
export function cpuSecondsOf(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Resident set size in bytes. */
export function rssBytesOf(pid: number): number {
  const m = /VmRSS:\s*(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

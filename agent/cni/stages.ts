/**
 * Where the agent's share of a CNI request goes, for the benchmark and for
 * diagnosis (CniServerOptions.stages; the standalone server turns it on with
 * MARGAY_CNI_AGENT_STAGES=1): the PodWiring calls timed, and the event-loop
 * thread's on-CPU, run-queue and off-CPU (blocked: a kernel lock, an RCU wait)
 * time from /proc/thread-self/schedstat over the whole request. Off by default:
 * it costs a file read per request. Stages: requestMs (accepted → request read),
 * netnsMs, ipamMs (between the namespace check and the wiring), wiringMs, and the
 * event-loop thread's cpuMs / runqMs / offCpuMs over the whole request.
 */
import { readFileSync } from 'node:fs';
import type { PodLink, PodWiring } from './handler.js';

export interface SchedStat { cpuNs: number; runqNs: number }

export function schedStat(): SchedStat | undefined {
  try {
    const [cpu, runq] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return { cpuNs: Number(cpu), runqNs: Number(runq) };
  } catch {
    return undefined;
  }
}

/** Milliseconds per stage of one request (keys: netns, wiring, and the thread's cpu/runq/offCpu). */
export type Stages = Record<string, number>;

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** A PodWiring that records how long netnsExists/add took, per pod namespace. */
export class TimedWiring implements PodWiring {
  private readonly byNetns = new Map<string, Stages>();
  constructor(private readonly inner: PodWiring) {}

  private async time<T>(netns: string, stage: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      const s = this.byNetns.get(netns) ?? {};
      s[stage] = round((s[stage] ?? 0) + performance.now() - t);
      this.byNetns.set(netns, s);
    }
  }

  private readonly checked = new Map<string, number>();

  netnsExists(netns: string): Promise<boolean> {
    return this.time(netns, 'netnsMs', () => this.inner.netnsExists(netns)).finally(() => this.checked.set(netns, performance.now()));
  }

  /** ADD: netnsExists, then IPAM (the time between the two calls, `ipamMs`), then this. */
  add(l: PodLink): Promise<{ hostMac: string; podMac: string }> {
    const since = this.checked.get(l.netns);
    if (since !== undefined) {
      this.checked.delete(l.netns);
      const s = this.byNetns.get(l.netns) ?? {};
      s.ipamMs = round(performance.now() - since);
      this.byNetns.set(l.netns, s);
    }
    return this.time(l.netns, 'wiringMs', () => this.inner.add(l));
  }
  del(hostIf: string): Promise<boolean> { return this.inner.del(hostIf); }
  check(l: PodLink): Promise<string[]> { return this.inner.check(l); }

  /** The stages recorded for `netns` (forgotten once taken). */
  take(netns: string | undefined): Stages {
    if (netns === undefined) return {};
    const s = this.byNetns.get(netns) ?? {};
    this.byNetns.delete(netns);
    return s;
  }
}

/** The thread's time between two schedstat readings, split into on-CPU, run queue and off-CPU. */
export function threadTime(before: SchedStat | undefined, after: SchedStat | undefined, wallMs: number): Stages {
  if (!before || !after) return {};
  const cpuMs = (after.cpuNs - before.cpuNs) / 1e6;
  const runqMs = (after.runqNs - before.runqNs) / 1e6;
  return { cpuMs: round(cpuMs), runqMs: round(runqMs), offCpuMs: round(Math.max(0, wallMs - cpuMs - runqMs)) };
}

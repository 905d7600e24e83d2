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

/** Milliseconds per stage of one request (keys: netnsMs, ipamMs, wiringMs, and the thread's cpuMs/runqMs/offCpuMs). */
export type Stages = Record<string, number>;

const round = (ms: number): number => Math.round(ms * 100) / 100;

/**
 * A PodWiring that records how long one request's netnsExists/add took. The
 * server makes one per request and reads it when it answers, so nothing is kept
 * for a request that never reaches add() (CHECK, DEL, an ADD refused before the
 * wiring), and two requests in one pod namespace never share a record.
 */
export class TimedWiring implements PodWiring {
  private readonly recorded: Stages = {};
  /** when netnsExists returned: ADD's IPAM time runs from here to add() */
  private checkedAt: number | undefined;
  constructor(private readonly inner: PodWiring) {}

  private async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.recorded[stage] = round((this.recorded[stage] ?? 0) + performance.now() - t);
    }
  }

  netnsExists(netns: string): Promise<boolean> {
    return this.time('netnsMs', () => this.inner.netnsExists(netns)).finally(() => { this.checkedAt = performance.now(); });
  }

  /** ADD: netnsExists, then IPAM (the time between the two calls, `ipamMs`), then this. */
  add(l: PodLink): Promise<{ hostMac: string; podMac: string }> {
    if (this.checkedAt !== undefined) {
      this.recorded.ipamMs = round(performance.now() - this.checkedAt);
      this.checkedAt = undefined;
    }
    return this.time('wiringMs', () => this.inner.add(l));
  }
  del(hostIf: string): Promise<boolean> { return this.inner.del(hostIf); }
  check(l: PodLink): Promise<string[]> { return this.inner.check(l); }

  /** The stages recorded so far (a copy). */
  stages(): Stages {
    return { ...this.recorded };
  }
}

/** The thread's time between two schedstat readings, split into on-CPU, run queue and off-CPU. */
export function threadTime(before: SchedStat | undefined, after: SchedStat | undefined, wallMs: number): Stages {
  if (!before || !after) return {};
  const cpuMs = (after.cpuNs - before.cpuNs) / 1e6;
  const runqMs = (after.runqNs - before.runqNs) / 1e6;
  return { cpuMs: round(cpuMs), runqMs: round(runqMs), offCpuMs: round(Math.max(0, wallMs - cpuMs - runqMs)) };
}

/**
 * Where the milliseconds of a route go, stage by stage (`MARGAY_TRACE_ROUTES=1`):
 *
 *   receiving: UPDATE bytes read → decoded → RIB changes → agent event → netlink write
 *   sending:   IPAM claim → originate → UPDATE encoded (written to the socket)
 *
 * Stamps are performance.now() taken in the shell only: the codec is wrapped (its
 * split() sees the bytes as they are read, its decode()/encode() the messages), the
 * rest is stamped by the agent. One log line per netlink write or per sent UPDATE,
 * with the deltas in ms. Off (the default) it costs one boolean test per call.
 * `ran()` stamps the agent's other callbacks (deferred inputs, passes, warm-up
 * slices): each write's line lists those that ran in the 5 ms before its UPDATE was
 * read (`ranBeforeRead`: label, ms before the read it ended, its duration) — what
 * the event loop was doing while the UPDATE waited on the socket. With
 * `MARGAY_TRACE_ROUTES=2` every callback of the loop is stamped too (async_hooks:
 * its resource type — FSEVENTWRAP for a file watch, TCPWRAP, Timeout, PROMISE ...),
 * which costs a little on every callback and promise: for diagnosis only.
 * docs/agent.md has what it showed.
 */
import { createHook } from 'node:async_hooks';
import type { Logger } from 'pino';
import type { DriverCodec } from '../../bgp/session/driver.js';

const ms = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : Math.round((b - a) * 1000) / 1000;
/** wall-clock ms (µs resolution) of a performance.now() stamp: comparable across processes */
const wall = (t: number | undefined): number | undefined => (t === undefined ? undefined : Math.round((performance.timeOrigin + t) * 1000) / 1000);

export class RouteTrace {
  private read: number | undefined;
  /** process CPU time (µs, user + system) at the read: read → written's CPU against its wall time tells own work from waiting for a CPU */
  private readCpu: number | undefined;
  private decoded: number | undefined;
  private rib: number | undefined;
  private event: number | undefined;
  private planned: number | undefined;
  private claimed: number | undefined;
  private originated: number | undefined;
  /** the last callbacks stamped by ran(): [label, start, end] */
  private readonly recent: [string, number, number][] = [];

  constructor(readonly on: boolean, private readonly log: Logger, loop = false) {
    if (on && loop) this.hookLoop();
  }

  static fromEnv(log: Logger, env: NodeJS.ProcessEnv = process.env): RouteTrace {
    const level = env.MARGAY_TRACE_ROUTES;
    return new RouteTrace(level === '1' || level === '2', log, level === '2');
  }

  /** Stamps every callback the loop runs, by resource type (MARGAY_TRACE_ROUTES=2). */
  private hookLoop(): void {
    const types = new Map<number, string>();
    const open = new Map<number, number>();
    createHook({
      init: (id, type) => { types.set(id, type); },
      before: (id) => { open.set(id, performance.now()); },
      after: (id) => {
        const t0 = open.get(id);
        open.delete(id);
        const type = types.get(id) ?? '?';
        if (t0 !== undefined && type !== 'PROMISE') this.ran(`loop ${type}`, t0);
      },
      destroy: (id) => { types.delete(id); },
      promiseResolve: () => undefined,
    }).enable();
  }

  /** Learned routes reached the agent (NodeBgp.onRoutes). */
  ribChanged(): void {
    if (this.on) this.rib = performance.now();
  }

  /** The agent acts on them (fast path or full pass kicked). */
  agentEvent(): void {
    if (this.on) this.event = performance.now();
  }

  /** A callback of the agent that began at `start` (performance.now()) has just ended. */
  ran(label: string, start: number): void {
    if (!this.on) return;
    this.recent.push([label, start, performance.now()]);
    if (this.recent.length > 32) this.recent.shift();
  }

  private ranBefore(t: number | undefined): { label: string; endedMsBefore: number; ms: number }[] | undefined {
    if (t === undefined) return undefined;
    return this.recent.filter(([, , end]) => end > t - 5 && end <= t)
      .map(([label, start, end]) => ({ label, endedMsBefore: ms(end, t) as number, ms: ms(start, end) as number }));
  }

  /** The fast path planned its writes (the netlink write follows). */
  plannedFast(): void {
    if (this.on) this.planned = performance.now();
  }

  /** One netlink write of learned routes is done. */
  written(kind: 'fast' | 'pass', prefixes: readonly string[]): void {
    if (!this.on) return;
    const now = performance.now();
    const cpu = process.cpuUsage();
    this.log.info({
      kind, prefixes: prefixes.slice(0, 4), n: prefixes.length, readToDecoded: ms(this.read, this.decoded), decodedToRib: ms(this.decoded, this.rib),
      ribToAgent: ms(this.rib, this.event), agentToWritten: ms(this.event, now), agentToPlanned: ms(this.event, this.planned), plannedToWritten: ms(this.planned, now), total: ms(this.read, now), readAt: wall(this.read), at: wall(now),
      cpuReadToWritten: this.readCpu === undefined ? undefined : Math.round(cpu.user + cpu.system - this.readCpu) / 1000,
      ranBeforeRead: this.ranBefore(this.read),
    }, 'trace: learned route written');
    this.read = this.decoded = this.rib = this.event = this.planned = this.readCpu = undefined;
  }

  /** A block was claimed in IPAM (the store's create returned). */
  claim(): void {
    if (this.on) this.claimed = performance.now();
  }

  /** The speaker was handed the new originated prefixes. */
  originate(): void {
    if (this.on) this.originated = performance.now();
  }

  /** The codec, stamping bytes read, UPDATEs decoded and UPDATEs encoded. */
  codec(inner: DriverCodec): DriverCodec {
    if (!this.on) return inner;
    return {
      initial: inner.initial,
      split: (buf) => {
        // the route path runs synchronously inside the read of its chunk: stamp per chunk
        this.read = performance.now();
        const cpu = process.cpuUsage();
        this.readCpu = cpu.user + cpu.system;
        this.decoded = undefined;
        return inner.split(buf);
      },
      decode: (frame, opts) => {
        const r = inner.decode(frame, opts);
        if ('message' in r && r.message?.type === 'UPDATE') this.decoded = performance.now();
        return r;
      },
      encode: (m, opts) => {
        const out = inner.encode(m, opts);
        if (m.type === 'UPDATE' && this.claimed !== undefined) {
          const now = performance.now();
          this.log.info({ claimToOriginate: ms(this.claimed, this.originated), originateToEncoded: ms(this.originated, now), total: ms(this.claimed, now), at: wall(now) }, 'trace: UPDATE for a claimed block encoded');
          this.claimed = this.originated = undefined;
        }
        return out;
      },
    };
  }
}

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
 * docs/agent.md has what it showed.
 */
import type { Logger } from 'pino';
import type { DriverCodec } from '../../bgp/session/driver.js';

const ms = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : Math.round((b - a) * 1000) / 1000;
/** wall-clock ms (µs resolution) of a performance.now() stamp: comparable across processes */
const wall = (t: number | undefined): number | undefined => (t === undefined ? undefined : Math.round((performance.timeOrigin + t) * 1000) / 1000);

export class RouteTrace {
  private read: number | undefined;
  private decoded: number | undefined;
  private rib: number | undefined;
  private event: number | undefined;
  private claimed: number | undefined;
  private originated: number | undefined;

  constructor(readonly on: boolean, private readonly log: Logger) {}

  static fromEnv(log: Logger, env: NodeJS.ProcessEnv = process.env): RouteTrace {
    return new RouteTrace(env.MARGAY_TRACE_ROUTES === '1', log);
  }

  /** Learned routes reached the agent (NodeBgp.onRoutes). */
  ribChanged(): void {
    if (this.on) this.rib = performance.now();
  }

  /** The agent acts on them (fast path or full pass kicked). */
  agentEvent(): void {
    if (this.on) this.event = performance.now();
  }

  /** One netlink write of learned routes is done. */
  written(kind: 'fast' | 'pass', prefixes: readonly string[]): void {
    if (!this.on) return;
    const now = performance.now();
    this.log.info({
      kind, prefixes: prefixes.slice(0, 4), n: prefixes.length, readToDecoded: ms(this.read, this.decoded), decodedToRib: ms(this.decoded, this.rib),
      ribToAgent: ms(this.rib, this.event), agentToWritten: ms(this.event, now), total: ms(this.read, now), readAt: wall(this.read), at: wall(now),
    }, 'trace: learned route written');
    this.read = this.decoded = this.rib = this.event = undefined;
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

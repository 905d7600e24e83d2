/**
 * Keeping the route fast path warm (`MARGAY_FAST_WARM=0` turns it off).
 *
 * The fast path runs a few times per new block, so V8 would run it in the
 * interpreter (or not compile it at all yet) exactly when a block's UPDATE arrives:
 * cold, its plan took 0.1–1 ms where warm it takes ~15 µs. After the first full pass,
 * and whenever the full pass's inputs change shape (nodes, pools, devices, tunnel
 * addresses), the warmer runs the receiving path on synthetic input many times —
 * the BGP side (NodeBgp.warm: the decode of the last UPDATE that carried prefixes,
 * and a round of an in-memory speaker pair, bgp/speaker/warm-pair.ts), planFastWrites (add, replace, withdraw) and the netlink encoding of its writes —
 * without writing to the kernel. It runs in slices of ~0.5 ms between other
 * callbacks (setImmediate, after the poll phase), so that a socket read waits for at
 * most one slice; a light warming now and then keeps it warm on later full passes.
 * Cost: ~50 ms of CPU at start (500 rounds, most of it the first, cold ones).
 *
 * `warmCases` is pure (the inputs for one round); the class is the scheduling shell.
 */
import { encodeRoute } from '../dataplane/netlink/route.js';
import type { Block } from '../ipam/types.js';
import { hostOf } from '../node-config/node-info.js';
import { planFastWrites, type RouteContext } from './fast-plan.js';

/** Rounds after the first pass or a change of the context; then a light round now and then. */
export const WARM_ROUNDS = 500;
export const WARM_LIGHT_ROUNDS = 60;
/** a slice ends after this long (ms; at least one round): a socket read waits at most about one slice */
const SLICE_MS = 0.5;
/** a light round at most this often (ms) */
const LIGHT_EVERY_MS = 5000;

export interface WarmCase {
  now: { own: readonly Block[]; learned: ReadonlyMap<string, readonly string[]> };
  prefixes: string[];
  programmed: ReadonlySet<string>;
}

/**
 * One round's planning inputs: for up to two remote nodes a prefix learned from
 * them (a real one when known, else one inside the first pool of its family)
 * newly added, replaced, and withdrawn — the three kinds of fast write.
 */
export function warmCases(ctx: RouteContext, own: readonly Block[], learned: ReadonlyMap<string, readonly string[]>): WarmCase[] {
  const remotes = ctx.nodes.filter((n) => n.name !== ctx.node && n.address !== undefined).slice(0, 2);
  const real: [string, readonly string[]][] = [];
  for (const e of learned) {
    if (real.length >= remotes.length) break;
    if (e[1].length > 0) real.push(e);
  }
  const pool = ctx.pools.find((p) => !p.disabled && !p.cidr.includes(':'));
  const picks: [string, readonly string[]][] = real.length > 0
    ? real
    : remotes.map((n, i) => [`${pool ? hostOf(pool.cidr) : '192.0.2.0'}/${32 - i}`, [hostOf(n.address as string)]]);
  const out: WarmCase[] = [];
  for (const [prefix, hops] of picks) {
    // planFastWrites reads only the given prefixes' entries: no copy of a large table
    const withIt = new Map([[prefix, hops]]);
    const without = new Map<string, readonly string[]>();
    out.push(
      { now: { own, learned: withIt }, prefixes: [prefix], programmed: new Set() },
      { now: { own, learned: withIt }, prefixes: [prefix], programmed: new Set([prefix]) },
      { now: { own, learned: without }, prefixes: [prefix], programmed: new Set([prefix]) },
    );
  }
  return out;
}

/**
 * The context's shape: a change (nodes, pools, settings, the route devices' indexes,
 * tunnel addresses) warms fully again. Other links (pods' veths come and go) do not count.
 */
export function contextKey(ctx: RouteContext): string {
  const c = ctx.config;
  const devices = [c.uplink, c.vxlanDevice, c.vxlanDevice6, c.ipipDevice].map((d) => ctx.ifindexByName.get(d) ?? null);
  return JSON.stringify([ctx.node, ctx.nodes, ctx.pools, c, devices, [...ctx.tunnels]]);
}

/** One round: plan and encode every case (nothing is written). Returns the bytes encoded. */
export function warmRound(ctx: RouteContext, cases: readonly WarmCase[]): number {
  let bytes = 0;
  for (const c of cases) {
    const plan = planFastWrites(ctx, c.now, c.prefixes, c.programmed);
    for (const w of plan.writes) bytes += encodeRoute(w.route).length;
  }
  return bytes;
}

export interface WarmSource {
  ctx: RouteContext;
  own: readonly Block[];
  learned: ReadonlyMap<string, readonly string[]>;
  /** runs the BGP side of the route path once (NodeBgp.warm: a recent UPDATE decoded, a speaker pair round); absent with BGP off */
  bgp?: () => void;
}

export class FastWarmer {
  private key = '';
  private lastAt = -Infinity;
  private run: NodeJS.Immediate | undefined;
  /** rounds done, for tests and the debug log */
  rounds = 0;

  /** `ran`: told of each slice's start once it ended (route-trace.ts) */
  constructor(private readonly on: boolean, private readonly ran?: (start: number) => void, private readonly done?: (rounds: number, ms: number) => void) {}

  /**
   * After a full pass: warm fully when `key` (the context's shape) changed, lightly when
   * the last warming is older than a few seconds, else not at all. `now`: performance.now().
   */
  passed(key: string, now: number, source: () => WarmSource | undefined): void {
    if (!this.on) return;
    const full = key !== this.key;
    if (!full && now - this.lastAt < LIGHT_EVERY_MS) return;
    this.key = key;
    this.lastAt = now;
    this.start(full ? WARM_ROUNDS : WARM_LIGHT_ROUNDS, source);
  }

  private start(total: number, source: () => WarmSource | undefined): void {
    if (this.run) clearImmediate(this.run);
    let left = total;
    let spent = 0;
    const slice = (): void => {
      this.run = undefined;
      const s = source();
      if (!s) return;
      const t0 = performance.now();
      const cases = warmCases(s.ctx, s.own, s.learned);
      do {
        warmRound(s.ctx, cases);
        s.bgp?.();
        this.rounds++;
        left--;
      } while (left > 0 && performance.now() - t0 < SLICE_MS);
      this.ran?.(t0);
      spent += performance.now() - t0;
      if (left > 0) this.run = setImmediate(slice);
      else this.done?.(total, spent);
    };
    this.run = setImmediate(slice);
  }

  /** a warming is under way */
  get busy(): boolean {
    return this.run !== undefined;
  }

  stop(): void {
    if (this.run) clearImmediate(this.run);
    this.run = undefined;
  }
}

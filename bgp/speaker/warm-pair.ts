/**
 * Two speakers joined in memory — Established, no sockets, no timers — that run the
 * route path on synthetic prefixes: A originates → UPDATE encoded → decoded by B →
 * into B's RIB → A withdraws → B again. A speaker that hears of a new prefix a few
 * times a minute (a node agent: one UPDATE per new IPAM block) would run that code
 * cold, in the interpreter with no type feedback, right when the route is awaited;
 * a driver calls `round()` now and then so that V8 keeps optimized code for it.
 * The pair is separate state: nothing it does reaches a real peer or RIB.
 *
 * Pure: no I/O, no clock (time stands still at 0: no timer ever fires).
 */
import { decodeMessage, encodeMessage } from '../wire/index.js';
import { DEFAULT_CODEC_OPTIONS, withIpv4Numbers, type CodecOptions, type Message } from '../wire/types.js';
import { messageEvent } from '../fsm/step.js';
import { handle, incoming } from './handle.js';
import { addPeer, createSpeaker, originate } from './peers.js';
import type { Family } from '../fsm/types.js';
import type { RouteChange } from '../rib/table.js';
import type { Result, Speaker } from './types.js';

export interface WarmPairOptions {
  /** both ends' AS (iBGP, as a node mesh) */
  asn: number;
  families: readonly Family[];
  gracefulRestart?: boolean;
}

interface End {
  s: Speaker;
  peer: string;
  conn: number | undefined;
  codecIn: CodecOptions;
  codecOut: CodecOptions;
}

const A = '192.0.2.1';
const B = '192.0.2.2';
/** messages pumped per call at most (a round is 2 UPDATEs; establishing ~10 messages) */
const PUMP_LIMIT = 64;

export class WarmPair {
  private readonly a: End;
  private readonly b: End;
  private readonly queue: { to: End; frame: Uint8Array }[] = [];
  /** route changes B has seen (2 per prefix per round once established), and the last one */
  changes = 0;
  last: RouteChange | undefined;

  constructor(o: WarmPairOptions) {
    const mk = (self: string, peer: string): End => ({
      s: createSpeaker({ asn: o.asn, routerId: self, restartTime: 120 }).state, peer, conn: undefined, codecIn: DEFAULT_CODEC_OPTIONS, codecOut: DEFAULT_CODEC_OPTIONS,
    });
    this.a = mk(A, B);
    this.b = mk(B, A);
    // an IPv4 session: IPv6 routes go out with this node's IPv6 address as next hop (as the agent's sessions)
    const cfg = (address: string, passive: boolean) => ({
      address, asn: o.asn, passive, families: [...o.families], gracefulRestart: o.gracefulRestart ?? true, holdTime: 90, nextHop6: address === B ? '2001:db8::a' : '2001:db8::b',
    });
    this.perform(this.b, addPeer(this.b.s, cfg(A, true), 0));
    this.perform(this.a, addPeer(this.a.s, cfg(B, false), 0));
    this.pump();
  }

  get established(): boolean {
    return this.a.s.peers.get(B)?.fsm.state === 'Established' && this.b.s.peers.get(A)?.fsm.state === 'Established';
  }

  /** A originates `prefixes`, B receives them; A withdraws them, B receives that. */
  round(prefixes: readonly string[]): void {
    this.perform(this.a, originate(this.a.s, prefixes.map((prefix) => ({ prefix })), 0));
    this.pump();
    this.perform(this.a, originate(this.a.s, [], 0));
    this.pump();
  }

  private other(e: End): End {
    return e === this.a ? this.b : this.a;
  }

  private perform(e: End, r: Pick<Result, 'actions' | 'routes'>): void {
    if (e === this.b) {
      this.changes += r.routes.length;
      this.last = r.routes.at(-1) ?? this.last;
    }
    for (const { action } of r.actions) {
      switch (action.type) {
        case 'connect': {
          // B accepts at once: the connection is the only one either end has
          const acc = incoming(this.b.s, A, B, 0);
          this.b.conn = acc.conn;
          this.a.conn = action.conn;
          this.perform(this.b, acc);
          this.perform(this.a, handle(this.a.s, B, { type: 'TcpConnectionConfirmed', direction: 'out', conn: action.conn, localAddress: A }, 0));
          break;
        }
        case 'send':
          this.queue.push({ to: this.other(e), frame: encodeMessage(action.message as Message, e.codecOut) });
          break;
        case 'negotiated':
          e.codecIn = action.negotiated.codecIn;
          e.codecOut = action.negotiated.codecOut;
          break;
        default:
          break;
      }
    }
  }

  private pump(): void {
    for (let i = 0; i < PUMP_LIMIT; i++) {
      const item = this.queue.shift();
      if (!item) return;
      const { to } = item;
      if (to.conn === undefined) continue;
      // as a session receives: IPv4 prefixes as numbers (bgp/session/wire-codec.ts), the path the speaker keys its table by
      const d = decodeMessage(item.frame, withIpv4Numbers(to.codecIn));
      if (!d.ok) continue;
      this.perform(to, handle(to.s, to.peer, messageEvent(to.conn, d.message), 0));
    }
  }
}

/**
 * A simulated network of speakers for unit tests: connections are pairs of ends
 * that pass each message through the real codec (encode with the sender's
 * negotiated options, decode with the receiver's), timers are a table advanced by
 * hand, and every action is performed the way a driver would. No sockets.
 */
import { handle, incoming, messageEvent, timerEvent, addPeer, createSpeaker } from '../../../../bgp/speaker/index.js';
import type { PeerAction, PeerConfig, RouteChange, Speaker, SpeakerConfig, SpeakerEvent, SpeakerTimerName, Result } from '../../../../bgp/speaker/index.js';
import { decodeMessage, encodeMessage } from '../../../../bgp/wire/index.js';
import { DEFAULT_CODEC_OPTIONS, withIpv4Numbers, type CodecOptions, type Message } from '../../../../bgp/wire/types.js';
import { selectedOf } from '../../../support/rib-table.js';

interface End { node: string; peer: string; conn: number | undefined; codecIn: CodecOptions; codecOut: CodecOptions }
interface Link { a: End; b: End; buffered: Uint8Array[]; open: boolean }

type Item =
  | { kind: 'event'; node: string; peer: string; ev: SpeakerEvent }
  | { kind: 'accept'; link: Link }
  | { kind: 'frame'; to: End; frame: Uint8Array };

export interface Sent { from: string; to: string; message: Message }

export class Sim {
  readonly nodes = new Map<string, { s: Speaker; routes: RouteChange[] }>();
  readonly timers = new Map<string, { node: string; peer: string; name: SpeakerTimerName; due: number }>();
  readonly sent: Sent[] = [];
  private readonly links: Link[] = [];
  private readonly queue: Item[] = [];
  now = 0;
  /** addresses that cannot be reached (connect fails) */
  readonly unreachable = new Set<string>();

  node(address: string, cfg: Omit<SpeakerConfig, 'routerId'> & { routerId?: string }): Speaker {
    const r = createSpeaker({ routerId: address, ...cfg });
    this.nodes.set(address, { s: r.state, routes: [] });
    this.apply(address, r);
    return r.state;
  }

  speaker(address: string): Speaker { return this.nodes.get(address)!.s; }
  routes(address: string): RouteChange[] { return this.nodes.get(address)!.routes; }

  peer(node: string, cfg: PeerConfig): void {
    this.apply(node, addPeer(this.speaker(node), cfg, this.now));
  }

  /** Performs a Result returned by any speaker function called from a test. */
  apply(node: string, r: Pick<Result, 'actions' | 'routes'>): void {
    this.nodes.get(node)!.routes.push(...r.routes);
    for (const a of r.actions) this.perform(node, a);
  }

  private endOf(node: string, peer: string, conn: number): { link: Link; me: End; other: End } | undefined {
    for (const link of this.links) {
      if (!link.open) continue;
      if (link.a.node === node && link.a.peer === peer && link.a.conn === conn) return { link, me: link.a, other: link.b };
      if (link.b.node === node && link.b.peer === peer && link.b.conn === conn) return { link, me: link.b, other: link.a };
    }
    return undefined;
  }

  private perform(node: string, { peer, action: a }: PeerAction): void {
    switch (a.type) {
      case 'connect': {
        if (this.unreachable.has(peer) || !this.nodes.has(peer)) {
          this.queue.push({ kind: 'event', node, peer, ev: { type: 'TcpConnectionFails', conn: a.conn } });
          return;
        }
        const c = DEFAULT_CODEC_OPTIONS;
        const link: Link = {
          a: { node, peer, conn: a.conn, codecIn: c, codecOut: c }, b: { node: peer, peer: node, conn: undefined, codecIn: c, codecOut: c },
          buffered: [], open: true,
        };
        this.links.push(link);
        this.queue.push({ kind: 'event', node, peer, ev: { type: 'TcpConnectionConfirmed', direction: 'out', conn: a.conn, localAddress: node } });
        this.queue.push({ kind: 'accept', link });
        return;
      }
      case 'send': {
        const e = this.endOf(node, peer, a.conn);
        if (!e) return;
        this.sent.push({ from: node, to: peer, message: a.message });
        const frame = encodeMessage(a.message, e.me.codecOut);
        if (e.other.conn === undefined) e.link.buffered.push(frame);
        else this.deliver(e.other, frame);
        return;
      }
      case 'negotiated': {
        const e = this.endOf(node, peer, a.conn);
        if (e) { e.me.codecIn = a.negotiated.codecIn; e.me.codecOut = a.negotiated.codecOut; }
        return;
      }
      case 'close': {
        const e = this.endOf(node, peer, a.conn);
        if (!e) return;
        e.link.open = false;
        if (e.other.conn !== undefined) this.queue.push({ kind: 'event', node: e.other.node, peer: e.other.peer, ev: { type: 'TcpConnectionFails', conn: e.other.conn } });
        return;
      }
      case 'startTimer':
        this.timers.set(`${node}|${peer}|${a.name}`, { node, peer, name: a.name, due: this.now + a.ms });
        return;
      case 'stopTimer':
        this.timers.delete(`${node}|${peer}|${a.name}`);
        return;
      default:
        return;
    }
  }

  /** Decodes a frame as the receiving end's driver would (the options at delivery time). */
  private deliver(to: End, frame: Uint8Array): void {
    this.queue.push({ kind: 'frame', to, frame });
  }

  /** Lets every pending connect complete before any is accepted (provokes collisions). */
  deferAccepts(): void {
    const accepts = this.queue.filter((i) => i.kind === 'accept');
    const rest = this.queue.filter((i) => i.kind !== 'accept');
    this.queue.length = 0;
    this.queue.push(...rest, ...accepts);
  }

  /** Delivers queued events until quiet (bounded). */
  run(limit = 20_000): void {
    for (let i = 0; i < limit; i++) {
      const item = this.queue.shift();
      if (!item) return;
      if (item.kind === 'accept') {
        const { link } = item;
        if (!link.open) continue;
        const r = incoming(this.speaker(link.b.node), link.a.node, link.b.node, this.now);
        if (r.conn === undefined) {
          link.open = false;
          this.queue.push({ kind: 'event', node: link.a.node, peer: link.a.peer, ev: { type: 'TcpConnectionFails', conn: link.a.conn! } });
          continue;
        }
        link.b.conn = r.conn;
        for (const f of link.buffered) this.deliver(link.b, f);
        link.buffered = [];
        this.apply(link.b.node, r);
        continue;
      }
      if (item.kind === 'frame') {
        const { to } = item;
        if (to.conn === undefined) continue;
        const d = decodeMessage(item.frame, withIpv4Numbers(to.codecIn)); // as the session codec decodes (wire-codec.ts): IPv4 prefixes as numbers
        const ev: SpeakerEvent = d.ok ? messageEvent(to.conn, d.message)
          : { type: 'MessageError', conn: to.conn, code: d.error.code, subcode: d.error.subcode, data: d.error.data };
        this.apply(to.node, handle(this.speaker(to.node), to.peer, ev, this.now));
        continue;
      }
      this.apply(item.node, handle(this.speaker(item.node), item.peer, item.ev, this.now));
    }
    throw new Error('simulation did not settle');
  }

  /** Moves the clock, firing due timers in order (and running after each). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      let next: [string, { node: string; peer: string; name: SpeakerTimerName; due: number }] | undefined;
      for (const e of this.timers) if (e[1].due <= end && (!next || e[1].due < next[1].due)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = Math.max(this.now, next[1].due);
      const t = next[1];
      this.apply(t.node, handle(this.speaker(t.node), t.peer, timerEvent(t.name), this.now));
      this.run();
    }
    this.now = end;
  }

  /** Breaks every connection between two nodes as a network failure would (no NOTIFICATION). */
  cut(x: string, y: string): void {
    for (const link of this.links) {
      if (!link.open || !((link.a.node === x && link.b.node === y) || (link.a.node === y && link.b.node === x))) continue;
      link.open = false;
      for (const e of [link.a, link.b]) if (e.conn !== undefined) this.queue.push({ kind: 'event', node: e.node, peer: e.peer, ev: { type: 'TcpConnectionFails', conn: e.conn } });
    }
    this.run();
  }

  openLinks(x: string, y: string): number {
    return this.links.filter((l) => l.open && ((l.a.node === x && l.b.node === y) || (l.a.node === y && l.b.node === x))).length;
  }

  state(node: string, peer: string): string {
    return this.speaker(node).peers.get(peer)!.fsm.state;
  }

  /** Loc-RIB of a node as prefix → next hops. */
  rib(node: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, e] of this.speaker(node).loc.routes) {
      out[k] = selectedOf(e).map((p) => p.attrs.nextHops[0] ?? 'local');
    }
    return out;
  }
}

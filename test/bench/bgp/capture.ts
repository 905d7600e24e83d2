/**
 * Wire fairness check of the ingest bench: tcpdump inside a receiver's namespace
 * while it ingests, then the TCP stream reassembled by tshark (`follow,tcp,raw`) and
 * decoded with margay's own codec. Summarises what the feeder sent that receiver
 * (UPDATE count, octets, prefixes per UPDATE, how many went in MP_REACH) and the
 * capabilities each side's OPEN advertised, so that two receivers can be shown to
 * get the same bytes from the same feeder.
 */
import { join } from 'node:path';
import { capabilityName, DEFAULT_CODEC_OPTIONS, decodeMessage, splitFrames, type Message } from '../../../bgp/wire/index.js';
import { run } from '../../../agent/exec.js';
import { daemonDir, sleep, startInNetns } from '../../support/daemons/common.js';

export interface WireSummary {
  /** capability names (with AFI/SAFI details where they matter) each side advertised */
  receiverCaps: string[];
  feederCaps: string[];
  /** feeder → receiver */
  updates: number;
  updateOctets: number;
  prefixes: number;
  prefixesPerUpdate: number;
  mpReachUpdates: number;
  /** TCP segments carrying data feeder → receiver, and their mean payload */
  segments: number;
  meanSegmentOctets: number;
  /** receiver → feeder: segments (mostly ACKs), and how many advertised a zero window */
  ackSegments: number;
  zeroWindowSegments: number;
  /** capture times (ms since epoch) of the first and last data segment feeder → receiver */
  firstDataMs: number;
  lastDataMs: number;
}

export interface Capture {
  stop(): Promise<WireSummary>;
}

function capNames(m: Message | undefined): string[] {
  if (m?.type !== 'OPEN') return [];
  return m.capabilities.map((c) => {
    const base = capabilityName(c.code);
    if (c.name === 'MULTIPROTOCOL') return `${base}(${c.afi}/${c.safi})`;
    if (c.name === 'ADD_PATH') return `${base}(${c.families.map((f) => `${f.afi}/${f.safi}:${f.sendReceive}`).join(',')})`;
    if (c.name === 'EXTENDED_NEXT_HOP') return `${base}(${c.tuples.map((t) => `${t.afi}/${t.safi}/${t.nextHopAfi}`).join(',')})`;
    if (c.name === 'GRACEFUL_RESTART') return `${base}(${c.families.length} families)`;
    if (c.name === 'UNKNOWN') return `${base}(${c.code})`;
    return base;
  });
}

/** Frames of one direction, decoded (4-octet AS and no ADD-PATH: what both OPENs negotiate here). */
function decodeAll(hex: string): Message[] {
  const buf = Buffer.from(hex, 'hex');
  const out: Message[] = [];
  for (const f of splitFrames(buf).frames) {
    const r = decodeMessage(f, DEFAULT_CODEC_OPTIONS);
    if (r.message) out.push(r.message);
  }
  return out;
}

/** Starts tcpdump on `dev` of `ns` (BGP port only); `stop()` ends it and summarises the stream. */
export async function startCapture(ns: string, dev = 'eth0'): Promise<Capture> {
  const dir = await daemonDir('pcap');
  const file = join(dir, 'bgp.pcap');
  const d = startInNetns(ns, ['tcpdump', '-i', dev, '-n', '-s', '0', '-B', '16384', '-U', '--immediate-mode', '-w', file, 'tcp', 'port', '179'], dir, { keepDir: true });
  await sleep(500); // tcpdump attaches before the receiver starts
  return {
    async stop() {
      await sleep(300);
      await d.stop();
      const follow = (await run(['tshark', '-r', file, '-q', '-z', 'follow,tcp,raw,0'], { timeoutMs: 120_000 })).stdout;
      // Node 0 (lines without a tab) is the receiver: it opened the connection to the passive feeder.
      let toFeeder = '';
      let toReceiver = '';
      for (const line of follow.split('\n')) {
        if (/^\t[0-9a-f]+$/.test(line)) toReceiver += line.slice(1);
        else if (/^[0-9a-f]+$/.test(line)) toFeeder += line;
      }
      const fromReceiver = decodeAll(toFeeder);
      const fromFeeder = decodeAll(toReceiver);
      const updates = fromFeeder.filter((m) => m.type === 'UPDATE');
      let prefixes = 0;
      let mp = 0;
      let octets = 0;
      for (const u of updates) {
        if (u.type !== 'UPDATE') continue;
        const n = u.nlri.length + (u.attributes.mpReach?.nlri.length ?? 0);
        prefixes += n;
        if (u.attributes.mpReach && u.attributes.mpReach.nlri.length > 0) mp++;
      }
      // octets per UPDATE from the raw stream: sum the headers' lengths
      const raw = Buffer.from(toReceiver, 'hex');
      for (const f of splitFrames(raw).frames) if (f[18] === 2) octets += f.length;
      const seg = (await run(['tshark', '-r', file, '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.len', '-e', 'tcp.window_size_value', '-e', 'frame.time_epoch'], { timeoutMs: 120_000 })).stdout;
      let segments = 0;
      let segOctets = 0;
      let acks = 0;
      let zeroWin = 0;
      let firstDataMs = 0;
      let lastDataMs = 0;
      for (const line of seg.split('\n')) {
        const [src, len, win, t] = line.split('\t');
        if (src === undefined || len === undefined) continue;
        if (src === '179') {
          if (Number(len) > 0) {
            segments++;
            segOctets += Number(len);
            const ms = Number(t) * 1000;
            if (firstDataMs === 0) firstDataMs = ms;
            lastDataMs = ms;
          }
        } else {
          acks++;
          if (win === '0') zeroWin++;
        }
      }
      if (process.env.BENCH_BGP_CAPTURE_KEEP === '1') process.stderr.write(`capture kept: ${file}\n`); else await run(['rm', '-rf', dir]);
      return {
        receiverCaps: capNames(fromReceiver.find((m) => m.type === 'OPEN')),
        feederCaps: capNames(fromFeeder.find((m) => m.type === 'OPEN')),
        updates: updates.length, updateOctets: octets, prefixes,
        prefixesPerUpdate: updates.length ? Math.round((prefixes / updates.length) * 10) / 10 : 0,
        mpReachUpdates: mp, segments, meanSegmentOctets: segments ? Math.round(segOctets / segments) : 0,
        ackSegments: acks, zeroWindowSegments: zeroWin, firstDataMs, lastDataMs,
      };
    },
  };
}

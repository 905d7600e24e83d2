/**
 * Ingest without a feeder: the receiving half of `bgp/ingest` alone, in this
 * process — the byte stream GoBGP sends in that bench (N consecutive /24s over 100
 * attribute sets, packed per attribute set into UPDATEs of up to 4096 octets) cut
 * into 64 KiB reads as the socket delivers them, then framing, decoding and the
 * pure speaker (Adj-RIB-In, decision, Loc-RIB) exactly as the session driver calls
 * them. A fresh speaker per round; µs per prefix is the figure that decides how far
 * margay lags behind a fast feeder (the live bench's feeder sends 100k prefixes in
 * ~0.1 s: keeping up needs ≤ 1 µs per prefix). Also heap bytes per route: live (after a GC, with --expose-gc) and committed when the table is in.
 * BENCH_BGP_PREFIXES (default 100k), BENCH_REPS rounds (default 5).
 */
import { getHeapStatistics } from 'node:v8';
import type { Emit } from '../run.js';
import { messageEvent } from '../../../bgp/fsm/step.js';
import { createCore } from '../../../bgp/session/create-core.js';
import { parseConfig } from '../../../bgp/session/config.js';
import { wireCodec } from '../../../bgp/session/wire-codec.js';
import { encodeMessage, encodeUpdates, type Message, type PathAttributes, type Prefix } from '../../../bgp/wire/index.js';
import type { SpeakerCore } from '../../../bgp/session/runtime.js';
import { round } from './feeder.js';

const PEER = '10.81.0.1';
const SETS = 100;

/** The feed as GoBGP sends it: one packed run of UPDATEs per attribute set. */
export function feedBytes(n: number): Buffer {
  const bySet: Prefix[][] = Array.from({ length: SETS }, () => []);
  for (let i = 0; i < n; i++) bySet[i % SETS]!.push({ afi: 1, addr: `${11 + (i >>> 16)}.${(i >>> 8) & 0xff}.${i & 0xff}.0`, len: 24 });
  const frames: Buffer[] = [];
  for (let s = 0; s < SETS; s++) {
    const attrs: PathAttributes = {
      origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65100, 64512 + (s % 50)] }], nextHop: PEER, med: s,
      communities: [(65100 << 16 | s) >>> 0],
    };
    frames.push(...encodeUpdates(attrs, bySet[s]!));
  }
  return Buffer.concat(frames);
}

export function establish(): { core: SpeakerCore; conn: number } {
  const config = parseConfig(`asn: 65001\nrouterId: 10.81.0.2\nlisten: false\nneighbors:\n  - {address: ${PEER}, asn: 65100, passive: true}\n`);
  const core = createCore(config);
  core.start(0);
  const { conn } = core.incoming(PEER, '10.81.0.2', 0);
  if (conn === undefined) throw new Error('the speaker refused the feeder');
  core.handle(PEER, messageEvent(conn, { type: 'OPEN', version: 4, myAs: 65100, holdTime: 90, bgpId: PEER, capabilities: [
    { code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 65, name: 'FOUR_OCTET_AS', asn: 65100 },
  ] }), 0);
  core.handle(PEER, messageEvent(conn, { type: 'KEEPALIVE' }), 0);
  if (core.status(0).peers[0]?.state !== 'Established') throw new Error('session did not establish');
  return { core, conn };
}

/** The driver's read path (driver.ts onData) over `bytes`, in socket-sized reads; `handled` sees each message after the core. */
export function ingest(core: SpeakerCore, conn: number, bytes: Buffer, handled?: (m: Message) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const codec = wireCodec.initial;
  for (let off = 0; off < bytes.length; off += 65_536) {
    const d = bytes.subarray(off, off + 65_536);
    const all = buf.length === 0 ? d : Buffer.concat([buf, d]);
    const { frames, rest } = wireCodec.split(all);
    buf = rest;
    for (const f of frames) {
      const r = wireCodec.decode(f, codec);
      if ('error' in r || !r.message) throw new Error('feed did not decode');
      core.handle(PEER, messageEvent(conn, r.message), 1);
      handled?.(r.message);
    }
  }
}

export async function run(emit: Emit): Promise<void> {
  const n = Number(process.env.BENCH_BGP_PREFIXES ?? 100_000);
  const rounds = Number(process.env.BENCH_REPS ?? 5);
  const bytes = feedBytes(n);
  // one KEEPALIVE checks the frame helpers agree with the codec before timing anything
  if (encodeMessage({ type: 'KEEPALIVE' }).length !== 19) throw new Error('codec mismatch');
  const us: number[] = [];
  /** CPU µs per prefix, every thread of the process (GC helpers too): less sensitive to a busy machine than wall time */
  const cpu: number[] = [];
  let perRoute = 0;
  let physPerRoute = 0;
  let held: SpeakerCore | undefined;
  for (let r = 0; r < rounds; r++) {
    held = undefined;
    (globalThis as { gc?: () => void }).gc?.();
    const h0 = process.memoryUsage().heapUsed;
    const p0 = getHeapStatistics().total_physical_size;
    const { core, conn } = establish();
    held = core; // kept alive for the heap reading below
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    ingest(core, conn, bytes);
    const t1 = process.hrtime.bigint();
    const c1 = process.cpuUsage(c0);
    // V8 heap memory committed, read as the live bench reads RSS: right when the table is in, garbage and slack included
    if (r === 0) physPerRoute = (getHeapStatistics().total_physical_size - p0) / n;
    cpu.push((c1.user + c1.system) / n);
    const st = core.status(1);
    if (st.peers[0]?.received !== n || st.locRib.total !== n) throw new Error(`held ${st.peers[0]?.received} / Loc-RIB ${st.locRib.total} of ${n}`);
    us.push(Number(t1 - t0) / 1000 / n);
    (globalThis as { gc?: () => void }).gc?.();
    if (r === 0) perRoute = (process.memoryUsage().heapUsed - h0) / n; // later rounds start with the previous table still reachable
    if (held.status(1).locRib.total !== n) throw new Error('lost routes');
    await new Promise((res) => setImmediate(res));
  }
  const sorted = [...us].sort((a, b) => a - b);
  emit({
    bench: 'bgp/ingest-core', prefixes: n, octets: bytes.length, rounds,
    // the first round runs cold, as a freshly started speaker does (interpreter and baseline code until V8 optimises)
    us_per_prefix_first: round(us[0]!, 3), us_per_prefix_median: round(sorted[Math.floor(sorted.length / 2)]!, 3), us_per_prefix_best: round(sorted[0]!, 3),
    cpu_us_per_prefix_first: round(cpu[0]!, 3), cpu_us_per_prefix_median: round([...cpu].sort((a, b) => a - b)[Math.floor(cpu.length / 2)]!, 3),
    prefixes_per_s_median: Math.round(1e6 / sorted[Math.floor(sorted.length / 2)]!),
    heap_bytes_per_route: Math.round(perRoute), // with --expose-gc only
    heap_committed_bytes_per_route: Math.round(physPerRoute), node_flags: process.execArgv.join(' '),
  });
}

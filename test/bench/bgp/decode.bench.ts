/**
 * decode: UPDATE messages per second through the codec alone (bgp/wire
 * decodeMessage), no sockets. Two shapes: packed UPDATEs as a full-table feeder
 * sends them (~1000 /24s each, shared attributes), and small UPDATEs (one or a few
 * prefixes each with varied attributes, as during churn).
 */
import { performance } from 'node:perf_hooks';
import type { Emit } from '../run.js';
import { decodeMessage, encodeUpdates, type PathAttributes, type Prefix } from '../../../bgp/wire/index.js';

const OPTS = { as4: true, addPath: new Set<string>() };

function attrs(i: number): PathAttributes {
  return {
    origin: i % 3 === 0 ? 'IGP' : 'INCOMPLETE',
    asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 64512 + (i % 100), 4200000000 + i] }],
    nextHop: `10.0.${(i >> 8) & 255}.${i & 255}`,
    med: i % 50,
    communities: [0xfde80000 + (i % 10), 0xffffff01],
    largeCommunities: i % 4 === 0 ? [{ global: 4200000001, local1: i, local2: 7 }] : undefined,
  } as PathAttributes;
}

function prefixes(n: number, from: number): Prefix[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { afi: 1 as const, addr: `${16 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}.0`, len: 24 };
  });
}

function measure(frames: Buffer[], minMs: number): { perSec: number; prefixesPerSec: number; rounds: number } {
  let prefixCount = 0;
  for (const f of frames) {
    const r = decodeMessage(f, OPTS);
    if (!r.ok || r.message.type !== 'UPDATE') throw new Error('bench input does not decode');
    prefixCount += r.message.nlri.length;
  }
  let rounds = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < frames.length; i++) decodeMessage(frames[i]!, OPTS);
    rounds++;
    elapsed = performance.now() - t0;
  }
  const secs = elapsed / 1000;
  return { perSec: Math.round((frames.length * rounds) / secs), prefixesPerSec: Math.round((prefixCount * rounds) / secs), rounds };
}

export async function run(emit: Emit): Promise<void> {
  const minMs = Number(process.env.BENCH_MS ?? 3000);
  // packed: 100k prefixes over 100 attribute sets, as a full-table feed
  const packed: Buffer[] = [];
  for (let g = 0; g < 100; g++) packed.push(...encodeUpdates(attrs(g), prefixes(1000, g * 1000), OPTS));
  const p = measure(packed, minMs);
  emit({ bench: 'bgp/decode', shape: 'packed', updates: packed.length, updatesPerSec: p.perSec, prefixesPerSec: p.prefixesPerSec, rounds: p.rounds });
  // small: 20k UPDATEs of 1–4 prefixes, each with its own attributes
  const small: Buffer[] = [];
  for (let i = 0; i < 20000; i++) small.push(...encodeUpdates(attrs(i), prefixes(1 + (i % 4), i * 4), OPTS));
  const s = measure(small, minMs);
  emit({ bench: 'bgp/decode', shape: 'small', updates: small.length, updatesPerSec: s.perSec, prefixesPerSec: s.prefixesPerSec, rounds: s.rounds });
}

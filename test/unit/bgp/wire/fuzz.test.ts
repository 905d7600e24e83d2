/**
 * Bounded fuzzing of the decoder: mutated valid messages (generated, and the captured
 * fixtures) and random ones. No exception may escape; every bad message must map to
 * a NOTIFICATION (session reset) or to treat-as-withdraw / attribute discard; every
 * good one must encode again and decode to the same value. 200k inputs when CI=true,
 * 20k locally (FUZZ_COUNT overrides). Crashers found are kept in fixtures/crashers/.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMessage, encodeMessage, splitFrames, type CodecOptions, type DecodeResult, type Message } from '../../../../bgp/wire/index.js';
import { anyMessage } from './arbitraries.js';

const COUNT = Number(process.env.FUZZ_COUNT ?? (process.env.CI === 'true' ? 200_000 : 20_000));
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const here = dirname(fileURLToPath(import.meta.url));

/** xorshift32: deterministic, so a failure reproduces from the printed seed and index */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

const OPTS: CodecOptions[] = [
  { as4: true, addPath: new Set() },
  { as4: false, addPath: new Set() },
  { as4: true, addPath: new Set(['1/1', '2/1']) },
];

let fixtureFiles = 0;

function seeds(): Buffer[] {
  const out: Buffer[] = [];
  for (const o of [{ as4: true, addPath: false }, { as4: false, addPath: false }, { as4: true, addPath: true }]) {
    for (const m of fc.sample(anyMessage(o), { numRuns: 150, seed: SEED })) {
      try { out.push(encodeMessage(m, OPTS[o.addPath ? 2 : o.as4 ? 0 : 1])); } catch { /* too long for one message */ }
    }
  }
  const fixtures = join(here, 'fixtures');
  if (existsSync(fixtures)) {
    const files = readdirSync(fixtures).filter((n) => n.endsWith('.bgp'));
    for (const f of files) out.push(...splitFrames(readFileSync(join(fixtures, f))).frames.map((x) => Buffer.from(x)));
    fixtureFiles = files.length;
  }
  return out;
}

function mutate(b: Buffer, next: () => number): Buffer {
  const m = Buffer.from(b);
  const n = 1 + (next() % 4);
  let out = m;
  for (let k = 0; k < n; k++) {
    const op = next() % 8;
    const at = out.length > 19 ? 19 + (next() % (out.length - 19)) : 0;
    switch (op) {
      case 0: out[at] = (out[at] ?? 0) ^ (1 << (next() % 8)); break; // bit flip in the body
      case 1: out[at] = next() & 0xff; break; // random byte
      case 2: out[at] = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40][next() % 8]!; break; // interesting byte
      case 3: out = out.subarray(0, Math.max(19, at)); break; // truncate
      case 4: out = Buffer.concat([out, Buffer.from(Array.from({ length: 1 + (next() % 16) }, () => next() & 0xff))]); break; // extend
      case 5: out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + (next() % 4)))]); break; // delete
      case 6: out[18] = 1 + (next() % 6); break; // type
      default: if (out.length > 22) out.writeUInt16BE(next() % 64, 19 + (next() % 3)); // a length field, mostly
    }
  }
  if (out.length > 4096) out = out.subarray(0, 4096);
  // keep the header length consistent most of the time, so the body parsers get exercised
  if (next() % 8 !== 0 && out.length >= 19) out.writeUInt16BE(out.length, 16);
  return out;
}

function randomMessage(next: () => number): Buffer {
  const len = 19 + (next() % 200);
  const b = Buffer.alloc(len);
  for (let i = 19; i < len; i++) b[i] = next() & 0xff;
  b.fill(0xff, 0, 16);
  b.writeUInt16BE(len, 16);
  b[18] = 1 + (next() % 5);
  return b;
}

/** The encoder writes attributes by ascending type code (RFC 4271 §5), so unknown ones may come back reordered. */
const rank = (c: number) => (c === 14 ? -2 : c === 15 ? -1 : c); // MP_REACH, MP_UNREACH first (RFC 7606 §5.1)
function sortUnknown(m: Message): Message {
  if (m.type !== 'UPDATE' || !m.attributes.unknown) return m;
  return { ...m, attributes: { ...m.attributes, unknown: [...m.attributes.unknown].sort((a, b) => rank(a.code) - rank(b.code)) } };
}

interface Tally { ok: number; reset: number; withdraw: number; discard: number }

function check(input: Buffer, opts: CodecOptions, t: Tally): void {
  let r: DecodeResult;
  try {
    r = decodeMessage(input, opts);
  } catch (err) {
    throw new Error(`decodeMessage threw on ${input.toString('hex')}: ${String(err)}`);
  }
  if (r.ok) {
    t.ok++;
    if (r.discarded) t.discard++;
    // a good message encodes again, and decodes to the same value
    const again = decodeMessage(encodeMessage(r.message, opts), opts);
    if (!again.ok) throw new Error(`re-encoded message does not decode: ${again.error.message} (input ${input.toString('hex')})`);
    expect(again.message).toEqual(sortUnknown(r.message));
    return;
  }
  const e = r.error;
  if (e.message.startsWith('internal')) throw new Error(`decoder bug on ${input.toString('hex')}: ${e.message}`);
  expect(e.code).toBeGreaterThanOrEqual(1);
  expect(e.code).toBeLessThanOrEqual(7);
  if (e.action === 'session-reset') {
    t.reset++;
    // the NOTIFICATION to send can be built
    expect(encodeMessage({ type: 'NOTIFICATION', code: e.code, subcode: e.subcode, data: e.data }).length).toBeLessThanOrEqual(4096);
  } else {
    expect(e.action).toBe('treat-as-withdraw');
    expect(r.message?.type).toBe('UPDATE');
    t.withdraw++;
  }
}

describe(`decoder fuzz (${COUNT} inputs, seed ${SEED})`, () => {
  it('no exception escapes; every bad message maps to a NOTIFICATION or treat-as-withdraw', () => {
    const next = rng(SEED);
    const pool = seeds();
    expect(pool.length).toBeGreaterThan(300);
    expect(fixtureFiles).toBe(14); // the captured streams are seeds too
    const t: Tally = { ok: 0, reset: 0, withdraw: 0, discard: 0 };
    for (let i = 0; i < COUNT; i++) {
      const input = i % 10 === 9 ? randomMessage(next) : mutate(pool[next() % pool.length]!, next);
      check(input, OPTS[i % OPTS.length]!, t);
    }
    console.log(`fuzz: ${COUNT} inputs: ${t.ok} decoded (${t.discard} with attribute discard), ${t.reset} session reset, ${t.withdraw} treat-as-withdraw`);
    expect(t.ok + t.reset + t.withdraw).toBe(COUNT);
    expect(t.reset).toBeGreaterThan(0);
    expect(t.withdraw).toBeGreaterThan(0);
  }, 300_000);

  it('splitFrames never throws on random streams and accounts for every octet', () => {
    const next = rng(SEED ^ 0xabcdef);
    const pool = seeds();
    for (let i = 0; i < Math.min(COUNT / 10, 5000); i++) {
      const parts = Array.from({ length: 1 + (next() % 5) }, () => (next() % 5 === 0 ? mutate(pool[next() % pool.length]!, next) : pool[next() % pool.length]!));
      const stream = Buffer.concat(parts).subarray(0, Math.max(0, Buffer.concat(parts).length - (next() % 30)));
      const r = splitFrames(stream);
      const used = r.frames.reduce((n, f) => n + f.length, 0);
      expect(used + r.rest.length).toBe(stream.length);
    }
  });

  it('the kept crashers decode without throwing', () => {
    const dir = join(here, 'fixtures', 'crashers');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.hex')) : [];
    expect(files.length).toBe(3);
    for (const f of files) {
      const b = Buffer.from(readFileSync(join(dir, f), 'utf8').trim(), 'hex');
      for (const o of OPTS) expect(() => decodeMessage(b, o)).not.toThrow();
    }
  });
});

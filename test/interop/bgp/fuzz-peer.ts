/**
 * A live-session fuzzer, run inside a namespace by live-fuzz.test.ts:
 *   node fuzz-peer.js TARGET LOCAL_AS PEER_AS COUNT SEED
 * It opens a BGP session to margay, then sends mutated UPDATEs one at a time. After
 * each it sends a ROUTE-REFRESH, so margay either answers with the UPDATE it
 * re-advertises (the mutant was accepted, discarded or treated as withdraw) or with
 * a NOTIFICATION (the session was reset). The expected outcome is computed with
 * the codec (bgp/wire) on the same bytes. Prints one JSON summary line.
 */
import net from 'node:net';
import { splitFrames } from '../../../bgp/wire/framing.js';
import { decodeMessage, encodeMessage } from '../../../bgp/wire/message.js';
import type { Message } from '../../../bgp/wire/types.js';

const [target = '', localAs = '65001', peerAs = '65001', countArg = '200', seedArg = '1'] = process.argv.slice(2);
const OPTS = { as4: true, addPath: new Set<string>() };
let seed = Number(seedArg) >>> 0 || 1;
const rand = (n: number): number => { // xorshift32, deterministic per seed
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed % n;
};

const base = encodeMessage({
  type: 'UPDATE', withdrawn: [], nlri: [{ afi: 1, addr: '10.123.0.0', len: 24 }, { afi: 1, addr: '10.123.1.0', len: 24 }],
  attributes: {
    origin: 'IGP', asPath: Number(localAs) === Number(peerAs) ? [] : [{ type: 'AS_SEQUENCE', asns: [Number(localAs)] }],
    nextHop: '10.1.1.1', med: 10, localPref: 100, communities: [0x00010002], largeCommunities: [{ global: 1, local1: 2, local2: 3 }],
    aggregator: { asn: 65001, address: '10.0.0.1' }, atomicAggregate: true,
  },
}, OPTS);

/** One mutant: flip bytes in the body, or cut / extend it (keeping the header length consistent). */
function mutate(): Buffer {
  const b = Buffer.from(base);
  const kind = rand(4);
  if (kind <= 1) {
    const flips = 1 + rand(4);
    for (let i = 0; i < flips; i++) b[19 + rand(b.length - 19)] = rand(256);
    return b;
  }
  if (kind === 2) {
    const len = 19 + rand(b.length - 19);
    const c = Buffer.from(b.subarray(0, len));
    c.writeUInt16BE(len, 16);
    return c;
  }
  const extra = Buffer.alloc(1 + rand(16));
  for (let i = 0; i < extra.length; i++) extra[i] = rand(256);
  const c = Buffer.concat([b, extra]);
  c.writeUInt16BE(c.length, 16);
  return c;
}

type Expect = { reset: true; code: number; subcode: number; why: string } | { reset: false; why: string };
function expected(m: Buffer): Expect {
  const f = splitFrames(m);
  if (f.error) return { reset: true, code: f.error.code, subcode: f.error.subcode, why: f.error.message };
  const r = decodeMessage(m, OPTS);
  if (r.ok) return { reset: false, why: r.discarded?.length ? 'attribute-discard' : 'valid' };
  if (r.error.action === 'session-reset') return { reset: true, code: r.error.code, subcode: r.error.subcode, why: r.error.message };
  return { reset: false, why: r.error.action };
}

interface Session {
  sock: net.Socket;
  next(timeoutMs: number): Promise<Message | 'closed' | 'timeout'>;
}

function open(): Promise<Session> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: target, port: 179 });
    let buf = Buffer.alloc(0);
    const queue: Message[] = [];
    let closed = false;
    let waiter: (() => void) | undefined;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const f = splitFrames(buf);
      for (const fr of f.frames) {
        const r = decodeMessage(fr, OPTS);
        if (r.ok) queue.push(r.message);
      }
      buf = Buffer.from(f.rest);
      waiter?.();
    });
    sock.on('close', () => { closed = true; waiter?.(); });
    sock.on('error', (err) => { if (!closed) reject(err); });
    sock.on('connect', () => resolve({
      sock,
      next: (timeoutMs) => new Promise((res) => {
        const take = (): boolean => {
          const m = queue.shift();
          if (m) { res(m); return true; }
          if (closed) { res('closed'); return true; }
          return false;
        };
        if (take()) return;
        const t = setTimeout(() => { waiter = undefined; res('timeout'); }, timeoutMs);
        waiter = () => { if (take()) { clearTimeout(t); waiter = undefined; } };
      }),
    }));
  });
}

async function establish(): Promise<Session> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const s = await open();
      s.sock.write(encodeMessage({
        type: 'OPEN', version: 4, myAs: Number(localAs), holdTime: 90, bgpId: '10.254.0.1',
        capabilities: [{ code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 2, name: 'ROUTE_REFRESH' }, { code: 65, name: 'FOUR_OCTET_AS', asn: Number(localAs) }],
      }));
      let ok = false;
      for (let i = 0; i < 5 && !ok; i++) {
        const m = await s.next(5000);
        if (m === 'closed' || m === 'timeout') break;
        if (m.type === 'OPEN') s.sock.write(encodeMessage({ type: 'KEEPALIVE' }));
        if (m.type === 'KEEPALIVE') ok = true;
      }
      if (ok) {
        // drain the initial advertisement
        for (;;) { const m = await s.next(300); if (m === 'timeout' || m === 'closed') break; }
        return s;
      }
      s.sock.destroy();
    } catch { /* margay's idle hold: retry */ }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error('could not establish a session');
}

const refresh = encodeMessage({ type: 'ROUTE-REFRESH', afi: 1, subtype: 0, safi: 1 });
const summary = { sent: 0, resets: 0, kept: 0, byOutcome: {} as Record<string, number>, mismatches: [] as unknown[] };
let s = await establish();
const count = Math.min(Number(countArg), 5000);
for (let i = 0; i < count; i++) {
  const m = mutate();
  const want = expected(m);
  s.sock.write(m);
  s.sock.write(refresh);
  summary.sent++;
  let got: string;
  for (;;) {
    const r = await s.next(5000);
    if (r === 'closed' || r === 'timeout') { got = r; break; }
    if (r.type === 'NOTIFICATION') { got = `notification ${r.code}/${r.subcode}`; break; }
    if (r.type === 'UPDATE') { got = 'answered'; break; }
  }
  const key = want.reset ? `reset ${want.code}/${want.subcode}` : `kept (${want.why})`;
  summary.byOutcome[key] = (summary.byOutcome[key] ?? 0) + 1;
  const ok = want.reset ? got === `notification ${want.code}/${want.subcode}` : got === 'answered';
  if (!ok) summary.mismatches.push({ i, hex: m.toString('hex'), want, got });
  if (got === 'answered') { summary.kept++; for (;;) { const x = await s.next(100); if (x === 'timeout' || x === 'closed') break; } }
  else { summary.resets++; s.sock.destroy(); s = await establish(); }
}
s.sock.destroy();
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(0);

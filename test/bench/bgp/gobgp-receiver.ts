/**
 * GoBGP as an ingest receiver (a second gobgpd in its own leaf namespace, config and
 * API under its own mkdtemp dir, stopped by PID). GoBGP's own stamps have whole
 * seconds only (the neighbor's `uptime`, a route's `age`, its log), so the bench
 * times it from outside: Established = when a `gobgp monitor neighbor` stream
 * (started before the session is enabled) reports state 6, and the RIB's progress
 * from `global rib summary` polls every POLL_MS (first poll seeing a route, first
 * poll seeing all N).
 */
import type { ChildProcess } from 'node:child_process';
import { inNetns, start, stopProcess } from '../../../agent/lab/exec.js';
import { gobgp, gobgpConfig, type GoBgp } from '../../support/daemons/gobgp.js';
import { gobgpRibCount, whenCount } from './feeder.js';

export const RECEIVER_API_PORT = 50052;

/** The receiver's TOML: one eBGP neighbor (the feeder), administratively down when `idle`. */
export function receiverConfig(asn: number, routerId: string, feeder: string, feederAsn: number, idle: boolean): string {
  return gobgpConfig(asn, routerId, [{ address: feeder, asn: feederAsn, adminDown: idle }]);
}

export function startReceiver(ns: string, config: string): Promise<GoBgp> {
  return gobgp(ns, config, RECEIVER_API_PORT);
}

export interface EstablishedWatch {
  /** ms since epoch when the stream reported the session Established */
  when: Promise<number>;
  stop(): Promise<void>;
}

/** Watches the receiver's neighbor events (`gobgp monitor neighbor ADDR -j`, one JSON object a line). */
export function watchEstablished(ns: string, neighbor: string, timeoutMs: number): EstablishedWatch {
  const child: ChildProcess = start(inNetns(ns, ['gobgp', '-p', String(RECEIVER_API_PORT), 'monitor', 'neighbor', neighbor, '-j']));
  let timer: NodeJS.Timeout | undefined;
  const when = new Promise<number>((resolve, reject) => {
    let carry = '';
    child.stdout?.on('data', (b: Buffer) => {
      const now = Date.now();
      const lines = (carry + b.toString('utf8')).split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        const st = /"session_state":\s*(\d+|"[A-Za-z_]+")/.exec(line)?.[1];
        if (st === '6' || st?.toUpperCase() === '"ESTABLISHED"') resolve(now);
      }
    });
    child.on('exit', () => reject(new Error('gobgp monitor neighbor ended before the session was Established')));
    timer = setTimeout(() => reject(new Error(`GoBGP receiver not Established after ${timeoutMs} ms`)), timeoutMs);
  });
  when.catch(() => undefined).finally(() => clearTimeout(timer));
  return { when, stop: () => stopProcess(child, 2000) };
}

/** Polls the receiver's global RIB every POLL_MS: when it first held a route and when it held `want`. */
export async function ribProgress(g: GoBgp, want: number, timeoutMs: number): Promise<{ firstMs: number; doneMs: number }> {
  let firstMs = NaN;
  const doneMs = await whenCount('GoBGP ingest', async () => {
    const n = await gobgpRibCount(g);
    if (n > 0 && Number.isNaN(firstMs)) firstMs = Date.now();
    return n;
  }, want, timeoutMs);
  return { firstMs, doneMs };
}

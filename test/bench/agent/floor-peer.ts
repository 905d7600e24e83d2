/**
 * The Node floor of the convergence bench (convergence.bench.ts, system "node-floor"):
 * the least a Node process can do for a new block — wake on a TCP read and write one
 * route to the kernel — with no BGP, no RIB, no plan. Two modes, each run in its own
 * lab namespace by the bench:
 * - `receive ADDR PORT OUT`: listens; each byte k read writes a blackhole for
 *   10.250.k.0/24 (one netlink datagram, the agent's own KernelRtnl); at the end it
 *   times the same write back to back (hot) and writes `{ coldWriteUs, hotWriteUs }`
 *   to OUT.
 * - `send ADDR PORT N OUT`: connects, then sends byte k = 0..N-1, 40–60 ms apart (a
 *   new block is a rare event: the receiver sleeps in between, as an agent does),
 *   stamping the wall clock just before each write; writes the stamps to OUT.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { openRtnl } from '../../../agent/dataplane/kernel/rtnl.js';
import type { RouteMsg } from '../../../agent/dataplane/netlink/route.js';

const wall = (): number => performance.timeOrigin + performance.now();
const blackhole = (k: number, table = 254): RouteMsg => ({ family: 4, dst: `10.250.${k}.0/24`, table, protocol: 80, scope: 0, type: 'blackhole', nexthops: [] });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

function receive(addr: string, port: number, out: string): void {
  const nl = openRtnl();
  const coldWriteUs: number[] = [];
  const server = net.createServer((c) => {
    c.setNoDelay(true);
    c.on('data', (d: Buffer) => {
      for (const k of d) {
        const t0 = performance.now();
        nl.writeRoutes([{ op: 'replace', route: blackhole(k) }]);
        coldWriteUs.push((performance.now() - t0) * 1000);
      }
    });
    c.on('end', () => {
      // the same write with the process awake: deletes from a table that does not exist (ESRCH, nothing changes)
      const hot: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const t0 = performance.now();
        nl.writeRoutes([{ op: 'delete', route: blackhole(i & 255, 250) }]);
        hot.push((performance.now() - t0) * 1000);
      }
      writeFileSync(out, JSON.stringify({ coldWriteUs: median(coldWriteUs), hotWriteUs: median(hot.slice(1000)) }));
      c.end();
      server.close();
      nl.close();
    });
  });
  server.listen(port, addr);
}

async function send(addr: string, port: number, n: number, out: string): Promise<void> {
  let c: net.Socket | undefined;
  for (let i = 0; i < 50 && !c; i++) { // the receiver may still be starting: up to ~5 s
    c = await new Promise<net.Socket | undefined>((resolve) => {
      const s = net.connect(port, addr, () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    if (!c) await new Promise((r) => setTimeout(r, 100));
  }
  if (!c) throw new Error(`cannot connect to ${addr}:${port}`);
  c.setNoDelay(true);
  await new Promise((r) => setTimeout(r, 300));
  const stamps: number[] = [];
  for (let k = 0; k < n; k++) {
    stamps.push(wall());
    c.write(Buffer.from([k]));
    await new Promise((r) => setTimeout(r, 40 + Math.random() * 20));
  }
  writeFileSync(out, JSON.stringify(stamps));
  const sock = c;
  await new Promise<void>((r) => { sock.end(() => r()); });
}

const [mode, addr = '', port = '0', ...rest] = process.argv.slice(2);
if (mode === 'receive') receive(addr, Number(port), rest[0] ?? '');
else if (mode === 'send') await send(addr, Number(port), Math.min(255, Number(rest[0])), rest[1] ?? '');
else {
  process.stderr.write('usage: floor-peer receive ADDR PORT OUT | send ADDR PORT N OUT\n');
  process.exit(2);
}

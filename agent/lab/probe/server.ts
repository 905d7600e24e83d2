/**
 * The probe's server, run inside a pod namespace: accepts TCP on each given port
 * (answers "ok" and closes) and echoes UDP datagrams. Prints "ready" once every
 * socket is bound. Stopped by its PID (SIGTERM).
 *   node server.js 80 81
 */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

const ports = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
let pending = ports.length * 2;
const bound = (): void => {
  if (--pending === 0) process.stdout.write('ready\n');
};
for (const port of ports) {
  const tcp = createServer((s) => {
    s.on('error', () => undefined);
    s.end('ok\n');
  });
  tcp.listen({ port, host: '::', ipv6Only: false }, bound);
  const udp = createSocket({ type: 'udp6', ipv6Only: false });
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(port, '::', bound);
}
process.on('SIGTERM', () => process.exit(0));

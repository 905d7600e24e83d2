/**
 * The probe's client, run inside a pod namespace: tries every target concurrently
 * and prints one JSON array of booleans (same order). TCP: allowed when the
 * connection is established within the timeout. UDP: allowed when the datagram's
 * echo comes back (the datagram is resent every 150 ms until then).
 *   node client.js '{"timeoutMs":1000,"targets":[{"ip":"10.244.1.2","port":80,"protocol":"TCP"}]}'
 */
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';

interface Target { ip: string; port: number; protocol: 'TCP' | 'UDP' }
const req = JSON.parse(process.argv[2] ?? '{}') as { timeoutMs: number; targets: Target[] };

function tcp(t: Target, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: t.ip, port: t.port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function udp(t: Target, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(t.ip.includes(':') ? 'udp6' : 'udp4');
    const payload = Buffer.from(`probe ${t.ip} ${t.port}`);
    const send = (): void => s.send(payload, t.port, t.ip, () => undefined);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      clearInterval(resend);
      s.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const resend = setInterval(send, 150);
    s.on('message', (m) => {
      if (m.equals(payload)) done(true);
    });
    s.on('error', () => undefined);
    send();
  });
}

const results = await Promise.all(req.targets.map((t) => (t.protocol === 'TCP' ? tcp(t, req.timeoutMs) : udp(t, req.timeoutMs))));
process.stdout.write(`${JSON.stringify(results)}\n`);

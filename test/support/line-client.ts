import { createConnection } from 'node:net';

/** Writes one JSON line to a unix socket and resolves with everything read until the server ends the connection. */
export function sendJsonLine(socket: string, req: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let buf = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (d: string) => { buf += d; });
    c.on('end', () => resolve(buf));
    c.on('error', reject);
  });
}

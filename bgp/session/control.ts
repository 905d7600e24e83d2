/**
 * The speaker's control socket: a unix stream socket (like birdc's) taking one JSON
 * request per line, `{"cmd":"status"}`, and answering one JSON line. Any file left
 * at the path by a dead speaker is replaced; a bad request gets `{"error": ...}`.
 * close() ends the clients still connected (a client may keep its connection for
 * many requests) and removes the file.
 */
import net from 'node:net';
import { unlink } from 'node:fs/promises';

export type ControlRequest = { cmd: string } & Record<string, unknown>;
export type ControlHandler = (req: ControlRequest) => Promise<unknown> | unknown;

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

export async function serveControl(path: string, handle: ControlHandler): Promise<ControlServer> {
  await unlink(path).catch(() => undefined);
  // accepted connections, destroyed on close(): server.close() alone waits for every
  // client to leave, so a monitor holding its connection open would hang SIGTERM
  const clients = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    clients.add(sock);
    sock.once('close', () => clients.delete(sock));
    let buf = '';
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.length > 1 << 16) return void sock.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void answer(line).then((out) => sock.write(`${JSON.stringify(out)}\n`));
      }
    });
  });
  const answer = async (line: string): Promise<unknown> => {
    try {
      const req = JSON.parse(line) as unknown;
      if (typeof req !== 'object' || req === null || typeof (req as { cmd?: unknown }).cmd !== 'string') {
        return { error: 'request must be a JSON object with a "cmd" string' };
      }
      return await handle(req as ControlRequest);
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(path, () => res());
  });
  return {
    path,
    close: () => new Promise<void>((res) => {
      server.close(() => {
        void unlink(path).catch(() => undefined).then(() => res());
      });
      for (const sock of clients) sock.destroy();
      clients.clear();
    }),
  };
}

/** Sends one request and resolves with the parsed answer. */
export function queryControl(path: string, req: ControlRequest, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        sock.end();
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch (err) {
          reject(err as Error);
        }
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the speaker at ${path}: ${err.message}`));
    });
  });
}

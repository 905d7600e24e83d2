/**
 * CniServer: the agent end of margay-cni's unix socket. One request line in, one
 * response line out, per connection. The node agent hosts it; tests run it
 * standalone (standalone.ts). Emits 'pod' (PodEvent) after each ADD/DEL.
 *
 * Socket: the directory is created (0700 when new); a socket file left by a dead
 * agent is replaced, one still answered by a live agent is an error.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, chmodSync, unlinkSync, existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Ipam } from '../ipam/allocator.js';
import { CniError } from './errors.js';
import { CniHandler, ipamToCni, type PodEvent, type PodWiring } from './handler.js';
import { decodeRequest, type AgentRequest, type AgentResponse } from './wire.js';

export interface CniServerOptions {
  socketPath: string;
  ipam: Ipam;
  wiring: PodWiring;
  log?: Logger;
}

const MAX_REQUEST = 1 << 20;

export interface CniServerEvents {
  pod: [PodEvent];
}

export class CniServer extends EventEmitter<CniServerEvents> {
  private server: Server | undefined;
  private readonly handler: CniHandler;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: CniServerOptions) {
    super();
    this.handler = new CniHandler({ ipam: opts.ipam, wiring: opts.wiring, onEvent: (e) => this.emit('pod', e) });
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  async start(): Promise<void> {
    const path = this.opts.socketPath;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (existsSync(path)) {
      if (await answers(path)) throw new Error(`another agent is already serving CNI requests on ${path}`);
      unlinkSync(path);
    }
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => { server.off('error', reject); resolve(); });
    });
    chmodSync(path, 0o600);
    this.server = server;
    this.opts.log?.info({ socket: path }, 'CNI server listening');
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private serve(sock: Socket): void {
    const t0 = performance.now(); // the agent's share counts from the accepted connection
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    let done = false;
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      if (done) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length <= MAX_REQUEST) return;
      done = true;
      void this.answer(nl < 0 ? '' : buf.slice(0, nl), t0).then((resp) => sock.end(`${JSON.stringify(resp)}\n`));
    });
  }

  private async answer(line: string, t0: number): Promise<AgentResponse> {
    let req: AgentRequest | undefined;
    try {
      if (line === '') throw new CniError('DECODE_FAILURE', 'agent: request too large or empty');
      req = decodeRequest(line);
      const result = await this.handler.handle(req);
      const agentMs = performance.now() - t0;
      this.opts.log?.info({ command: req.command, containerId: req.containerId, ifName: req.ifName, ms: Math.round(agentMs * 10) / 10 }, 'CNI request done');
      return { ok: true, ...(result ? { result } : {}), agentMs };
    } catch (e) {
      const err = ipamToCni(e);
      this.opts.log?.warn({ command: req?.command, containerId: req?.containerId, code: err.code, err: err.message }, 'CNI request failed');
      return { ok: false, error: { code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) }, agentMs: performance.now() - t0 };
    }
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

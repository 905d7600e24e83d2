/**
 * CniServer: the agent end of margay-cni's unix socket. One request line in, one
 * response line out, per connection. The node agent hosts it; tests run it
 * standalone (standalone.ts). Emits 'pod' (PodEvent) after each successful
 * ADD/DEL, once that request's answer has been written (the plugin does not wait
 * for the listeners); the handler returns the event with the request's answer, so
 * overlapping requests never emit each other's events.
 * Requests come in the raw form (wire.ts: the plugin's CNI_* env and stdin; the
 * agent parses, validates and formats, and answers with the plugin's stdout and
 * exit code) or, from plugins installed before it, the structured form.
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
import { schedStat, threadTime, TimedWiring } from './stages.js';
import {
  decodeAnyRequest, finishRaw, planRaw, rawError, RAW_WIRE_VERSION, type AgentRequest, type AgentResponse, type RawPlan, type RawResponse,
} from './wire.js';

export interface CniServerOptions {
  socketPath: string;
  ipam: Ipam;
  wiring: PodWiring;
  log?: Logger;
  /** the pods' MTU when the network config has none (CniHandlerOptions.defaultMtu) */
  defaultMtu?: () => number | undefined;
  /** add `agentStages` (stages.ts) to raw answers and request logs: where the agent's share went (default: MARGAY_CNI_AGENT_STAGES=1) */
  stages?: boolean;
}

const MAX_REQUEST = 1 << 20;

export interface CniServerEvents {
  pod: [PodEvent];
}

export class CniServer extends EventEmitter<CniServerEvents> {
  private server: Server | undefined;
  private readonly handler: CniHandler;
  private readonly sockets = new Set<Socket>();
  /** time each request's wiring and thread (stages.ts) */
  private readonly stages: boolean;
  /** requests read and not yet answered */
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();

  constructor(private readonly opts: CniServerOptions) {
    super();
    this.stages = opts.stages ?? process.env.MARGAY_CNI_AGENT_STAGES === '1';
    this.handler = new CniHandler({ ipam: opts.ipam, wiring: opts.wiring, ...(opts.defaultMtu ? { defaultMtu: opts.defaultMtu } : {}) });
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  /**
   * Resolves once no request is being answered, or after `maxMs`. The agent's
   * policy pass waits here before it writes iptables: an nftables commit in the
   * node's namespace holds up a veth creation in the kernel (an ADD's wiring).
   */
  whenIdle(maxMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = (): void => { clearTimeout(timer); resolve(); };
      // timed out: leave the list, or steady overlapping requests would grow it by one per policy pass
      const timer = setTimeout(() => { this.idleWaiters.delete(waiter); resolve(); }, maxMs);
      this.idleWaiters.add(waiter);
    });
  }

  /** Runs `fn` in an IPAM handle's request queue (CniHandler.exclusive). */
  exclusive<T>(handle: string, fn: () => Promise<T>): Promise<T> {
    return this.handler.exclusive(handle, fn);
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
    const timed = this.stages ? new TimedWiring(this.opts.wiring) : undefined;
    const sched0 = timed ? schedStat() : undefined;
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
      const tData = performance.now();
      this.inFlight++;
      void this.answer(nl < 0 ? '' : buf.slice(0, nl), t0, timed).then(({ resp, log, event }) => {
        this.settled();
        const stages = timed ? { requestMs: Math.round((tData - t0) * 100) / 100, ...timed.stages(), ...threadTime(sched0, schedStat(), performance.now() - t0) } : undefined;
        if (stages && 'exit' in resp) resp.agentStages = stages;
        sock.end(`${JSON.stringify(resp)}\n`);
        // Only after the answer is on its way: this request's pod event (the
        // agent's listeners refresh IPAM, kick the policy and routes passes) and
        // logging are not part of what the plugin waits for.
        if (event) this.emit('pod', event);
        log(stages);
      });
    });
  }

  private settled(): void {
    if (--this.inFlight > 0) return;
    const waiters = [...this.idleWaiters];
    this.idleWaiters.clear();
    for (const w of waiters) w();
  }

  private async answer(line: string, t0: number, wiring: PodWiring | undefined): Promise<{ resp: AgentResponse | RawResponse; log: (stages?: Record<string, number>) => void; event?: PodEvent }> {
    let req: AgentRequest | undefined;
    let raw: Extract<RawPlan, { kind: 'work' }> | undefined;
    // until the request reads as raw, errors go back in the structured form, which
    // plugins of either form read
    let form: 'raw' | 'structured' = 'structured';
    try {
      if (line === '') throw new CniError('DECODE_FAILURE', 'agent: request too large or empty');
      const decoded = decodeAnyRequest(line);
      form = decoded.form;
      if (decoded.form === 'raw') {
        const plan = planRaw(decoded.req);
        if (plan.kind === 'answer') {
          const resp: RawResponse = { v: RAW_WIRE_VERSION, exit: plan.exit, stdout: plan.stdout, agentMs: performance.now() - t0 };
          return { resp, log: () => { if (plan.exit !== 0) this.opts.log?.warn({ command: decoded.req.env.CNI_COMMAND, out: plan.stdout.trim() }, 'CNI request refused'); } };
        }
        raw = plan;
        req = plan.req;
      } else {
        req = decoded.req;
      }
      const { result, event } = await this.handler.handle(req, wiring);
      const agentMs = performance.now() - t0;
      const done = req;
      const log = (stages?: Record<string, number>): void => { this.opts.log?.info({ command: done.command, containerId: done.containerId, ifName: done.ifName, ms: Math.round(agentMs * 10) / 10, ...(stages ? { stages } : {}) }, 'CNI request done'); };
      const ev = event ? { event } : {};
      if (raw) return { resp: { v: RAW_WIRE_VERSION, ...finishRaw(raw, result), agentMs }, log, ...ev };
      return { resp: { ok: true, ...(result ? { result } : {}), agentMs }, log, ...ev };
    } catch (e) {
      const err = ipamToCni(e);
      const failed = req;
      const log = (): void => { this.opts.log?.warn({ command: failed?.command, containerId: failed?.containerId, code: err.code, err: err.message }, 'CNI request failed'); };
      const agentMs = performance.now() - t0;
      if (form === 'raw') return { resp: { v: RAW_WIRE_VERSION, exit: 1, stdout: rawError(err, raw?.conf.cniVersion ?? '1.0.0').stdout, agentMs }, log };
      return { resp: { ok: false, error: { code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) }, agentMs }, log };
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

/**
 * The agent's HTTP endpoint on a local port: GET /healthz (200 while the agent's
 * loops run), /readyz (200 once BGP and policy have synced, else 503 with the
 * reasons), /metrics (Prometheus text). Anything else is 404; only GET/HEAD.
 */
import { createServer, type Server } from 'node:http';
import type { Health } from './agent-metrics.js';

export interface HealthSource {
  health(): Health;
  metrics(): string;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function serveHealth(source: HealthSource, opts: { port: number; host?: string }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      if (path === '/healthz') {
        const h = source.health();
        res.writeHead(h.live ? 200 : 503, { 'content-type': 'text/plain' }).end(h.live ? 'ok\n' : 'not live\n');
      } else if (path === '/readyz') {
        const h = source.health();
        const ok = h.reasons.length === 0;
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : `not ready:\n${h.reasons.map((r) => `- ${r}`).join('\n')}\n`);
      } else if (path === '/metrics') {
        const body = source.metrics(); // before the head: a throw still gets its 500
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz, /metrics\n');
      }
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : opts.port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent } from '../../../../agent/node/agent.js';
import { freePort } from '../../../support/free-port.js';
import type { Datastore } from '../../../../agent/datastore/datastore.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';

// The chart's liveness probe GETs /healthz from 10 s on and restarts the agent after
// 6 failures: the port must answer while the first datastore list is still retrying
// (an API server that is slow or not reachable yet), not only once it completed.

async function get(port: number, path: string): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { error: String((err as Error).cause ?? err) };
  }
}

describe('agent start: health before the first datastore snapshot', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('/healthz answers 200 and /readyz 503 naming the datastore while datastore.start() has not resolved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-agent-health-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let started = false;
    let stopped = false;
    const datastore: Datastore = {
      name: 'kubernetes',
      start: () => { started = true; return new Promise<void>(() => undefined); }, // the first LIST keeps failing
      stop: () => { stopped = true; return Promise.resolve(); },
    };
    const port = await freePort();
    const log = pino({ level: 'silent' });
    const agent = new Agent({
      node: 'node-a', datastore, ipamStore: new MemoryIpamStore(), cniSocket: null, statusSocket: join(dir, 'status.sock'),
      health: { port, host: '127.0.0.1' }, logs: { agent: log, bgp: log, dataplane: log, policy: log, cni: log },
    });
    void agent.start().catch(() => undefined);
    cleanups.push(() => agent.stop());

    // bounded: 40 × 50 ms
    let healthz: Awaited<ReturnType<typeof get>> = { error: 'not tried' };
    for (let i = 0; i < 40; i++) {
      healthz = await get(port, '/healthz');
      if ('status' in healthz) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(started).toBe(true);
    expect(healthz).toEqual({ status: 200, body: 'ok\n' });
    const readyz = await get(port, '/readyz');
    expect(readyz).toMatchObject({ status: 503 });
    expect('body' in readyz ? readyz.body : '').toContain('datastore: no snapshot yet');
    expect(await get(port, '/metrics')).toMatchObject({ status: 200 });

    await agent.stop();
    expect(stopped).toBe(true);
    expect(await get(port, '/healthz')).toHaveProperty('error'); // stop() closes the port
  });
});

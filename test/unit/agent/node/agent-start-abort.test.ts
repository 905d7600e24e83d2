import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent } from '../../../../agent/node/agent.js';
import { freePort } from '../../../support/free-port.js';
import type { Datastore, DatastoreListener } from '../../../../agent/datastore/datastore.js';
import { ObjectCache } from '../../../../agent/datastore/snapshot.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';

// stop() while start() is still running (SIGTERM while the first datastore list
// retries): start returns 'aborted' at its next step, opens nothing after it, and
// whatever was opening meanwhile is closed, not left listening.

async function listening(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

describe('agent: stop() during start() aborts the start', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function setup(datastore: Datastore, port: number) {
    const dir = mkdtempSync(join(tmpdir(), 'mg-agent-abort-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const statusSocket = join(dir, 'status.sock');
    const agent = new Agent({
      node: 'node-a', datastore, ipamStore: new MemoryIpamStore(), cniSocket: null, statusSocket,
      health: { port, host: '127.0.0.1' }, logs: { agent: log, bgp: log, dataplane: log, policy: log, cni: log },
    });
    cleanups.push(() => agent.stop());
    return { agent, statusSocket, lines };
  }

  it('a first list that retries until stop(): start resolves "aborted", the health port closes, no status socket', async () => {
    let release: (() => void) | undefined;
    let stops = 0;
    const datastore: Datastore = {
      name: 'kubernetes',
      // like KubernetesDatastore: stop() settles a start whose first lists keep failing, with no snapshot
      start: () => new Promise<void>((resolve) => { release = resolve; }),
      stop: () => { stops++; release?.(); return Promise.resolve(); },
    };
    const port = await freePort();
    const { agent, statusSocket, lines } = setup(datastore, port);
    const started = agent.start();
    for (let i = 0; i < 40 && !(release && await listening(port)); i++) await new Promise((r) => setTimeout(r, 25));
    expect(await listening(port)).toBe(true);

    await agent.stop();
    expect(await started).toBe('aborted');
    expect(stops).toBeGreaterThan(0);
    expect(await listening(port)).toBe(false);
    expect(existsSync(statusSocket)).toBe(false);
    const text = lines.join('');
    expect(text).toMatch(/"step":"first datastore list"[^\n]*agent start aborted/);
    expect(text).not.toMatch(/agent started/);
  });

  it('a snapshot delivered after stop() (a scan that finishes anyway): still aborted, nothing more opens', async () => {
    let listener: DatastoreListener | undefined;
    let finish: (() => void) | undefined;
    const datastore: Datastore = {
      name: 'file',
      start: (l) => { listener = l; return new Promise<void>((resolve) => { finish = resolve; }); },
      stop: () => Promise.resolve(), // does not settle start: it ends by itself, with a snapshot
    };
    const { agent, statusSocket, lines } = setup(datastore, await freePort());
    const started = agent.start();
    for (let i = 0; i < 40 && !finish; i++) await new Promise((r) => setTimeout(r, 10));
    expect(finish).toBeDefined();
    await agent.stop();
    listener?.onSnapshot(new ObjectCache().snapshot());
    finish?.();
    expect(await started).toBe('aborted');
    expect(existsSync(statusSocket)).toBe(false);
    expect(lines.join('')).not.toMatch(/agent started/);
  });

  it('stop() in the same tick as start(): the health server that was opening is closed, not left listening', async () => {
    const datastore: Datastore = { name: 'kubernetes', start: () => Promise.resolve(), stop: () => Promise.resolve() };
    const port = await freePort();
    const { agent, lines } = setup(datastore, port);
    const started = agent.start();
    await agent.stop();
    expect(await started).toBe('aborted');
    expect(await listening(port)).toBe(false);
    expect(lines.join('')).toMatch(/"step":"health server"[^\n]*agent start aborted/);
  });
});

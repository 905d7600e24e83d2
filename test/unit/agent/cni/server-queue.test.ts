import { mkdtempSync, rmSync } from 'node:fs';
import { sendJsonLine } from '../../../support/line-client.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { PodLink, PodWiring } from '../../../../agent/cni/handler.js';
import { handleId } from '../../../../agent/cni/names.js';
import { CniServer } from '../../../../agent/cni/server.js';
import { WIRE_VERSION, type AgentRequest } from '../../../../agent/cni/wire.js';

/** Wiring whose add() waits until the test opens the gate. */
class GatedWiring implements PodWiring {
  private open: (() => void) | undefined;
  private gate = new Promise<void>((r) => { this.open = r; });
  started = 0;
  release(): void { this.open?.(); }
  async netnsExists(): Promise<boolean> { return true; }
  async add(): Promise<{ hostMac: string; podMac: string }> {
    this.started++;
    await this.gate;
    return { hostMac: 'ee:ee:ee:ee:ee:ee', podMac: '0a:00:00:00:00:01' };
  }
  async del(): Promise<boolean> { return true; }
  async check(_l: PodLink): Promise<string[]> { return []; }
}

const send = (socket: string, req: AgentRequest): Promise<string> => sendJsonLine(socket, req);

const add = (id: string): AgentRequest => ({ v: WIRE_VERSION, command: 'ADD', containerId: id, ifName: 'eth0', netns: '/ns/a', args: {}, network: 'k8s', cniVersion: '1.0.0' });
const tick = (ms: number): Promise<'tick'> => new Promise((r) => setTimeout(() => r('tick'), ms));

describe('CniServer: idle wait and per-handle exclusive runs', () => {
  let dir: string;
  let server: CniServer;
  let wiring: GatedWiring;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-cni-q-'));
    wiring = new GatedWiring();
    const ipam = new Ipam({ store: new MemoryIpamStore(), node: 'n1', pools: [{ name: 'v4', spec: { cidr: '10.6.0.0/28', blockSize: 28 } }] });
    server = new CniServer({ socketPath: join(dir, 'cni.sock'), ipam, wiring });
    await server.start();
  });
  afterEach(async () => {
    wiring.release();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('whenIdle resolves at once with nothing in flight, waits for an ADD being answered, and gives up after maxMs', async () => {
    expect(await Promise.race([server.whenIdle(5_000).then(() => 'idle'), tick(50)])).toBe('idle');
    const answered = send(server.socketPath, add('c1'));
    for (let i = 0; i < 100 && wiring.started === 0; i++) await tick(5);
    expect(wiring.started).toBe(1);
    expect(await Promise.race([server.whenIdle(5_000).then(() => 'idle'), tick(100)])).toBe('tick');
    const t0 = performance.now();
    await server.whenIdle(60);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
    // the timed-out wait left the list; only the 5 s one above still waits
    expect((server as unknown as { idleWaiters: Set<unknown> }).idleWaiters.size).toBe(1);
    const idle = server.whenIdle(5_000).then(() => 'idle');
    wiring.release();
    expect(JSON.parse(await answered)).toMatchObject({ ok: true });
    expect(await Promise.race([idle, tick(1_000)])).toBe('idle');
  });

  it('exclusive(handle) runs after the ADD in flight for that handle, not during it', async () => {
    const order: string[] = [];
    const answered = send(server.socketPath, add('c2')).then(() => order.push('add answered'));
    for (let i = 0; i < 100 && wiring.started === 0; i++) await tick(5);
    const ran = server.exclusive(handleId('k8s', 'c2', 'eth0'), async () => { order.push('exclusive'); return 7; });
    const other = server.exclusive(handleId('k8s', 'c3', 'eth0'), async () => { order.push('other handle'); });
    await other;
    await tick(30);
    expect(order).toEqual(['other handle']);
    wiring.release();
    expect(await ran).toBe(7);
    await answered;
    expect(order.indexOf('exclusive')).toBeGreaterThan(0);
    expect(order.slice(0, 1)).toEqual(['other handle']);
  });
});

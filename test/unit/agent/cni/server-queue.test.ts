import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handleId, hostIfName } from '../../../../agent/cni/names.js';
import type { CniServer } from '../../../../agent/cni/server.js';
import { sendJsonLine } from '../../../support/line-client.js';
import { FakeWiring, startFakeCniAgent, type FakeCniAgent } from '../../../support/cni-fakes.js';
import { WIRE_VERSION, type AgentRequest } from '../../../../agent/cni/wire.js';

const send = (socket: string, req: AgentRequest): Promise<string> => sendJsonLine(socket, req);

const add = (id: string): AgentRequest => ({ v: WIRE_VERSION, command: 'ADD', containerId: id, ifName: 'eth0', netns: '/ns/a', args: {}, network: 'k8s', cniVersion: '1.0.0' });
const tick = (ms: number): Promise<'tick'> => new Promise((r) => setTimeout(() => r('tick'), ms));

describe('CniServer: idle wait and per-handle exclusive runs', () => {
  let agent: FakeCniAgent;
  let server: CniServer;
  let wiring: FakeWiring;
  /** Sends an ADD for `id` whose wiring waits until released, and waits (bounded) until it is at the gate. */
  const heldAdd = async (id: string): Promise<{ answered: Promise<string>; release: () => void }> => {
    const hostIf = hostIfName(id, 'eth0');
    wiring.gate(hostIf);
    const answered = send(server.socketPath, add(id));
    await vi.waitFor(() => expect(wiring.started).toEqual([hostIf]), { timeout: 1000, interval: 5 });
    return { answered, release: () => wiring.release(hostIf) };
  };
  beforeEach(async () => {
    agent = await startFakeCniAgent();
    ({ server, wiring } = agent);
  });
  afterEach(() => agent.stop());

  it('whenIdle resolves at once with nothing in flight, waits for an ADD being answered, and gives up after maxMs', async () => {
    expect(await Promise.race([server.whenIdle(5_000).then(() => 'idle'), tick(50)])).toBe('idle');
    const { answered, release } = await heldAdd('c1');
    expect(await Promise.race([server.whenIdle(5_000).then(() => 'idle'), tick(100)])).toBe('tick');
    const t0 = performance.now();
    await server.whenIdle(60);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
    // the timed-out wait left the list; only the 5 s one above still waits
    expect((server as unknown as { idleWaiters: Set<unknown> }).idleWaiters.size).toBe(1);
    const idle = server.whenIdle(5_000).then(() => 'idle');
    release();
    expect(JSON.parse(await answered)).toMatchObject({ ok: true });
    expect(await Promise.race([idle, tick(1_000)])).toBe('idle');
  });

  it('exclusive(handle) runs after the ADD in flight for that handle, not during it', async () => {
    const order: string[] = [];
    const held = await heldAdd('c2');
    const answered = held.answered.then(() => order.push('add answered'));
    const ran = server.exclusive(handleId('k8s', 'c2', 'eth0'), async () => { order.push('exclusive'); return 7; });
    const other = server.exclusive(handleId('k8s', 'c3', 'eth0'), async () => { order.push('other handle'); });
    await other;
    await tick(30);
    expect(order).toEqual(['other handle']);
    held.release();
    expect(await ran).toBe(7);
    await answered;
    expect(order.indexOf('exclusive')).toBeGreaterThan(0);
    expect(order.slice(0, 1)).toEqual(['other handle']);
  });
});

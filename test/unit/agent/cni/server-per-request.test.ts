import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PodEvent } from '../../../../agent/cni/handler.js';
import { hostIfName } from '../../../../agent/cni/names.js';
import type { CniServer } from '../../../../agent/cni/server.js';
import { sendJsonLine } from '../../../support/line-client.js';
import { FakeWiring, startFakeCniAgent, type FakeCniAgent } from '../../../support/cni-fakes.js';
import { RAW_WIRE_VERSION, WIRE_VERSION, type AgentRequest, type RawRequest } from '../../../../agent/cni/wire.js';

// What belongs to one CNI request stays with it when requests overlap: its pod
// event (emitted right after its own answer is written, never by another
// connection's answer) and its timing stages (never mixed with another request's
// in the same pod namespace, nothing kept for a CHECK).

const send = async (socket: string, req: AgentRequest | RawRequest): Promise<Record<string, unknown>> => JSON.parse(await sendJsonLine(socket, req)) as Record<string, unknown>;

const structured = (command: AgentRequest['command'], id: string): AgentRequest => ({ v: WIRE_VERSION, command, containerId: id, ifName: 'eth0', netns: '/ns/a', args: {}, network: 'k8s', cniVersion: '1.0.0' });
const raw = (command: string, id: string, ifName: string): RawRequest => ({
  v: RAW_WIRE_VERSION,
  env: { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: '/ns/a', CNI_IFNAME: ifName, CNI_PATH: '/opt/cni/bin' },
  stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'k8s', type: 'margay-cni' }),
});
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Waits (bounded: 1 s) until add() has been called for each of `hostIfs`. */
const wired = (wiring: FakeWiring, ...hostIfs: string[]): Promise<void> =>
  vi.waitFor(() => expect(wiring.started).toEqual(expect.arrayContaining(hostIfs)), { timeout: 1000, interval: 5 });

describe('CniServer: what a request produces belongs to that request', () => {
  let agent: FakeCniAgent | undefined;
  let wiring: FakeWiring;
  const start = async (stages: boolean): Promise<CniServer> => {
    agent = await startFakeCniAgent({ wiring, stages });
    return agent.server;
  };
  beforeEach(() => {
    wiring = new FakeWiring();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await agent?.stop();
    agent = undefined;
  });

  it('two overlapping ADDs: each pod event comes right after its own answer is written, never before it or with the other answer', async () => {
    const s = await start(false);
    const [ifA, ifB] = [hostIfName('ca', 'eth0'), hostIfName('cb', 'eth0')];
    const order: string[] = [];
    // answers as the server hands them to the socket
    const end = Socket.prototype.end;
    vi.spyOn(Socket.prototype, 'end').mockImplementation(function (this: Socket, ...args: unknown[]) {
      if (typeof args[0] === 'string' && args[0].includes('"ok"')) {
        const r = JSON.parse(args[0]) as { result?: { interfaces: { name: string }[] } };
        order.push(`answer ${r.result?.interfaces[0]?.name ?? '?'}`);
      }
      return (end as (...a: unknown[]) => Socket).apply(this, args);
    });
    s.on('pod', (e: PodEvent) => order.push(`event ${e.hostIf}`));
    // A waits in its wiring; B's wiring lets A go and returns at once, so both
    // finish in the same turn of the event loop, A a step ahead.
    wiring.gate(ifA);
    wiring.opens.set(ifB, ifA);
    const a = send(s.socketPath, structured('ADD', 'ca'));
    await wired(wiring, ifA);
    const b = send(s.socketPath, structured('ADD', 'cb'));
    expect(await a).toMatchObject({ ok: true });
    expect(await b).toMatchObject({ ok: true });
    expect(order).toHaveLength(4);
    expect(order.filter((x) => x.startsWith('answer')).sort()).toEqual([`answer ${ifA}`, `answer ${ifB}`].sort());
    for (const h of [ifA, ifB]) expect(order.indexOf(`event ${h}`), order.join(' | ')).toBe(order.indexOf(`answer ${h}`) + 1);
  });

  it('stages: two ADDs in one pod namespace each get their own record; a CHECK meanwhile gets only its own and keeps nothing', async () => {
    const s = await start(true);
    const [if0, if1, ifC] = [hostIfName('cs', 'eth0'), hostIfName('cs', 'eth1'), hostIfName('cs', 'eth2')];
    // eth2 is wired first, for the CHECK below
    expect(await send(s.socketPath, raw('ADD', 'cs', 'eth2'))).toMatchObject({ exit: 0 });
    wiring.gate(if0);
    wiring.gate(if1);
    const a0 = send(s.socketPath, raw('ADD', 'cs', 'eth0'));
    const a1 = send(s.socketPath, raw('ADD', 'cs', 'eth1'));
    await wired(wiring, if0, if1);
    const check = await send(s.socketPath, raw('CHECK', 'cs', 'eth2'));
    expect(check).toMatchObject({ exit: 0 });
    const cs = check.agentStages as Record<string, number>;
    expect(cs.netnsMs).toBeGreaterThanOrEqual(0);
    expect(cs).not.toHaveProperty('ipamMs');
    expect(cs).not.toHaveProperty('wiringMs');
    await tick(20);
    wiring.release(if0);
    wiring.release(if1);
    for (const r of [await a0, await a1]) {
      expect(r).toMatchObject({ exit: 0 });
      const st = r.agentStages as Record<string, number>;
      expect(Object.keys(st)).toEqual(expect.arrayContaining(['requestMs', 'netnsMs', 'ipamMs', 'wiringMs']));
      // each waited ≥ 20 ms in its own wiring; a shared record would sum the two
      expect(st.wiringMs).toBeGreaterThanOrEqual(15);
      expect(st.wiringMs).toBeLessThan((r.agentMs as number) + 1);
    }
    expect(new Set(wiring.links.keys())).toEqual(new Set([ifC, if0, if1]));
  });
});

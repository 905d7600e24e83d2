import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { sendJsonLine } from '../../../support/line-client.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import type { PodEvent, PodLink, PodWiring } from '../../../../agent/cni/handler.js';
import { hostIfName } from '../../../../agent/cni/names.js';
import { CniServer } from '../../../../agent/cni/server.js';
import { RAW_WIRE_VERSION, WIRE_VERSION, type AgentRequest, type RawRequest } from '../../../../agent/cni/wire.js';

// What belongs to one CNI request stays with it when requests overlap: its pod
// event (emitted right after its own answer is written, never by another
// connection's answer) and its timing stages (never mixed with another request's
// in the same pod namespace, nothing kept for a CHECK).

/** A kernel stand-in whose add() for a gated interface waits until released. */
class GatedWiring implements PodWiring {
  private gates = new Map<string, { wait: Promise<void>; open: () => void }>();
  readonly started: string[] = [];
  links = new Set<string>();
  /** add() for `hostIf` waits until release(hostIf) */
  gate(hostIf: string): void {
    let open: () => void = () => undefined;
    const wait = new Promise<void>((r) => { open = r; });
    this.gates.set(hostIf, { wait, open });
  }
  release(hostIf: string): void { this.gates.get(hostIf)?.open(); }
  /** add() for `hostIf` opens another's gate, then returns at once */
  opens = new Map<string, string>();
  async netnsExists(): Promise<boolean> { return true; }
  async add(l: PodLink): Promise<{ hostMac: string; podMac: string }> {
    this.started.push(l.hostIf);
    const other = this.opens.get(l.hostIf);
    if (other) this.release(other);
    await this.gates.get(l.hostIf)?.wait;
    this.links.add(l.hostIf);
    return { hostMac: 'ee:ee:ee:ee:ee:ee', podMac: '0a:00:00:00:00:01' };
  }
  async del(h: string): Promise<boolean> { return this.links.delete(h); }
  async check(l: PodLink): Promise<string[]> { return this.links.has(l.hostIf) ? [] : [`${l.hostIf} missing`]; }
}

const send = async (socket: string, req: AgentRequest | RawRequest): Promise<Record<string, unknown>> => JSON.parse(await sendJsonLine(socket, req)) as Record<string, unknown>;

const structured = (command: AgentRequest['command'], id: string): AgentRequest => ({ v: WIRE_VERSION, command, containerId: id, ifName: 'eth0', netns: '/ns/a', args: {}, network: 'k8s', cniVersion: '1.0.0' });
const raw = (command: string, id: string, ifName: string): RawRequest => ({
  v: RAW_WIRE_VERSION,
  env: { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: '/ns/a', CNI_IFNAME: ifName, CNI_PATH: '/opt/cni/bin' },
  stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'k8s', type: 'margay-cni' }),
});
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await tick(5);
  expect(cond()).toBe(true);
}

describe('CniServer: what a request produces belongs to that request', () => {
  let dir: string;
  let wiring: GatedWiring;
  let server: CniServer | undefined;
  const start = async (stages: boolean): Promise<CniServer> => {
    const ipam = new Ipam({ store: new MemoryIpamStore(), node: 'n1', pools: [{ name: 'v4', spec: { cidr: '10.7.0.0/28', blockSize: 28 } }] });
    server = new CniServer({ socketPath: join(dir, 'cni.sock'), ipam, wiring, stages });
    await server.start();
    return server;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'margay-cni-req-'));
    wiring = new GatedWiring();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
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
    await until(() => wiring.started.includes(ifA));
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
    await until(() => wiring.started.includes(if0) && wiring.started.includes(if1));
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
    expect(wiring.links).toEqual(new Set([ifC, if0, if1]));
  });
});

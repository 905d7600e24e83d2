import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionDriver, type DriverCore, type DriverLog } from '../../../../bgp/session/driver.js';
import { wireCodec } from '../../../../bgp/session/wire-codec.js';
import { PureSpeakerCore } from '../../../../bgp/session/speaker-core.js';
import { parseConfig } from '../../../../bgp/session/config.js';
import type { Transport } from '../../../../bgp/session/transport.js';
import { splitFrames } from '../../../../bgp/wire/framing.js';
import { decodeMessage, encodeMessage } from '../../../../bgp/wire/message.js';
import type { Message } from '../../../../bgp/wire/types.js';

// The driver between a real core (the pure speaker) and a scripted remote peer,
// over a unix-socket stand-in for TCP: no network, real sockets and timers. iBGP,
// because a unix socket has no local address to put in an eBGP next hop.

const silent: DriverLog & { errors: string[] } = {
  errors: [],
  info: () => undefined, debug: () => undefined, warn: () => undefined,
  error(obj) { this.errors.push(JSON.stringify(obj)); },
};

interface Remote {
  sock: net.Socket;
  next(): Promise<Message | 'closed'>;
  send(m: Message | Buffer): void;
}

/** A transport whose connects reach a scripted remote; `remote()` is the next connection accepted (in order). */
async function pairTransport(): Promise<{ transport: Transport; remote(): Promise<Remote>; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'margay-driver-'));
  const path = join(dir, 's');
  const accepted: Remote[] = [];
  let waiting: ((r: Remote) => void) | undefined;
  const resolveRemote = (r: Remote): void => {
    if (waiting) { const w = waiting; waiting = undefined; w(r); } else accepted.push(r);
  };
  const remote = (): Promise<Remote> => {
    const r = accepted.shift();
    return r ? Promise.resolve(r) : new Promise((res) => { waiting = res; });
  };
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    const queue: Message[] = [];
    let closed = false;
    let wake: (() => void) | undefined;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const f = splitFrames(buf);
      for (const fr of f.frames) { const r = decodeMessage(fr); if (r.ok) queue.push(r.message); }
      buf = Buffer.from(f.rest);
      wake?.();
    });
    sock.on('close', () => { closed = true; wake?.(); });
    resolveRemote({
      sock,
      send: (m) => sock.write(Buffer.isBuffer(m) ? m : encodeMessage(m)),
      next: () => new Promise((res) => {
        const take = (): boolean => {
          const m = queue.shift();
          if (m) { res(m); return true; }
          if (closed) { res('closed'); return true; }
          return false;
        };
        if (!take()) wake = () => { if (take()) wake = undefined; };
      }),
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  const transport: Transport = {
    connect: () => new Promise((res, rej) => { const s = net.connect(path, () => res(s)); s.once('error', rej); }),
    listen: () => Promise.reject(new Error('not used')),
  };
  return { transport, remote, cleanup: async () => { server.close(); await rm(dir, { recursive: true, force: true }); } };
}

const CONFIG = parseConfig('asn: 65001\nrouterId: 10.0.0.1\nlisten: false\nneighbors: [{address: 10.0.0.2, asn: 65001, holdTime: 90}]\noriginate: [{prefix: 10.9.0.0/24, nextHop: 10.0.0.1}]\n');
const peerOpen: Message = {
  type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.2',
  capabilities: [{ code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 65, name: 'FOUR_OCTET_AS', asn: 65001 }],
};

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});

/** OPEN and KEEPALIVE with the driver's next connection; resolves once the core is Established on it. */
async function handshake(core: PureSpeakerCore, next: () => Promise<Remote>): Promise<Remote> {
  const r = await next();
  expect(await r.next()).toMatchObject({ type: 'OPEN', myAs: 65001, bgpId: '10.0.0.1' });
  r.send(peerOpen);
  expect(await r.next()).toEqual({ type: 'KEEPALIVE' });
  r.send({ type: 'KEEPALIVE' });
  await until(() => core.status(Date.now()).peers[0]?.state === 'Established');
  return r;
}

/** Polls `ok` every 10 ms (socket delivery), at most 1 s. */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((res) => setTimeout(res, 10));
  expect(ok()).toBe(true);
}

/** `now`: the driver's clock (default Date.now). */
async function established(core: DriverCore & PureSpeakerCore, now?: () => number, log: DriverLog = silent): Promise<{ driver: SessionDriver; r: Remote; next(): Promise<Remote> }> {
  const t = await pairTransport();
  const driver = new SessionDriver({ transport: t.transport, codec: wireCodec, core, log, connectOptions: (remote) => ({ remote }), ...(now ? { now } : {}) });
  cleanups.push(async () => { await driver.shutdown(100); await t.cleanup(); });
  driver.perform(core.start(Date.now()));
  return { driver, r: await handshake(core, t.remote), next: t.remote };
}

const announce: Message = { type: 'UPDATE', withdrawn: [], nlri: [{ afi: 1, addr: '10.7.0.0', len: 24 }], attributes: { origin: 'IGP', asPath: [], nextHop: '10.0.0.2', localPref: 100 } };
const received = (core: PureSpeakerCore): number | undefined => core.status(Date.now()).peers[0]?.received;

describe('session driver', () => {
  it('connects, exchanges OPEN and KEEPALIVE, and advertises the originated prefix', async () => {
    const core = new PureSpeakerCore(CONFIG);
    const { r } = await established(core);
    const upd = await r.next();
    expect(upd).toMatchObject({ type: 'UPDATE', nlri: [{ addr: '10.9.0.0', len: 24 }] });
    expect(core.status(Date.now()).peers[0]?.state).toBe('Established');
  });

  it('stamps when it last handled an UPDATE from a peer (none before the first; KEEPALIVEs do not count)', async () => {
    const core = new PureSpeakerCore(CONFIG);
    let clock = 1_000_000;
    const { driver, r } = await established(core, () => clock);
    await r.next();
    expect(driver.lastUpdateAt('10.0.0.2')).toBeUndefined();
    expect(driver.firstUpdateAt('10.0.0.2')).toBeUndefined();
    clock = 1_000_100;
    r.send(announce);
    await until(() => received(core) === 1);
    expect(driver.lastUpdateAt('10.0.0.2')).toBe(1_000_100);
    expect(driver.firstUpdateAt('10.0.0.2')).toBe(1_000_100);
    const real = core.handle.bind(core);
    let keepalives = 0;
    core.handle = (peer, ev, now) => { if (ev.type === 'KeepAliveMsg') keepalives++; return real(peer, ev, now); };
    clock = 1_000_200;
    r.send({ type: 'KEEPALIVE' });
    await until(() => keepalives === 1);
    expect(driver.lastUpdateAt('10.0.0.2')).toBe(1_000_100);
    clock = 1_000_300;
    r.send({ type: 'UPDATE', withdrawn: [{ afi: 1, addr: '10.7.0.0', len: 24 }], nlri: [], attributes: {} });
    await until(() => received(core) === 0);
    expect(driver.firstUpdateAt('10.0.0.2')).toBe(1_000_100);
    expect(driver.lastUpdateAt('10.0.0.2')).toBe(1_000_300); // the withdrawal restamped it
  });

  it('firstUpdate is per session: a reconnect clears it until the new session\'s first UPDATE; lastUpdate spans sessions', async () => {
    const core = new PureSpeakerCore(CONFIG);
    let clock = 2_000_000;
    const { driver, r, next } = await established(core, () => clock);
    await r.next();
    clock = 2_000_100;
    r.send(announce);
    await until(() => received(core) === 1);
    expect(driver.firstUpdateAt('10.0.0.2')).toBe(2_000_100);
    // the peer drops the connection; the core ends the session (its routes go)
    r.sock.destroy();
    await until(() => core.status(Date.now()).peers[0]?.state !== 'Established' && received(core) === 0);
    expect(driver.firstUpdateAt('10.0.0.2')).toBe(2_000_100); // still the latest session's
    // the restart the IdleHold timer (5 s) would make, now: a new connection and session
    clock = 2_000_200;
    driver.dispatch('10.0.0.2', { type: 'IdleHoldTimerExpires' });
    const r2 = await handshake(core, next);
    expect(driver.firstUpdateAt('10.0.0.2')).toBeUndefined(); // the new session has had no UPDATE yet
    expect(driver.lastUpdateAt('10.0.0.2')).toBe(2_000_100);
    await r2.next(); // our UPDATE
    clock = 2_000_300;
    r2.send(announce);
    await until(() => received(core) === 1);
    expect(driver.firstUpdateAt('10.0.0.2')).toBe(2_000_300);
    expect(driver.lastUpdateAt('10.0.0.2')).toBe(2_000_300);
  });

  it('MP_* of a family not negotiated (SAFI 2): ignored, logged once per session and family at debug (RFC 4760 §6)', async () => {
    const debug: string[] = [];
    const log: DriverLog = { ...silent, error: () => undefined, debug: (_o, msg) => { debug.push(msg); } };
    const core = new PureSpeakerCore(CONFIG);
    const { r } = await established(core, undefined, log);
    await r.next();
    r.send(announce);
    await until(() => received(core) === 1);
    const mcast: Message = { type: 'UPDATE', withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 1, safi: 2, withdrawn: [{ afi: 1, addr: '10.7.0.0', len: 24 }] } } };
    r.send(mcast);
    r.send(mcast);
    r.send({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: { origin: 'IGP', asPath: [], localPref: 100,
      mpReach: { afi: 1, safi: 2, nextHops: ['10.0.0.2'], nlri: [{ afi: 1, addr: '10.8.0.0', len: 24 }] } } });
    r.send({ type: 'UPDATE', withdrawn: [], nlri: [{ afi: 1, addr: '10.6.0.0', len: 24 }], attributes: announce.type === 'UPDATE' ? announce.attributes : {} });
    await until(() => received(core) === 2);
    expect(core.status(Date.now()).locRib.total).toBe(3); // the originated prefix, 10.7.0.0/24 kept, 10.6.0.0/24
    expect(debug.filter((m) => m.includes('not negotiated'))).toHaveLength(1);
  });

  it('answers a broken header with NOTIFICATION 1/1 and closes only that session', async () => {
    const core = new PureSpeakerCore(CONFIG);
    const { r } = await established(core);
    await r.next(); // the UPDATE
    const bad = Buffer.alloc(19, 0xff);
    bad[0] = 0; // marker not all ones
    r.send(bad);
    let m = await r.next();
    while (m !== 'closed' && m.type !== 'NOTIFICATION') m = await r.next();
    expect(m).toMatchObject({ type: 'NOTIFICATION', code: 1, subcode: 1 });
    expect(await r.next()).toBe('closed');
    expect(core.status(Date.now()).peers[0]?.lastError).toMatch(/NOTIFICATION sent 1\/1/);
  });

  it('survives a core that throws: the peer gets a Cease and the process goes on', async () => {
    const core = new PureSpeakerCore(CONFIG);
    const { r } = await established(core);
    await r.next();
    const real = core.handle.bind(core);
    let thrown = 0;
    core.handle = (peer, ev, now) => {
      if (ev.type === 'UpdateMsg' && thrown++ === 0) throw new Error('boom');
      return real(peer, ev, now);
    };
    r.send(announce);
    let m = await r.next();
    while (m !== 'closed' && m.type !== 'NOTIFICATION') m = await r.next();
    expect(m).toMatchObject({ type: 'NOTIFICATION', code: 6, subcode: 8 });
    expect(silent.errors.some((e) => e.includes('boom'))).toBe(true);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type { ConnectOptions, ListenOptions, Transport } from '../../../../bgp/session/transport.js';
import { ObjectCache, type Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import { planNodeBgp } from '../../../../agent/node-config/node-config.js';
import { NodeBgp, type SecretReader } from '../../../../agent/node/bgp.js';

// removePeer/addPeer spied on (the real ones run): a peer torn down by a re-plan, a peer's config, show here
vi.mock('../../../../bgp/speaker/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../../bgp/speaker/index.js')>();
  return { ...real, removePeer: vi.fn(real.removePeer), addPeer: vi.fn(real.addPeer), updatePeer: vi.fn(real.updatePeer) };
});
const speaker = await import('../../../../bgp/speaker/index.js');

const node = (name: string, ann: Record<string, string>): Resource => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: {}, annotations: ann } });
const bgpPeer = (name: string, spec: object): Resource => ({ apiVersion: 'margay.io/v1', kind: 'BGPPeer', metadata: { name }, spec });
const A4 = 'margay.io/bgp-ipv4-address';
const A6 = 'margay.io/bgp-ipv6-address';
function snap(...objs: Resource[]): Snapshot {
  const c = new ObjectCache();
  for (const o of objs) c.set(o);
  return c.snapshot();
}

/** A transport that records what the runtime asks of it: nothing reaches a network (connects never complete). */
function fakeTransport() {
  const listens: ListenOptions[] = [];
  const connects: ConnectOptions[] = [];
  const keys: [string, string][] = [];
  const transport: Transport = {
    connect: (o) => { connects.push(o); return new Promise(() => undefined); },
    listen: (o) => {
      listens.push(o);
      return Promise.resolve({
        address: o.address, port: o.port, setPeerPassword: (peer, key) => void keys.push([peer, key]),
        setSendTtl255: () => undefined, setMinTtl: () => undefined, close: () => Promise.resolve(),
      });
    },
  };
  return { transport, listens, connects, keys };
}

const running: NodeBgp[] = [];
function agentBgp(readSecret?: SecretReader, log = pino({ level: 'silent' }), more: { secretPollMs?: number; secretReadTimeoutMs?: number } = {}) {
  const t = fakeTransport();
  const bgp = new NodeBgp({
    log, restartTime: 120, holdTime: 9, onRoutesChanged: () => undefined, transport: t.transport,
    ...(readSecret ? { readSecret } : {}), ...more,
  });
  running.push(bgp);
  return { bgp, ...t };
}
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop(false);
  vi.mocked(speaker.removePeer).mockClear();
  vi.mocked(speaker.addPeer).mockClear();
  vi.mocked(speaker.updatePeer).mockClear();
  vi.useRealTimers();
});
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('NodeBgp: listen address', () => {
  it('a dual-stack node listens on "::" (both families), so an IPv6-only peer that is active toward it can connect', async () => {
    const s = snap(node('n1', { [A4]: '172.30.0.11/24', [A6]: 'fd30::20/64' }), node('n2', { [A6]: 'fd30::12/64', 'margay.io/router-id': '9.9.9.9' }));
    const plan = planNodeBgp(s, 'n1');
    expect(plan.peers.map((p) => [p.address, p.passive])).toEqual([['fd30::12', true]]);
    const { bgp, listens } = agentBgp();
    await bgp.update(plan, []);
    expect(listens).toEqual([{ address: '::', port: 179 }]);
  });

  it('an IPv4-only node listens on 0.0.0.0', async () => {
    const { bgp, listens } = agentBgp();
    await bgp.update(planNodeBgp(snap(node('n1', { [A4]: '172.30.0.11/24' }), node('n2', { [A4]: '172.30.0.12/24' })), 'n1'), []);
    expect(listens).toEqual([{ address: '0.0.0.0', port: 179 }]);
  });
});

describe('NodeBgp: source address', () => {
  it('sessions to external peers start from the node\'s BGP address of the peer\'s family (none for a family the node lacks)', async () => {
    const s = snap(node('n1', { [A4]: '172.30.0.11/24' }), bgpPeer('tor', { peerIP: '172.30.0.1', asNumber: 65000 }),
      bgpPeer('tor6', { peerIP: 'fd30::1', asNumber: 65000 }));
    const { bgp, connects } = agentBgp();
    await bgp.update(planNodeBgp(s, 'n1'), []);
    await tick();
    expect(connects.map((c) => [c.remote, c.local]).sort()).toEqual([['172.30.0.1', '172.30.0.11'], ['fd30::1', undefined]]);
  });
});

describe('NodeBgp: next hop self', () => {
  it('a BGPPeer that is no cluster node gets next hop self unless keepOriginalNextHop; node peers (mesh, a peerIP that is a node) keep the next hop', async () => {
    const s = snap(node('n1', { [A4]: '172.30.0.11/24' }), node('n2', { [A4]: '172.30.0.12/24' }), node('n3', { [A4]: '172.30.0.13/24' }),
      bgpPeer('tor-a', { peerIP: '172.30.0.1', asNumber: 64512 }),
      bgpPeer('tor-b', { peerIP: '172.30.0.2', asNumber: 64512, keepOriginalNextHop: true }),
      bgpPeer('to-n3', { peerIP: '172.30.0.13', asNumber: 64512 }));
    const { bgp } = agentBgp();
    await bgp.update(planNodeBgp(s, 'n1'), []);
    const configs = vi.mocked(speaker.addPeer).mock.calls.map(([, c]) => [c.address, c.nextHopSelf, c.keepOriginalNextHop]);
    expect(configs.sort()).toEqual([
      ['172.30.0.1', true, false], ['172.30.0.12', false, false], ['172.30.0.13', false, false], ['172.30.0.2', false, true],
    ]);
  });
});

describe('NodeBgp: MD5 passwords from Secrets', () => {
  const base = [node('n1', { [A4]: '172.30.0.11/24' }),
    bgpPeer('tor', { peerIP: '172.30.0.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } })];

  it('a Secret read that fails in a re-plan keeps the configured peer with its last password (no removePeer); a new peer is refused', async () => {
    let fail = false;
    const { bgp, keys } = agentBgp((ref) => (fail ? Promise.reject(new Error('connection refused')) : Promise.resolve(`pw-${ref.key}`)));
    await bgp.update(planNodeBgp(snap(...base), 'n1'), []);
    expect(bgp.rows().map((r) => r.address)).toEqual(['172.30.0.1']);
    fail = true;
    const more = snap(...base, bgpPeer('tor2', { peerIP: '172.30.0.2', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor2' } } }));
    await bgp.update(planNodeBgp(more, 'n1'), []);
    expect(speaker.removePeer).not.toHaveBeenCalled();
    expect(bgp.rows().map((r) => r.address)).toEqual(['172.30.0.1']);
    expect(keys).toEqual([['172.30.0.1', 'pw-tor']]);
    expect(bgp.secretsMissing).toBe(true);
    expect(bgp.problems.join('\n')).toMatch(/172\.30\.0\.1 .*Secret bgp-secrets key tor: connection refused.*last password/);
    expect(bgp.problems.join('\n')).toMatch(/172\.30\.0\.2 .*Secret bgp-secrets key tor2: connection refused/);
    // the Secret readable again: the new peer comes up, and the kept one is untouched
    fail = false;
    await bgp.update(planNodeBgp(more, 'n1'), []);
    expect(bgp.rows().map((r) => r.address)).toEqual(['172.30.0.1', '172.30.0.2']);
    expect(speaker.removePeer).not.toHaveBeenCalled();
  });
});

describe('NodeBgp: peerNodes keeps mesh peers skipped for an unreadable Secret', () => {
  it('a restarted speaker whose mesh Secret cannot be read still names the skipped peer\'s node (its routes are held, docs/agent.md rule 4)', async () => {
    const s = snap(node('n1', { [A4]: '172.30.0.11/24' }), node('n2', { [A4]: '172.30.0.12/24' }),
      bgpPeer('md5-mesh', { nodeSelector: 'all()', peerSelector: 'all()', password: { secretKeyRef: { name: 'bgp-auth', key: 'password' } } }));
    let fail = true;
    const { bgp } = agentBgp(() => (fail ? Promise.reject(new Error('timeout (API server busy)')) : Promise.resolve('pw')));
    bgp.restarting = true;
    await bgp.update(planNodeBgp(s, 'n1'), []);
    expect(bgp.rows()).toEqual([]);
    expect(bgp.synced().waiting).toContain('172.30.0.12');
    expect([...bgp.peerNodes()]).toEqual([['172.30.0.12', 'n2']]);
    // readable again: the peer is configured, and named once
    fail = false;
    await bgp.update(planNodeBgp(s, 'n1'), []);
    expect(bgp.rows().map((r) => r.address)).toEqual(['172.30.0.12']);
    expect([...bgp.peerNodes()]).toEqual([['172.30.0.12', 'n2']]);
  });
});

describe('NodeBgp: a password changed in its Secret (Secrets are not watched: re-read every 30 s)', () => {
  const tor = bgpPeer('tor', { peerIP: '172.30.0.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } });
  const plain = bgpPeer('tor-plain', { peerIP: '172.30.0.2', asNumber: 65000 });
  const s = snap(node('n1', { [A4]: '172.30.0.11/24' }), node('n2', { [A4]: '172.30.0.12/24' }), tor, plain);
  /** the peers' configs the speaker was handed after the first apply (added or changed) */
  const changedPeers = () => vi.mocked(speaker.updatePeer).mock.calls.map(([, c]) => [c.address, c.password]);
  /** the poll's interval passes (only setInterval is faked: the runtime's own timers are real), then its reads settle */
  const poll = async () => {
    vi.advanceTimersByTime(30_000);
    await tick();
  };

  it('the new password reaches that peer alone (its session restarts with the new MD5 key); the other peers are untouched; logged without the password', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let pw = 'a';
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const { bgp, keys, connects } = agentBgp(() => Promise.resolve(pw), log);
    await bgp.update(planNodeBgp(s, 'n1'), []);
    await tick();
    expect(keys).toEqual([['172.30.0.1', 'a']]);
    expect(connects.filter((c) => c.remote === '172.30.0.1').map((c) => c.password)).toEqual(['a']);
    pw = 'b';
    await poll();
    expect(changedPeers()).toEqual([['172.30.0.1', 'b']]);
    expect(keys).toEqual([['172.30.0.1', 'a'], ['172.30.0.1', 'b']]);
    // a new TCP connection with the new key (the old one was closed by the reset)
    await vi.waitFor(() => expect(connects.filter((c) => c.remote === '172.30.0.1').map((c) => c.password)).toEqual(['a', 'b']), { timeout: 5000 });
    expect(speaker.removePeer).not.toHaveBeenCalled();
    expect(speaker.addPeer).toHaveBeenCalledTimes(3); // tor, tor-plain, n2: only at the start
    expect(connects.filter((c) => c.remote !== '172.30.0.1').every((c) => c.password === undefined)).toBe(true);
    const changed = lines.filter((l) => l.includes('password changed'));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/"peer":"172\.30\.0\.1".*"secret":"bgp-secrets"/);
    expect(lines.join('')).not.toMatch(/"b"|:"a"/);
    // unchanged at the next poll: nothing is touched
    await poll();
    expect(changedPeers()).toHaveLength(1);
    expect(keys).toHaveLength(2);
  });

  it('a Secret read failing after a good read keeps the old password (reported); readable again, the new value is applied', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let pw: string | Error = 'a';
    const { bgp, keys } = agentBgp(() => (pw instanceof Error ? Promise.reject(pw) : Promise.resolve(pw)));
    await bgp.update(planNodeBgp(s, 'n1'), []);
    pw = new Error('secrets "bgp-secrets" not found');
    await poll();
    expect(changedPeers()).toEqual([]);
    expect(keys).toEqual([['172.30.0.1', 'a']]);
    expect(bgp.rows().map((r) => r.address).sort()).toEqual(['172.30.0.1', '172.30.0.12', '172.30.0.2']);
    expect(bgp.problems.join('\n')).toMatch(/172\.30\.0\.1 .*Secret bgp-secrets key tor: secrets "bgp-secrets" not found; keeping the last password read/);
    expect(bgp.secretsMissing).toBe(true);
    pw = 'b';
    await poll();
    expect(changedPeers()).toEqual([['172.30.0.1', 'b']]);
    expect(keys).toEqual([['172.30.0.1', 'a'], ['172.30.0.1', 'b']]);
    expect(bgp.problems).toEqual([]);
    expect(bgp.secretsMissing).toBe(false);
    expect(speaker.removePeer).not.toHaveBeenCalled();
  });

  it('a Secret read that never answers (API server hung) fails after its timeout: the peer keeps its key, later updates are not held behind it', async () => {
    let hang = false;
    const { bgp, keys } = agentBgp(() => (hang ? new Promise<string>(() => undefined) : Promise.resolve('a')), pino({ level: 'silent' }), { secretPollMs: 50, secretReadTimeoutMs: 100 });
    await bgp.update(planNodeBgp(s, 'n1'), []);
    hang = true;
    await vi.waitFor(() => expect(bgp.problems.join('\n')).toMatch(/172\.30\.0\.1 .*Secret bgp-secrets key tor: no answer in 0\.1 s; keeping the last password read/), { timeout: 12_000 });
    // and it stays there while the next polls read again (the problems are published whole, never blank mid-read)
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 10));
      expect(bgp.problems.join('\n')).toContain('no answer in 0.1 s');
    }
    const more = snap(node('n1', { [A4]: '172.30.0.11/24' }), node('n2', { [A4]: '172.30.0.12/24' }), tor, plain, bgpPeer('tor3', { peerIP: '172.30.0.3', asNumber: 65000 }));
    await bgp.update(planNodeBgp(more, 'n1'), []);
    expect(bgp.rows().map((r) => r.address)).toContain('172.30.0.3');
    expect(keys).toEqual([['172.30.0.1', 'a']]);
    expect(speaker.removePeer).not.toHaveBeenCalled();
  }, 15_000); // its waitFor may take seconds on a loaded machine: not the default 5 s

  it('peers sharing one Secret key: one read per poll, not one per peer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const mesh = bgpPeer('md5-mesh', { nodeSelector: 'all()', peerSelector: 'all()', password: { secretKeyRef: { name: 'bgp-auth', key: 'password' } } });
    const m = snap(node('n1', { [A4]: '172.30.0.11/24' }), node('n2', { [A4]: '172.30.0.12/24' }), node('n3', { [A4]: '172.30.0.13/24' }), mesh);
    let reads = 0;
    const { bgp } = agentBgp(() => { reads++; return Promise.resolve('k'); });
    await bgp.update(planNodeBgp(m, 'n1'), []);
    expect(bgp.rows()).toHaveLength(2);
    expect(reads).toBe(1);
    await poll();
    expect(reads).toBe(2);
  });
});

describe('NodeBgp: close() (the agent stopping)', () => {
  const tor = bgpPeer('tor', { peerIP: '172.30.0.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } });

  it('an update still queued (its Secret read pending) starts no speaker after close(): nothing listens', async () => {
    let answer: ((v: string) => void) | undefined;
    const { bgp, listens } = agentBgp(() => new Promise<string>((resolve) => { answer = resolve; }));
    const queued = bgp.update(planNodeBgp(snap(node('n1', { [A4]: '172.30.0.11/24' }), tor), 'n1'), []);
    for (let i = 0; i < 50 && !answer; i++) await tick();
    expect(answer).toBeDefined();
    const closed = bgp.close(true);
    answer?.('s3cret');
    await queued;
    await closed;
    expect(bgp.running).toBe(false);
    expect(listens).toEqual([]);
  });

  it('an update after close() does nothing', async () => {
    const { bgp, listens } = agentBgp();
    await bgp.close(true);
    await bgp.update(planNodeBgp(snap(node('n1', { [A4]: '172.30.0.11/24' }), node('n2', { [A4]: '172.30.0.12/24' })), 'n1'), []);
    expect(bgp.running).toBe(false);
    expect(listens).toEqual([]);
  });
});

describe('NodeBgp: an IPv6-only node without a router ID', () => {
  it('says in its problems (margay status) why BGP stays off, not only in a log line', async () => {
    const { bgp, listens } = agentBgp();
    await bgp.update(planNodeBgp(snap(node('n1', { [A6]: 'fd30::11/64' }), node('n2', { [A6]: 'fd30::12/64', 'margay.io/router-id': '9.9.9.9' })), 'n1'), []);
    expect(bgp.running).toBe(false);
    expect(listens).toEqual([]);
    expect(bgp.problems.join('\n')).toContain('no IPv4 router ID (annotation margay.io/router-id or an IPv4 address): BGP stays off');
  });
});

import { describe, expect, it } from 'vitest';
import { createSpeaker, handle, incoming, originate, speakerStatus } from '../../../../bgp/speaker/index.js';
import { Sim } from './sim.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function grPair(): Sim {
  const sim = new Sim();
  sim.node(A, { asn: 65001, restartTime: 30 });
  sim.node(B, { asn: 65002, restartTime: 30 });
  sim.peer(A, { address: B, asn: 65002, gracefulRestart: true });
  sim.peer(B, { address: A, asn: 65001, passive: true, gracefulRestart: true });
  sim.run();
  sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/26' }], sim.now));
  sim.run();
  return sim;
}

const isEoR = (m: { message: { type: string } }): boolean =>
  m.message.type === 'UPDATE' && JSON.stringify(m.message) === JSON.stringify({ type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [] });

describe('graceful restart, receiving speaker (RFC 4724 §4.2)', () => {
  it('sends End-of-RIB after the initial advertisement', () => {
    const sim = grPair();
    const fromA = sim.sent.filter((m) => m.from === A && m.message.type === 'UPDATE');
    expect(fromA.some(isEoR)).toBe(true);
    expect(sim.sent.some((m) => m.from === B && isEoR(m))).toBe(true);
  });

  it('keeps routes stale when the connection drops, clears the mark on End-of-RIB', () => {
    const sim = grPair();
    const removesBefore = sim.routes(B).filter((r) => r.kind === 'remove').length;
    sim.cut(A, B);
    expect(sim.state(B, A)).not.toBe('Established');
    expect(Object.keys(sim.rib(B)).sort()).toEqual(['10.244.1.0/26', '10.244.2.0/26']);
    expect(speakerStatus(sim.speaker(B)).peers[0]?.stale).toBe(2);
    expect([...sim.timers.values()].some((t) => t.node === B && t.name === 'GrRestart' && t.due === sim.now + 30_000)).toBe(true);
    // A comes back announcing only one of the two before its End-of-RIB
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }], sim.now));
    sim.advance(10_000);
    expect(sim.state(B, A)).toBe('Established');
    expect(Object.keys(sim.rib(B))).toEqual(['10.244.1.0/26']);
    expect(speakerStatus(sim.speaker(B)).peers[0]?.stale).toBe(0);
    const removes = sim.routes(B).filter((r) => r.kind === 'remove');
    expect(removes.length - removesBefore).toBe(1);
    expect([...sim.timers.values()].some((t) => t.node === B && (t.name === 'GrRestart' || t.name === 'GrStale'))).toBe(false);
  });

  it('a new connection while Established means the peer restarted: the old session ends, routes kept stale', () => {
    const sim = grPair();
    const b = sim.speaker(B);
    const oldConn = b.peers.get(A)!.fsm.conn;
    // A restarts without B noticing the old connection die: a new A connects to B
    const r = incoming(b, A, B, sim.now);
    expect(r.actions.map((x) => x.action.type)).toEqual(expect.arrayContaining(['close', 'down', 'send']));
    expect(r.actions).toContainEqual({ peer: A, action: { type: 'close', conn: oldConn } });
    expect(b.peers.get(A)!.fsm.state).toBe('OpenSent');
    expect(r.routes).toEqual([]);
    expect(speakerStatus(b).peers[0]?.stale).toBe(2);
    expect(r.actions).toContainEqual({ peer: A, action: { type: 'down', reason: { kind: 'peer-restarted' } } });
  });

  it('without graceful restart a second connection while Established is refused with Cease 6/7', () => {
    const sim = new Sim();
    sim.node(A, { asn: 65001 });
    sim.node(B, { asn: 65002 });
    sim.peer(A, { address: B, asn: 65002 });
    sim.peer(B, { address: A, asn: 65001, passive: true });
    sim.run();
    const r = incoming(sim.speaker(B), A, B, sim.now);
    expect(r.actions.map((x) => x.action)).toEqual([
      { type: 'send', conn: r.conn, message: { type: 'NOTIFICATION', code: 6, subcode: 7, data: new Uint8Array() } },
      { type: 'close', conn: r.conn },
    ]);
    expect(sim.state(B, A)).toBe('Established');
  });

  it('drops stale routes at once when the new OPEN does not preserve forwarding', () => {
    const sim = new Sim();
    sim.node(A, { asn: 65001, forwardingPreserved: false });
    sim.node(B, { asn: 65002 });
    sim.peer(A, { address: B, asn: 65002, gracefulRestart: true });
    sim.peer(B, { address: A, asn: 65001, passive: true, gracefulRestart: true });
    sim.run();
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }], sim.now));
    sim.run();
    sim.cut(A, B);
    expect(Object.keys(sim.rib(B))).toHaveLength(1);
    const mark = sim.routes(B).length;
    sim.advance(10_000);
    expect(sim.state(B, A)).toBe('Established');
    // removed when the OPEN arrived, learned again from the new session
    expect(sim.routes(B).slice(mark).map((r) => r.kind)).toEqual(['remove', 'add']);
  });

  it('drops stale routes when the restart timer runs out', () => {
    const sim = grPair();
    sim.unreachable.add(A);
    sim.unreachable.add(B);
    sim.cut(A, B);
    sim.advance(29_000);
    expect(Object.keys(sim.rib(B))).toHaveLength(2);
    sim.advance(2_000);
    expect(Object.keys(sim.rib(B))).toHaveLength(0);
  });

  it('a NOTIFICATION ends the session without graceful restart', () => {
    const sim = grPair();
    // hold timer expiry on B sends a NOTIFICATION: no stale retention
    sim.apply(B, handle(sim.speaker(B), A, { type: 'HoldTimerExpires' }, sim.now));
    expect(sim.sent.at(-1)?.message).toMatchObject({ type: 'NOTIFICATION', code: 4 });
    expect(Object.keys(sim.rib(B))).toHaveLength(0);
  });
});

describe('graceful restart, restarting speaker (RFC 4724 §4.1)', () => {
  it('defers its advertisements until the peer\'s End-of-RIB, then sends them and its own End-of-RIB', () => {
    const sim = new Sim();
    sim.node(B, { asn: 65002 });
    sim.apply(B, originate(sim.speaker(B), [{ prefix: '10.96.0.0/24' }], sim.now));
    sim.node(A, { asn: 65001, restarting: true, deferralTime: 60 });
    expect([...sim.timers.values()].some((t) => t.node === A && t.name === 'Deferral')).toBe(true);
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }], sim.now));
    sim.peer(B, { address: A, asn: 65001, passive: true, gracefulRestart: true });
    sim.peer(A, { address: B, asn: 65002, gracefulRestart: true });
    sim.run();
    const open = sim.sent.find((m) => m.from === A && m.message.type === 'OPEN');
    expect(open?.message.type === 'OPEN' && open.message.capabilities.find((c) => c.code === 64)).toMatchObject({ restarted: true });
    const fromA = sim.sent.filter((m) => m.from === A && m.message.type === 'UPDATE');
    // B's End-of-RIB arrived first, then A sent its route, then its End-of-RIB
    const bEor = sim.sent.findIndex((m) => m.from === B && isEoR(m));
    const aRoute = sim.sent.findIndex((m) => m.from === A && m.message.type === 'UPDATE' && m.message.nlri.length > 0);
    const aEor = sim.sent.findIndex((m) => m.from === A && isEoR(m));
    expect(fromA.length).toBe(2);
    expect(bEor).toBeGreaterThanOrEqual(0);
    expect(aRoute).toBeGreaterThan(bEor);
    expect(aEor).toBeGreaterThan(aRoute);
    expect(sim.speaker(A).deferring).toBe(false);
    expect(sim.rib(A)).toEqual({ '10.244.1.0/26': ['local'], '10.96.0.0/24': [B] });
  });

  it('R only while deferring: once the deferral ends, a reconnect\'s OPEN (the config it is built from) has R=0', () => {
    const sim = new Sim();
    sim.node(B, { asn: 65002 });
    sim.node(A, { asn: 65001, restarting: true, deferralTime: 60 });
    sim.peer(B, { address: A, asn: 65001, passive: true, gracefulRestart: true });
    sim.peer(A, { address: B, asn: 65002, gracefulRestart: true });
    expect(sim.speaker(A).peers.get(B)?.fsm.config.gracefulRestart?.restarting).toBe(true);
    sim.run();
    expect(sim.speaker(A).deferring).toBe(false);
    expect(sim.speaker(A).peers.get(B)?.fsm.config.gracefulRestart?.restarting).toBe(false);
  });

  it('the deferral timer ends the wait when a peer never comes', () => {
    const r = createSpeaker({ asn: 65001, routerId: A, restarting: true, deferralTime: 5 });
    expect(r.actions).toEqual([{ peer: '', action: { type: 'startTimer', name: 'Deferral', ms: 5000 } }]);
    const sim = new Sim();
    sim.node(A, { asn: 65001, restarting: true, deferralTime: 5 });
    sim.node(B, { asn: 65002 });
    sim.unreachable.add(B);
    sim.peer(A, { address: B, asn: 65002, gracefulRestart: true });
    sim.run();
    sim.advance(6_000);
    expect(sim.speaker(A).deferring).toBe(false);
  });
});

describe('graceful restart, two restarting speakers (RFC 4724 §4.1: no End-of-RIB awaited from a peer with the R bit)', () => {
  it('exchange their routes and End-of-RIBs without waiting for the deferral timer', () => {
    const sim = new Sim();
    sim.node(A, { asn: 65001, restarting: true, deferralTime: 60 });
    sim.node(B, { asn: 65002, restarting: true, deferralTime: 60 });
    sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }], sim.now));
    sim.apply(B, originate(sim.speaker(B), [{ prefix: '10.244.2.0/26' }], sim.now));
    sim.peer(B, { address: A, asn: 65001, passive: true, gracefulRestart: true });
    sim.peer(A, { address: B, asn: 65002, gracefulRestart: true });
    sim.run(); // no timer advanced: the deferral timers (60 s) have not run
    expect(sim.now).toBe(0);
    expect(sim.speaker(A).deferring).toBe(false);
    expect(sim.speaker(B).deferring).toBe(false);
    expect(sim.rib(A)).toEqual({ '10.244.1.0/26': ['local'], '10.244.2.0/26': [B] });
    expect(sim.rib(B)).toEqual({ '10.244.1.0/26': [A], '10.244.2.0/26': ['local'] });
    expect(sim.sent.some((m) => m.from === A && isEoR(m))).toBe(true);
    expect(sim.sent.some((m) => m.from === B && isEoR(m))).toBe(true);
  });

  it('still waits for the End-of-RIB of a peer that is not restarting', () => {
    const C = '10.0.0.3';
    const sim = new Sim();
    sim.node(A, { asn: 65001, restarting: true, deferralTime: 60 });
    sim.node(B, { asn: 65002, restarting: true, deferralTime: 60 });
    sim.node(C, { asn: 65003 });
    sim.unreachable.add(C); // C's session does not come up: A keeps deferring (B's R bit only excuses B)
    sim.peer(A, { address: B, asn: 65002, gracefulRestart: true });
    sim.peer(A, { address: C, asn: 65003, gracefulRestart: true });
    sim.peer(B, { address: A, asn: 65001, passive: true, gracefulRestart: true });
    sim.run();
    expect(sim.speaker(A).deferring).toBe(true);
    expect(sim.speaker(B).deferring).toBe(false);
  });
});

describe('route refresh', () => {
  it('a ROUTE-REFRESH from the peer re-sends everything', () => {
    const sim = grPair();
    const before = sim.sent.length;
    const p = sim.speaker(A).peers.get(B)!;
    // B asks (as a driver would deliver it to A)
    sim.apply(B, { actions: [{ peer: A, action: { type: 'send', conn: sim.speaker(B).peers.get(A)!.fsm.conn, message: { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 } } }], routes: [] });
    sim.run();
    const again = sim.sent.slice(before).filter((m) => m.from === A && m.message.type === 'UPDATE' && m.message.nlri.length > 0);
    expect(again.flatMap((m) => (m.message.type === 'UPDATE' ? m.message.nlri.map((x) => x.addr) : [])).sort()).toEqual(['10.244.1.0', '10.244.2.0']);
    expect(p.out.sent.size).toBe(2);
    // a BoRR marker (RFC 7313) is not a request: nothing is re-sent
    const mark = sim.sent.length;
    sim.apply(B, { actions: [{ peer: A, action: { type: 'send', conn: sim.speaker(B).peers.get(A)!.fsm.conn, message: { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 1 } } }], routes: [] });
    sim.run();
    expect(sim.sent.slice(mark).filter((m) => m.from === A && m.message.type === 'UPDATE')).toEqual([]);
  });
});

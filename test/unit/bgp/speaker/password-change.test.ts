import { describe, expect, it } from 'vitest';
import { originate, speakerStatus, updatePeer } from '../../../../bgp/speaker/index.js';
import type { PeerConfig } from '../../../../bgp/speaker/index.js';
import { Sim } from './sim.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const TO_B: PeerConfig = { address: B, asn: 65002, gracefulRestart: true, password: 'old' };

/** A (active) and B (passive), both originating two routes; graceful restart on both sides unless `gr` is false. */
function pair(gr = true): Sim {
  const sim = new Sim();
  sim.node(A, { asn: 65001, restartTime: 30 });
  sim.node(B, { asn: 65002, restartTime: 30 });
  sim.peer(A, { ...TO_B, gracefulRestart: gr });
  sim.peer(B, { address: A, asn: 65001, passive: true, gracefulRestart: gr, password: 'old' });
  sim.run();
  sim.apply(A, originate(sim.speaker(A), [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/26' }], sim.now));
  sim.apply(B, originate(sim.speaker(B), [{ prefix: '10.244.3.0/26' }, { prefix: '10.244.4.0/26' }], sim.now));
  sim.run();
  return sim;
}

const notifications = (r: ReturnType<typeof updatePeer>): unknown[] =>
  r.actions.filter((x) => x.action.type === 'send' && x.action.message.type === 'NOTIFICATION');

describe('password change on an Established session', () => {
  it('with graceful restart: closes the connection silently, keeps the peer\'s routes stale, reconnects', () => {
    const sim = pair();
    expect(sim.state(A, B)).toBe('Established');
    expect(Object.keys(sim.rib(A)).sort()).toEqual(['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26', '10.244.4.0/26']);
    const conn = sim.speaker(A).peers.get(B)!.fsm.conn;
    const r = updatePeer(sim.speaker(A), { ...TO_B, password: 'new' }, sim.now);
    expect(notifications(r)).toEqual([]);
    expect(r.actions).toContainEqual({ peer: B, action: { type: 'close', conn } });
    expect(r.actions).toContainEqual({ peer: B, action: { type: 'startTimer', name: 'GrRestart', ms: 30_000 } });
    expect(r.actions.some((x) => x.action.type === 'connect')).toBe(true); // at once with the new key
    expect(r.routes).toEqual([]); // nothing removed
    expect(speakerStatus(sim.speaker(A)).peers[0]?.stale).toBe(2);
    expect(sim.speaker(A).peers.get(B)!.config.password).toBe('new');
    sim.apply(A, r);
    sim.run();
    // B saw a TCP drop: A's routes are kept (stale or refreshed), never withdrawn
    expect(sim.sent.filter((m) => m.message.type === 'NOTIFICATION')).toEqual([]);
    expect(sim.routes(B).filter((x) => x.kind === 'remove')).toEqual([]);
    expect(sim.state(A, B)).toBe('Established');
    expect(Object.keys(sim.rib(B)).sort()).toEqual(['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26', '10.244.4.0/26']);
    expect(sim.routes(A).filter((x) => x.kind === 'remove')).toEqual([]);
    expect(speakerStatus(sim.speaker(A)).peers[0]?.stale).toBe(0); // End-of-RIB from B cleared the mark
  });

  it('on the passive side: no NOTIFICATION, routes stale, waits for the peer in Active', () => {
    const sim = pair();
    const r = updatePeer(sim.speaker(B), { address: A, asn: 65001, passive: true, gracefulRestart: true, password: 'new' }, sim.now);
    expect(notifications(r)).toEqual([]);
    expect(r.routes).toEqual([]);
    expect(speakerStatus(sim.speaker(B)).peers[0]?.stale).toBe(2);
    expect(sim.state(B, A)).toBe('Active');
  });

  it('a password and AS change still resets with Cease 6/6 and drops the routes', () => {
    const sim = pair();
    const r = updatePeer(sim.speaker(A), { ...TO_B, password: 'new', asn: 65003 }, sim.now);
    expect(notifications(r)).toHaveLength(1);
    expect(r.actions).toContainEqual(expect.objectContaining({
      action: expect.objectContaining({ type: 'send', message: expect.objectContaining({ type: 'NOTIFICATION', code: 6, subcode: 6 }) }),
    }));
    expect(r.routes.filter((x) => x.kind === 'remove').length).toBeGreaterThan(0);
  });

  it('without graceful restart negotiated a password change resets with Cease 6/6', () => {
    const sim = pair(false);
    const r = updatePeer(sim.speaker(A), { ...TO_B, gracefulRestart: false, password: 'new' }, sim.now);
    expect(notifications(r)).toHaveLength(1);
    expect(r.routes.filter((x) => x.kind === 'remove').length).toBeGreaterThan(0);
  });

  it('a password change on a session not yet Established resets it as before', () => {
    const sim = new Sim();
    sim.node(A, { asn: 65001, restartTime: 30 });
    sim.peer(A, TO_B); // B does not exist: the connect fails
    sim.run();
    const r = updatePeer(sim.speaker(A), { ...TO_B, password: 'new' }, sim.now);
    expect(sim.speaker(A).peers.get(B)!.config.password).toBe('new');
    expect(r.actions.some((x) => x.action.type === 'stopTimer' && x.action.name === 'IdleHold')).toBe(true);
  });
});

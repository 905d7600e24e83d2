import { describe, expect, it } from 'vitest';
import { collisionSurvivor, resolveCollision } from '../../../../bgp/fsm/collision.js';
import { newPeerFsm, step } from '../../../../bgp/fsm/step.js';
import type { FsmConfig, PeerFsm } from '../../../../bgp/fsm/types.js';
import type { OpenMessage } from '../../../../bgp/wire/types.js';

describe('collision resolution (RFC 4271 §6.8)', () => {
  const side = (id: string, asn = 65000) => ({ id, asn });
  it('lower local id keeps the remote-initiated connection', () => {
    expect(collisionSurvivor(side('10.0.0.1'), side('10.0.0.2'))).toBe('in');
    expect(collisionSurvivor(side('10.0.0.2'), side('10.0.0.1'))).toBe('out');
    // numeric, not string, comparison: 9.x < 10.x
    expect(collisionSurvivor(side('9.0.0.1'), side('10.0.0.1'))).toBe('in');
    // the ids decide before the ASNs do
    expect(collisionSurvivor(side('10.0.0.1', 65009), side('10.0.0.2', 65001))).toBe('in');
  });
  it('equal ids: the connection initiated by the larger AS survives (RFC 6286 §2.3)', () => {
    expect(collisionSurvivor(side('10.0.0.9', 65000), side('10.0.0.9', 65001))).toBe('in');
    expect(collisionSurvivor(side('10.0.0.9', 65001), side('10.0.0.9', 65000))).toBe('out');
    expect(collisionSurvivor(side('10.0.0.9', 65001), side('10.0.0.9', 4200000000))).toBe('in');
  });
  it('closes the loser, and the newcomer against Established', () => {
    const out = { conn: 1, direction: 'out' as const, established: false };
    const inn = { conn: 2, direction: 'in' as const, established: false };
    expect(resolveCollision(side('10.0.0.1'), side('10.0.0.2'), out, inn)).toBe(1);
    expect(resolveCollision(side('10.0.0.3'), side('10.0.0.2'), out, inn)).toBe(2);
    expect(resolveCollision(side('10.0.0.1'), side('10.0.0.2'), { ...out, established: true }, inn)).toBe(2);
  });
  it('equal ids: the two speakers close the two ends of the same connection, so one survives', () => {
    // A (AS 65000) and B (AS 65001), both 10.0.0.9; each: existing = its outgoing conn 1, incoming = conn 2
    const out = { conn: 1, direction: 'out' as const, established: false };
    const inn = { conn: 2, direction: 'in' as const, established: false };
    const a = resolveCollision(side('10.0.0.9', 65000), side('10.0.0.9', 65001), out, inn);
    const b = resolveCollision(side('10.0.0.9', 65001), side('10.0.0.9', 65000), out, inn);
    expect(a).toBe(1); // A closes A→B
    expect(b).toBe(2); // B closes its incoming: A→B too; B→A lives
  });
});

const cfg = (routerId: string, localAs = 65000): FsmConfig => ({
  localAs, routerId, peerAs: 65001, holdTime: 90, connectRetryTime: 5, idleHoldTime: 3, passive: false, families: ['ipv4'],
});
const peerOpen: OpenMessage = { type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.5',
  capabilities: [{ code: 65, name: 'FOUR_OCTET_AS', asn: 65001 }] };

function collide(routerId: string, localAs = 65000): { peer: PeerFsm; closed: number[]; ceased: number[] } {
  let p = newPeerFsm(cfg(routerId, localAs));
  p = step(p, { type: 'ManualStart' }, 0).peer;
  p = step(p, { type: 'TcpConnectionConfirmed', direction: 'out', conn: 1 }, 0).peer; // OpenSent on conn 1
  const r1 = step(p, { type: 'TcpConnectionConfirmed', direction: 'in' }, 0); // alt conn 2
  expect(r1.peer.alt?.conn).toBe(2);
  expect(r1.actions).toContainEqual(expect.objectContaining({ type: 'send', conn: 2, message: expect.objectContaining({ type: 'OPEN' }) }));
  const r2 = step(r1.peer, { type: 'BGPOpen', conn: 2, open: peerOpen }, 0);
  const closed = r2.actions.flatMap((a) => (a.type === 'close' ? [a.conn] : []));
  const ceased = r2.actions.flatMap((a) => (a.type === 'send' && a.message.type === 'NOTIFICATION' && a.message.code === 6 && a.message.subcode === 7 ? [a.conn] : []));
  return { peer: r2.peer, closed, ceased };
}

describe('collision inside the FSM', () => {
  it('local id lower: the outgoing connection is dropped with Cease 6/7, the incoming goes on', () => {
    const r = collide('10.0.0.1');
    expect(r.closed).toEqual([1]);
    expect(r.ceased).toEqual([1]);
    expect(r.peer.conn).toBe(2);
    expect(r.peer.state).toBe('OpenConfirm');
    expect(r.peer.alt).toBeUndefined();
  });
  it('local id higher: the incoming connection is dropped, the outgoing waits for its OPEN', () => {
    const r = collide('10.0.0.9');
    expect(r.closed).toEqual([2]);
    expect(r.peer.conn).toBe(1);
    expect(r.peer.state).toBe('OpenSent');
  });
});

describe('collision with equal BGP identifiers (RFC 6286 §2.3)', () => {
  // both speakers use 10.0.0.5 (allowed between ASes); each sees its outgoing conn 1 and the
  // other's connection as its incoming conn 2; the larger AS keeps the connection it initiated
  it('local AS 65000 < peer AS 65001: the outgoing connection is dropped, the incoming goes on', () => {
    const r = collide('10.0.0.5');
    expect(r.closed).toEqual([1]);
    expect(r.ceased).toEqual([1]);
    expect(r.peer.conn).toBe(2);
    expect(r.peer.state).toBe('OpenConfirm');
  });
  it('local AS 65002 > peer AS 65001: the incoming connection is dropped, the outgoing goes on', () => {
    const r = collide('10.0.0.5', 65002);
    expect(r.closed).toEqual([2]);
    expect(r.peer.conn).toBe(1);
    expect(r.peer.state).toBe('OpenSent');
  });
});

describe('collision candidate survives the main connection', () => {
  it('when the main connection fails, the second one carries on in OpenSent', () => {
    let p = newPeerFsm(cfg('10.0.0.1'));
    p = step(p, { type: 'ManualStart' }, 0).peer;
    p = step(p, { type: 'TcpConnectionConfirmed', direction: 'out', conn: 1 }, 0).peer;
    p = step(p, { type: 'TcpConnectionConfirmed', direction: 'in' }, 0).peer;
    const r = step(p, { type: 'TcpConnectionFails', conn: 1 }, 0);
    expect(r.peer).toMatchObject({ state: 'OpenSent', conn: 2, alt: undefined });
    expect(r.actions).toContainEqual({ type: 'startTimer', name: 'Hold', ms: 240_000 });
    const o = step(r.peer, { type: 'BGPOpen', conn: 2, open: peerOpen }, 0);
    expect(o.peer.state).toBe('OpenConfirm');
  });
});

import { describe, expect, it } from 'vitest';
import { newPeerFsm, step } from '../../../../bgp/fsm/step.js';
import type { FsmAction, FsmConfig, FsmEvent, FsmState, PeerFsm } from '../../../../bgp/fsm/types.js';
import type { OpenMessage } from '../../../../bgp/wire/types.js';

const config: FsmConfig = {
  localAs: 65000, routerId: '10.0.0.1', peerAs: 65001, holdTime: 90, connectRetryTime: 5,
  idleHoldTime: 3, passive: false, families: ['ipv4', 'ipv6'],
};

function peerOpen(over: Partial<OpenMessage> = {}): OpenMessage {
  return {
    type: 'OPEN', version: 4, myAs: 65001, holdTime: 30, bgpId: '10.0.0.2',
    capabilities: [{ code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 65, name: 'FOUR_OCTET_AS', asn: 65001 }],
    ...over,
  };
}

/** Drive a fresh FSM into `state` with a connection numbered 1 (outgoing). */
function inState(state: FsmState, cfg: FsmConfig = config): PeerFsm {
  let p = newPeerFsm(cfg);
  if (state === 'Idle') return p;
  p = step(p, { type: 'ManualStart' }, 0).peer;
  if (state === 'Connect' || state === 'Active') {
    return state === 'Connect' ? p : step(p, { type: 'TcpConnectionFails', conn: 1 }, 0).peer;
  }
  p = step(p, { type: 'TcpConnectionConfirmed', direction: 'out', conn: 1, localAddress: '10.0.0.1' }, 0).peer;
  if (state === 'OpenSent') return p;
  p = step(p, { type: 'BGPOpen', conn: 1, open: peerOpen() }, 0).peer;
  if (state === 'OpenConfirm') return p;
  return step(p, { type: 'KeepAliveMsg', conn: 1 }, 0).peer;
}

const kinds = (a: FsmAction[]): string[] => a.map((x) => {
  switch (x.type) {
    case 'send': return `send ${x.message.type}${x.message.type === 'NOTIFICATION' ? ` ${x.message.code}/${x.message.subcode}` : ''}`;
    case 'startTimer': return `start ${x.name}`;
    case 'stopTimer': return `stop ${x.name}`;
    case 'stateChange': return `${x.from}→${x.to}`;
    default: return x.type;
  }
});

const upd = { type: 'UPDATE' as const, withdrawn: [], attributes: {}, nlri: [] };

// One row per (state, event) that matters: the next state and the actions that must appear.
const table: [FsmState, FsmEvent, FsmState, string[]][] = [
  ['Idle', { type: 'ManualStart' }, 'Connect', ['connect', 'start ConnectRetry', 'Idle→Connect']],
  ['Idle', { type: 'AutomaticStart' }, 'Connect', ['connect', 'start ConnectRetry']],
  ['Idle', { type: 'TcpConnectionConfirmed', direction: 'in' }, 'Idle', ['close']],
  ['Idle', { type: 'KeepAliveMsg', conn: 0 }, 'Idle', []],
  ['Connect', { type: 'ConnectRetryTimerExpires' }, 'Connect', ['close', 'connect', 'start ConnectRetry']],
  ['Connect', { type: 'TcpConnectionConfirmed', direction: 'out', conn: 1 }, 'OpenSent', ['stop ConnectRetry', 'send OPEN', 'start Hold', 'Connect→OpenSent']],
  ['Connect', { type: 'TcpConnectionConfirmed', direction: 'in' }, 'OpenSent', ['close', 'stop ConnectRetry', 'send OPEN', 'start Hold']],
  ['Connect', { type: 'TcpConnectionFails', conn: 1 }, 'Active', ['close', 'start ConnectRetry', 'Connect→Active']],
  ['Connect', { type: 'TcpConnectionFails', conn: 7 }, 'Connect', []],
  ['Connect', { type: 'ManualStop' }, 'Idle', ['stop ConnectRetry', 'close', 'Connect→Idle']],
  ['Active', { type: 'ConnectRetryTimerExpires' }, 'Connect', ['connect', 'start ConnectRetry', 'Active→Connect']],
  ['Active', { type: 'TcpConnectionConfirmed', direction: 'in' }, 'OpenSent', ['send OPEN', 'Active→OpenSent']],
  ['Active', { type: 'ManualStop' }, 'Idle', ['Active→Idle']],
  ['OpenSent', { type: 'BGPOpen', conn: 1, open: peerOpen() }, 'OpenConfirm', ['negotiated', 'send KEEPALIVE', 'start Hold', 'start Keepalive', 'OpenSent→OpenConfirm']],
  ['OpenSent', { type: 'BGPOpen', conn: 1, open: peerOpen({ myAs: 65099, capabilities: [] }) }, 'Idle', ['send NOTIFICATION 2/2', 'close', 'OpenSent→Idle', 'start IdleHold']],
  ['OpenSent', { type: 'HoldTimerExpires' }, 'Idle', ['send NOTIFICATION 4/0', 'close']],
  ['OpenSent', { type: 'KeepAliveMsg', conn: 1 }, 'Idle', ['send NOTIFICATION 5/1', 'close']],
  ['OpenSent', { type: 'UpdateMsg', conn: 1, update: upd }, 'Idle', ['send NOTIFICATION 5/1']],
  ['OpenSent', { type: 'TcpConnectionFails', conn: 1 }, 'Active', ['close', 'stop Hold', 'start ConnectRetry', 'OpenSent→Active']],
  ['OpenSent', { type: 'ManualStop' }, 'Idle', ['send NOTIFICATION 6/2', 'close']],
  ['OpenSent', { type: 'NotifMsg', conn: 1, notification: { type: 'NOTIFICATION', code: 2, subcode: 2, data: new Uint8Array() } }, 'Idle', ['close', 'OpenSent→Idle']],
  ['OpenSent', { type: 'MessageError', conn: 1, code: 1, subcode: 2, data: new Uint8Array([0, 5]) }, 'Idle', ['send NOTIFICATION 1/2']],
  ['OpenSent', { type: 'TcpConnectionConfirmed', direction: 'in' }, 'OpenSent', ['send OPEN']],
  ['OpenConfirm', { type: 'KeepAliveMsg', conn: 1 }, 'Established', ['start Hold', 'OpenConfirm→Established', 'established']],
  ['OpenConfirm', { type: 'KeepaliveTimerExpires' }, 'OpenConfirm', ['send KEEPALIVE', 'start Keepalive']],
  ['OpenConfirm', { type: 'HoldTimerExpires' }, 'Idle', ['send NOTIFICATION 4/0']],
  ['OpenConfirm', { type: 'UpdateMsg', conn: 1, update: upd }, 'Idle', ['send NOTIFICATION 5/2']],
  ['OpenConfirm', { type: 'BGPOpen', conn: 1, open: peerOpen() }, 'Idle', ['send NOTIFICATION 5/2']],
  ['OpenConfirm', { type: 'TcpConnectionFails', conn: 1 }, 'Idle', ['close', 'OpenConfirm→Idle']],
  ['Established', { type: 'UpdateMsg', conn: 1, update: upd }, 'Established', ['start Hold', 'deliverUpdate']],
  ['Established', { type: 'RouteRefreshMsg', conn: 1, refresh: { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 } }, 'Established', ['deliverRefresh']],
  ['Established', { type: 'KeepAliveMsg', conn: 1 }, 'Established', ['start Hold']],
  ['Established', { type: 'KeepaliveTimerExpires' }, 'Established', ['send KEEPALIVE', 'start Keepalive']],
  ['Established', { type: 'HoldTimerExpires' }, 'Idle', ['send NOTIFICATION 4/0', 'close', 'Established→Idle', 'down']],
  ['Established', { type: 'BGPOpen', conn: 1, open: peerOpen() }, 'Idle', ['send NOTIFICATION 5/3', 'down']],
  ['Established', { type: 'NotifMsg', conn: 1, notification: { type: 'NOTIFICATION', code: 6, subcode: 2, data: new Uint8Array() } }, 'Idle', ['close', 'down']],
  ['Established', { type: 'TcpConnectionFails', conn: 1 }, 'Idle', ['close', 'down']],
  ['Established', { type: 'TcpConnectionFails', conn: 9 }, 'Established', []],
  ['Established', { type: 'ManualStop', message: 'bye' }, 'Idle', ['send NOTIFICATION 6/2', 'close', 'down']],
  ['Established', { type: 'Cease', subcode: 1, data: new Uint8Array([0, 1, 1, 0, 0, 0, 5]) }, 'Idle', ['send NOTIFICATION 6/1', 'down']],
  ['Established', { type: 'TcpConnectionConfirmed', direction: 'in' }, 'Established', ['send NOTIFICATION 6/7', 'close']],
];

describe('FSM transition table (RFC 4271 §8.2.2)', () => {
  it.each(table)('%s + %o → %s', (from, ev, to, must) => {
    const r = step(inState(from), ev, 1000);
    expect(r.peer.state).toBe(to);
    const got = kinds(r.actions);
    let at = -1;
    for (const m of must) { // in this order
      const i = got.indexOf(m, at + 1);
      expect(i, `${m} in ${JSON.stringify(got)}`).toBeGreaterThan(at);
      at = i;
    }
    if (must.length === 0) expect(got).toEqual([]);
  });

  it('records since and a reason on every state change', () => {
    const r = step(inState('Established'), { type: 'HoldTimerExpires' }, 4242);
    expect(r.peer.since).toBe(4242);
    expect(r.peer.reason).toEqual({ kind: 'hold-timer-expired' });
    const change = r.actions.find((a) => a.type === 'stateChange');
    expect(change).toMatchObject({ from: 'Established', to: 'Idle', reason: { kind: 'hold-timer-expired' } });
  });

  it('restarts automatically after IdleHold, but not after ManualStop', () => {
    const down = step(inState('Established'), { type: 'HoldTimerExpires' }, 0).peer;
    expect(step(down, { type: 'IdleHoldTimerExpires' }, 1).peer.state).toBe('Connect');
    const stopped = step(inState('Established'), { type: 'ManualStop' }, 0);
    expect(kinds(stopped.actions)).not.toContain('start IdleHold');
    expect(step(stopped.peer, { type: 'IdleHoldTimerExpires' }, 1).peer.state).toBe('Idle');
  });

  it('a passive peer goes straight back to Active when its session ends', () => {
    const cfg = { ...config, passive: true };
    let p = step(newPeerFsm(cfg), { type: 'AutomaticStart' }, 0).peer;
    p = step(p, { type: 'TcpConnectionConfirmed', direction: 'in' }, 0).peer;
    const r = step(p, { type: 'HoldTimerExpires' }, 0);
    expect(r.peer.state).toBe('Active');
    expect(kinds(r.actions)).toEqual(expect.arrayContaining(['OpenSent→Idle', 'Idle→Active']));
    expect(kinds(r.actions)).not.toContain('start IdleHold');
  });

  it('a passive peer waits in Active and never connects', () => {
    const cfg = { ...config, passive: true };
    const r = step(newPeerFsm(cfg), { type: 'AutomaticStart' }, 0);
    expect(r.peer.state).toBe('Active');
    expect(kinds(r.actions)).not.toContain('connect');
    const r2 = step(r.peer, { type: 'ConnectRetryTimerExpires' }, 1);
    expect(r2.peer.state).toBe('Active');
    expect(kinds(r2.actions)).not.toContain('connect');
    const r3 = step(r.peer, { type: 'TcpConnectionConfirmed', direction: 'in' }, 2);
    expect(r3.peer.state).toBe('OpenSent');
    expect(r3.peer.conn).toBeGreaterThan(0);
  });

  it('the NOTIFICATION sent on an OPEN error carries the code, subcode and data', () => {
    const r = step(inState('OpenSent'), { type: 'BGPOpen', conn: 1, open: peerOpen({ version: 3 }) }, 0);
    const sent = r.actions.find((a) => a.type === 'send');
    expect(sent).toMatchObject({ conn: 1, message: { type: 'NOTIFICATION', code: 2, subcode: 1, data: new Uint8Array([0, 4]) } });
    expect(r.peer.reason).toMatchObject({ kind: 'notification-sent', code: 2, subcode: 1 });
  });

  it('hold time 0 negotiates no hold timer and no keepalives', () => {
    const p = step(inState('OpenSent', { ...config, holdTime: 0 }), { type: 'BGPOpen', conn: 1, open: peerOpen() }, 0);
    expect(p.peer.negotiated?.holdTime).toBe(0);
    expect(kinds(p.actions)).not.toContain('start Keepalive');
    expect(kinds(p.actions)).toContain('stop Hold');
    const e = step(p.peer, { type: 'KeepAliveMsg', conn: 1 }, 0);
    expect(kinds(e.actions)).not.toContain('start Hold');
    expect(step(e.peer, { type: 'KeepaliveTimerExpires' }, 0).actions).toEqual([]);
  });

  it('hold time is the smaller of both and keepalive a third of it, in milliseconds', () => {
    const r = step(inState('OpenSent'), { type: 'BGPOpen', conn: 1, open: peerOpen({ holdTime: 9 }) }, 0);
    expect(r.actions).toContainEqual({ type: 'startTimer', name: 'Hold', ms: 9000 });
    expect(r.actions).toContainEqual({ type: 'startTimer', name: 'Keepalive', ms: 3000 });
  });
});

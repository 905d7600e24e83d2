/**
 * The RFC 4271 §8.2.2 transition function: `step(peer, event, now)` returns the
 * next `PeerFsm` value and the actions the driver must perform, in order. Timers
 * are named; `startTimer` (re)starts, `stopTimer` cancels; expiries come back as
 * events. Simplifications: no DelayOpen, no peer oscillation damping; an
 * automatic restart after the session drops waits `idleHoldTime` (the IdleHold
 * timer). A collision's second connection (§6.8) lives in `alt` until its OPEN
 * decides which connection survives.
 */
import type { Message } from '../wire/types.js';
import { resolveCollision } from './collision.js';
import { buildOpen, checkOpen, OPEN_SENT_HOLD_MS } from './open.js';
import type { Reason } from './reasons.js';
import type { FsmAction, FsmEvent, FsmState, Negotiated, PeerFsm, StepResult, TimerName } from './types.js';
import type { FsmConfig } from './types.js';

type Mut = { -readonly [K in keyof PeerFsm]: PeerFsm[K] };

export function newPeerFsm(config: FsmConfig, now = 0): PeerFsm {
  return { config, state: 'Idle', conn: 0, connSeq: 0, autoStart: false, since: now, reason: { kind: 'initial' } };
}

const KEEPALIVE: Message = { type: 'KEEPALIVE' };
const NO_DATA = new Uint8Array(0);
const notif = (code: number, subcode: number, data: Uint8Array = NO_DATA): Message =>
  ({ type: 'NOTIFICATION', code, subcode, data });

/** Maps a decoded message on `conn` to its FSM event. */
export function messageEvent(conn: number, m: Message): FsmEvent {
  switch (m.type) {
    case 'OPEN': return { type: 'BGPOpen', conn, open: m };
    case 'KEEPALIVE': return { type: 'KeepAliveMsg', conn };
    case 'UPDATE': return { type: 'UpdateMsg', conn, update: m };
    case 'NOTIFICATION': return { type: 'NotifMsg', conn, notification: m };
    case 'ROUTE-REFRESH': return { type: 'RouteRefreshMsg', conn, refresh: m };
  }
}

export function step(peer: PeerFsm, ev: FsmEvent, now: number): StepResult {
  const p: Mut = { ...peer };
  const out: FsmAction[] = [];
  const c = p.config;
  const timer = (name: TimerName, seconds: number): void => { out.push({ type: 'startTimer', name, ms: seconds * 1000 }); };
  const stop = (...names: TimerName[]): void => { for (const name of names) out.push({ type: 'stopTimer', name }); };
  const send = (conn: number, message: Message): void => { out.push({ type: 'send', conn, message }); };

  const goto = (to: FsmState, reason: Reason): void => {
    if (to === p.state) return;
    out.push({ type: 'stateChange', from: p.state, to, reason });
    if (p.state === 'Established') out.push({ type: 'down', reason });
    p.state = to; p.since = now; p.reason = reason;
  };
  const closeAlt = (cease: boolean): void => {
    if (!p.alt) return;
    if (cease) send(p.alt.conn, notif(6, 7));
    out.push({ type: 'close', conn: p.alt.conn });
    p.alt = undefined;
  };
  const toIdle = (reason: Reason): void => {
    stop('ConnectRetry', 'Hold', 'Keepalive');
    if (p.conn) out.push({ type: 'close', conn: p.conn });
    closeAlt(false);
    p.conn = 0; p.direction = undefined; p.negotiated = undefined; p.localAddress = undefined;
    goto('Idle', reason);
    if (p.autoStart) {
      // a passive peer only listens: waiting in Idle would just refuse the peer's next attempt
      if (c.passive) goto('Active', { kind: 'automatic-start' });
      else timer('IdleHold', c.idleHoldTime);
    }
  };
  const notifyIdle = (code: number, subcode: number, data: Uint8Array = NO_DATA, detail?: string): void => {
    if (p.conn) send(p.conn, notif(code, subcode, data));
    toIdle({ kind: 'notification-sent', code, subcode, data, ...(detail ? { detail } : {}) });
  };
  const start = (reason: Reason): void => {
    if (c.passive) { goto('Active', reason); return; }
    p.connSeq += 1; p.conn = p.connSeq; p.direction = 'out';
    out.push({ type: 'connect', conn: p.conn });
    timer('ConnectRetry', c.connectRetryTime);
    goto('Connect', reason);
  };
  const openSent = (conn: number, direction: 'in' | 'out', localAddress: string | undefined): void => {
    p.conn = conn; p.direction = direction; p.localAddress = localAddress;
    stop('ConnectRetry');
    send(conn, buildOpen(c));
    out.push({ type: 'startTimer', name: 'Hold', ms: OPEN_SENT_HOLD_MS });
    goto('OpenSent', { kind: 'tcp-connected', direction });
  };
  const openConfirm = (neg: Negotiated): void => {
    p.negotiated = neg;
    out.push({ type: 'negotiated', conn: p.conn, negotiated: neg });
    send(p.conn, KEEPALIVE);
    if (neg.holdTime > 0) { timer('Hold', neg.holdTime); timer('Keepalive', neg.keepaliveTime); } else stop('Hold');
    goto('OpenConfirm', { kind: 'open-received' });
  };
  const restartHold = (): void => { if (p.negotiated && p.negotiated.holdTime > 0) timer('Hold', p.negotiated.holdTime); };
  const done = (): StepResult => ({ peer: p, actions: out });

  // ---- events on the collision candidate connection ----
  if ('conn' in ev && ev.type !== 'TcpConnectionConfirmed' && p.alt && ev.conn === p.alt.conn) {
    const alt = p.alt;
    switch (ev.type) {
      case 'BGPOpen': {
        const v = checkOpen(c, ev.open);
        if (!v.ok) { send(alt.conn, v.notification); closeAlt(false); return done(); }
        const loser = resolveCollision({ id: c.routerId, asn: c.localAs }, { id: ev.open.bgpId, asn: v.negotiated.peerAs },
          { conn: p.conn, direction: p.direction ?? 'out', established: p.state === 'Established' },
          { conn: alt.conn, direction: alt.direction, established: false });
        if (loser === alt.conn) { closeAlt(true); return done(); }
        // the new connection wins: drop the old one and carry on with the new
        send(p.conn, notif(6, 7));
        out.push({ type: 'close', conn: p.conn });
        p.conn = alt.conn; p.direction = alt.direction; p.localAddress = alt.localAddress; p.alt = undefined;
        openConfirm(v.negotiated);
        return done();
      }
      case 'KeepAliveMsg': case 'UpdateMsg': case 'RouteRefreshMsg':
        send(alt.conn, notif(5, 1)); closeAlt(false); return done();
      case 'MessageError':
        send(alt.conn, notif(ev.code, ev.subcode, ev.data)); closeAlt(false); return done();
      case 'NotifMsg': case 'TcpConnectionFails':
        closeAlt(false); return done();
    }
  }
  // ---- events on a connection we no longer hold: ignore ----
  if ('conn' in ev && ev.type !== 'TcpConnectionConfirmed' && ev.conn !== p.conn) return done();

  switch (ev.type) {
    case 'ManualStart': case 'AutomaticStart':
      p.autoStart = true;
      if (p.state === 'Idle') { stop('IdleHold'); start({ kind: ev.type === 'ManualStart' ? 'manual-start' : 'automatic-start' }); }
      return done();
    case 'IdleHoldTimerExpires':
      if (p.state === 'Idle' && p.autoStart) start({ kind: 'automatic-start' });
      return done();
    case 'ManualStop': {
      p.autoStart = false;
      stop('IdleHold');
      const reason: Reason = { kind: 'manual-stop', ...(ev.message ? { message: ev.message } : {}) };
      if (p.state === 'OpenSent' || p.state === 'OpenConfirm' || p.state === 'Established') {
        send(p.conn, notif(6, 2));
      }
      if (p.state !== 'Idle') toIdle(reason);
      return done();
    }
    case 'Cease':
      if (ev.stop) { p.autoStart = false; stop('IdleHold'); }
      if (p.state === 'Idle') return done();
      if (p.state === 'Connect' || p.state === 'Active') { toIdle({ kind: 'manual-stop', message: `Cease 6/${ev.subcode} before the session was up` }); return done(); }
      notifyIdle(6, ev.subcode, ev.data ?? NO_DATA);
      return done();
    case 'ConnectRetryTimerExpires':
      if (p.state === 'Connect') {
        out.push({ type: 'close', conn: p.conn });
        p.connSeq += 1; p.conn = p.connSeq;
        out.push({ type: 'connect', conn: p.conn });
        timer('ConnectRetry', c.connectRetryTime);
      } else if (p.state === 'Active' && !c.passive) {
        start({ kind: 'connect-retry-expired' });
      }
      return done();
    case 'HoldTimerExpires':
      if (p.state === 'OpenSent' || p.state === 'OpenConfirm' || p.state === 'Established') {
        send(p.conn, notif(4, 0));
        toIdle({ kind: 'hold-timer-expired' });
      }
      return done();
    case 'KeepaliveTimerExpires':
      if ((p.state === 'OpenConfirm' || p.state === 'Established') && p.negotiated && p.negotiated.keepaliveTime > 0) {
        send(p.conn, KEEPALIVE);
        timer('Keepalive', p.negotiated.keepaliveTime);
      }
      return done();
    case 'TcpConnectionConfirmed': {
      let conn = ev.conn ?? 0;
      if (ev.direction === 'in') { p.connSeq += 1; conn = p.connSeq; }
      if (ev.direction === 'out') {
        if (p.state === 'Connect' && conn === p.conn) openSent(conn, 'out', ev.localAddress);
        else if (conn !== p.conn && conn !== p.alt?.conn) out.push({ type: 'close', conn });
        return done();
      }
      switch (p.state) {
        case 'Idle': out.push({ type: 'close', conn }); break;
        case 'Connect': out.push({ type: 'close', conn: p.conn }); openSent(conn, 'in', ev.localAddress); break;
        case 'Active': openSent(conn, 'in', ev.localAddress); break;
        case 'OpenSent': case 'OpenConfirm':
          if (p.alt) { out.push({ type: 'close', conn }); break; }
          p.alt = { conn, direction: 'in', ...(ev.localAddress ? { localAddress: ev.localAddress } : {}) };
          send(conn, buildOpen(c));
          break;
        case 'Established':
          if (p.negotiated?.gracefulRestart) {
            // RFC 4724 §4.2: the peer restarted before we noticed; the old session is gone
            const auto = p.autoStart;
            p.autoStart = false;
            toIdle({ kind: 'peer-restarted' });
            p.autoStart = auto;
            openSent(conn, 'in', ev.localAddress);
          } else {
            send(conn, notif(6, 7)); out.push({ type: 'close', conn });
          }
          break;
      }
      return done();
    }
    case 'TcpConnectionFails':
      if (p.alt && (p.state === 'OpenSent' || p.state === 'OpenConfirm')) {
        // the collision candidate (OPEN sent, none received yet) carries on as the main connection
        out.push({ type: 'close', conn: p.conn });
        const alt = p.alt; p.alt = undefined;
        p.conn = alt.conn; p.direction = alt.direction; p.localAddress = alt.localAddress; p.negotiated = undefined;
        stop('Keepalive');
        out.push({ type: 'startTimer', name: 'Hold', ms: OPEN_SENT_HOLD_MS });
        goto('OpenSent', { kind: 'tcp-failed' });
        return done();
      }
      if (p.state === 'Connect' || p.state === 'OpenSent') {
        out.push({ type: 'close', conn: p.conn });
        p.conn = 0;
        stop('Hold');
        if (!c.passive) timer('ConnectRetry', c.connectRetryTime);
        goto('Active', { kind: 'tcp-failed' });
      } else if (p.state !== 'Idle' && p.state !== 'Active') {
        toIdle({ kind: 'tcp-failed' });
      }
      return done();
    case 'BGPOpen':
      if (p.state === 'OpenSent') {
        const v = checkOpen(c, ev.open);
        if (!v.ok) { notifyIdle(2, v.notification.subcode, v.notification.data, v.detail); return done(); }
        openConfirm(v.negotiated);
      } else if (p.state === 'OpenConfirm') notifyIdle(5, 2, NO_DATA, 'OPEN in OpenConfirm');
      else if (p.state === 'Established') notifyIdle(5, 3, NO_DATA, 'OPEN in Established');
      return done();
    case 'KeepAliveMsg':
      if (p.state === 'OpenSent') notifyIdle(5, 1, NO_DATA, 'KEEPALIVE in OpenSent');
      else if (p.state === 'OpenConfirm' && p.negotiated) {
        restartHold();
        closeAlt(true);
        goto('Established', { kind: 'keepalive-received' });
        out.push({ type: 'established', conn: p.conn, negotiated: p.negotiated });
      } else if (p.state === 'Established') restartHold();
      return done();
    case 'UpdateMsg': case 'RouteRefreshMsg':
      if (p.state === 'OpenSent') notifyIdle(5, 1, NO_DATA, `${ev.type === 'UpdateMsg' ? 'UPDATE' : 'ROUTE-REFRESH'} in OpenSent`);
      else if (p.state === 'OpenConfirm') notifyIdle(5, 2, NO_DATA, `${ev.type === 'UpdateMsg' ? 'UPDATE' : 'ROUTE-REFRESH'} in OpenConfirm`);
      else if (p.state === 'Established') {
        restartHold();
        out.push(ev.type === 'UpdateMsg' ? { type: 'deliverUpdate', update: ev.update } : { type: 'deliverRefresh', refresh: ev.refresh });
      }
      return done();
    case 'NotifMsg':
      if (p.state !== 'Idle' && p.state !== 'Connect' && p.state !== 'Active') {
        const n = ev.notification;
        toIdle({ kind: 'notification-received', code: n.code, subcode: n.subcode, data: n.data });
      }
      return done();
    case 'MessageError':
      if (p.state === 'OpenSent' || p.state === 'OpenConfirm' || p.state === 'Established') {
        notifyIdle(ev.code, ev.subcode, ev.data ?? NO_DATA);
      }
      return done();
  }
}

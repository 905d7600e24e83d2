/**
 * Why the FSM changed state (GoBGP's fsmStateReason): every `stateChange` and
 * `down` action carries one, the shell prints it with `describeReason`, and
 * `margay bgp status` shows the last one per peer.
 */

export type Reason =
  | { kind: 'initial' }
  | { kind: 'manual-start' }
  | { kind: 'automatic-start' }
  | { kind: 'manual-stop'; message?: string }
  | { kind: 'connect-retry-expired' }
  | { kind: 'tcp-connected'; direction: 'in' | 'out' }
  | { kind: 'tcp-failed' }
  | { kind: 'open-received' }
  | { kind: 'keepalive-received' }
  | { kind: 'hold-timer-expired' }
  | { kind: 'notification-received'; code: number; subcode: number; data?: Uint8Array }
  /** we sent a NOTIFICATION (OPEN error, FSM error, message error, cease) */
  | { kind: 'notification-sent'; code: number; subcode: number; data?: Uint8Array; detail?: string }
  | { kind: 'collision-lost' }
  /** RFC 4724 §4.2: a new connection while Established with graceful restart: the peer restarted */
  | { kind: 'peer-restarted' };

const CODES: Record<number, [string, Record<number, string>]> = {
  1: ['Message Header Error', { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' }],
  2: ['OPEN Message Error', {
    1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter', 6: 'Unacceptable Hold Time', 7: 'Unsupported Capability',
  }],
  3: ['UPDATE Message Error', {
    1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute', 9: 'Optional Attribute Error', 10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  }],
  4: ['Hold Timer Expired', {}],
  5: ['Finite State Machine Error', {
    1: 'Unexpected Message in OpenSent', 2: 'Unexpected Message in OpenConfirm', 3: 'Unexpected Message in Established',
  }],
  6: ['Cease', {
    1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured',
    4: 'Administrative Reset', 5: 'Connection Rejected', 6: 'Other Configuration Change',
    7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset',
  }],
};

export function notificationName(code: number, subcode: number): string {
  const entry = CODES[code];
  if (!entry) return `code ${code}/${subcode}`;
  const sub = entry[1][subcode];
  return sub ? `${entry[0]}: ${sub}` : subcode === 0 ? entry[0] : `${entry[0]} (subcode ${subcode})`;
}

function hex(data: Uint8Array | undefined): string {
  if (!data || data.length === 0) return '';
  let s = '';
  for (const b of data) s += b.toString(16).padStart(2, '0');
  return ` data ${s}`;
}

export function describeReason(r: Reason): string {
  switch (r.kind) {
    case 'initial': return 'initial state';
    case 'manual-start': return 'manual start';
    case 'automatic-start': return 'automatic start';
    case 'manual-stop': return r.message ? `manual stop: ${r.message}` : 'manual stop';
    case 'connect-retry-expired': return 'connect retry timer expired';
    case 'tcp-connected': return `TCP connection ${r.direction === 'in' ? 'accepted' : 'established'}`;
    case 'tcp-failed': return 'TCP connection failed or closed';
    case 'open-received': return 'OPEN received';
    case 'keepalive-received': return 'KEEPALIVE received';
    case 'hold-timer-expired': return 'hold timer expired';
    case 'notification-received':
      return `NOTIFICATION received ${r.code}/${r.subcode} (${notificationName(r.code, r.subcode)})${hex(r.data)}`;
    case 'notification-sent':
      return `NOTIFICATION sent ${r.code}/${r.subcode} (${notificationName(r.code, r.subcode)})${hex(r.data)}` +
        (r.detail ? `: ${r.detail}` : '');
    case 'collision-lost': return 'connection collision resolved in favour of the other connection';
    case 'peer-restarted': return 'peer restarted (new connection while Established, graceful restart)';
  }
}

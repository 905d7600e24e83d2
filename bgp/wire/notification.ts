/**
 * NOTIFICATION error code and subcode names (RFC 4271 §4.5, RFC 4486 Cease
 * subcodes, RFC 7313 ROUTE-REFRESH error, RFC 5492 Unsupported Capability,
 * RFC 8203/9003 shutdown communication).
 */

const CODES: Readonly<Record<number, { name: string; subcodes: Readonly<Record<number, string>> }>> = {
  1: { name: 'Message Header Error', subcodes: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' } },
  2: {
    name: 'OPEN Message Error',
    subcodes: {
      1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier', 4: 'Unsupported Optional Parameter',
      6: 'Unacceptable Hold Time', 7: 'Unsupported Capability', 11: 'Role Mismatch',
    },
  },
  3: {
    name: 'UPDATE Message Error',
    subcodes: {
      1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute',
      4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute', 8: 'Invalid NEXT_HOP Attribute',
      9: 'Optional Attribute Error', 10: 'Invalid Network Field', 11: 'Malformed AS_PATH',
    },
  },
  4: { name: 'Hold Timer Expired', subcodes: {} },
  5: {
    name: 'Finite State Machine Error',
    subcodes: { 1: 'Receive Unexpected Message in OpenSent State', 2: 'Receive Unexpected Message in OpenConfirm State', 3: 'Receive Unexpected Message in Established State' },
  },
  6: {
    name: 'Cease',
    subcodes: {
      1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured', 4: 'Administrative Reset',
      5: 'Connection Rejected', 6: 'Other Configuration Change', 7: 'Connection Collision Resolution', 8: 'Out of Resources',
      9: 'Hard Reset', 10: 'BFD Down',
    },
  },
  7: { name: 'ROUTE-REFRESH Message Error', subcodes: { 1: 'Invalid Message Length' } },
  8: { name: 'Send Hold Timer Expired', subcodes: {} }, // RFC 9687
};

export function errorCodeName(code: number): string {
  return CODES[code]?.name ?? `Unknown error code ${code}`;
}

/** The subcode's name; "Unspecific" for 0; undefined when it is not registered. */
export function errorSubcodeName(code: number, subcode: number): string | undefined {
  if (subcode === 0) return 'Unspecific';
  return CODES[code]?.subcodes[subcode];
}

/** "Cease / Administrative Shutdown" style. */
export function notificationName(code: number, subcode: number): string {
  const sub = errorSubcodeName(code, subcode);
  return sub === undefined ? `${errorCodeName(code)} / subcode ${subcode}` : `${errorCodeName(code)} / ${sub}`;
}

/** RFC 9003 shutdown communication of Cease 2 / 4, when the data holds one. */
export function shutdownCommunication(code: number, subcode: number, data: Uint8Array): string | undefined {
  if (code !== 6 || (subcode !== 2 && subcode !== 4) || data.length === 0) return undefined;
  const len = data[0] as number;
  if (len === 0 || len + 1 > data.length || len > 255) return undefined;
  return new TextDecoder('utf-8', { fatal: false }).decode(data.subarray(1, 1 + len));
}

/**
 * Errors as protocol values. A WireError carries what the peer must be told (the
 * NOTIFICATION code, subcode and data of RFC 4271 §6) and what the receiver must do
 * (the RFC 7606 action). Decode entry points return these; they never throw.
 */

/** RFC 7606 §2, ordered from weakest to strongest. */
export type ErrorAction = 'attribute-discard' | 'treat-as-withdraw' | 'session-reset';

const STRENGTH: Readonly<Record<ErrorAction, number>> = {
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'session-reset': 3,
};

export class WireError extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    readonly data: Uint8Array,
    readonly action: ErrorAction,
    message: string,
    /** the path attribute type code the error is about, when there is one */
    readonly attrCode?: number,
  ) {
    super(message);
    this.name = 'WireError';
  }

  /** The same error with another RFC 7606 action. */
  withAction(action: ErrorAction): WireError {
    return new WireError(this.code, this.subcode, this.data, action, this.message, this.attrCode);
  }
}

const EMPTY = new Uint8Array(0);

export function wireError(code: number, subcode: number, message: string, opts: { data?: Uint8Array; action?: ErrorAction; attrCode?: number } = {}): WireError {
  return new WireError(code, subcode, opts.data ?? EMPTY, opts.action ?? 'session-reset', message, opts.attrCode);
}

/** "Keep the strongest" (RFC 7606 §3): the error whose action is strongest; the first on a tie. */
export function strongest(a: WireError | undefined, b: WireError): WireError {
  if (a === undefined) return b;
  return STRENGTH[b.action] > STRENGTH[a.action] ? b : a;
}

export function isStronger(a: ErrorAction, b: ErrorAction): boolean {
  return STRENGTH[a] > STRENGTH[b];
}

/** Two octets, big-endian: the data of Bad Message Length, Unsupported Version. */
export function u16Data(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

/**
 * The CNI error catalogue. Codes 1–99 are the CNI spec's well-known codes
 * (SPEC.md "Error": 1 incompatible version, 2 unsupported field, 3 unknown
 * container, 4 invalid environment variables, 5 I/O failure, 6 decode failure,
 * 7 invalid network config, 11 try again later); 100+ are margay's own. Every
 * error is printed on stdout as {cniVersion, code, msg, details} and the plugin
 * exits non-zero.
 */
export const CNI_ERRORS = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  /** Every eligible IPPool is full. */
  POOL_EXHAUSTED: 100,
  /** No enabled IPPool selects this node. */
  NO_POOL: 101,
  /** Creating or configuring the pod's interface, addresses or routes failed. */
  DATAPLANE_FAILURE: 102,
  /** CHECK found the pod's networking not as ADD left it. */
  CHECK_FAILED: 103,
  /** The agent failed in a way it did not expect (a bug; see its log). */
  AGENT_INTERNAL: 104,
  /** The agent answered something margay-cni does not understand (version skew). */
  AGENT_PROTOCOL: 105,
} as const;

export type CniErrorName = keyof typeof CNI_ERRORS;
export type CniErrorCode = (typeof CNI_ERRORS)[CniErrorName];

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export class CniError extends Error {
  readonly code: CniErrorCode;
  constructor(readonly codeName: CniErrorName, message: string, readonly details?: string) {
    super(message);
    this.name = 'CniError';
    this.code = CNI_ERRORS[codeName];
  }

  toJson(cniVersion: string): CniErrorJson {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export function codeName(code: number): CniErrorName | undefined {
  return (Object.keys(CNI_ERRORS) as CniErrorName[]).find((k) => CNI_ERRORS[k] === code);
}
